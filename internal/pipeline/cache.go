package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// restoreLimits bound what a restore may write: GitHub's cache holds 10 GB per
// repository, so an entry beyond that is not one we saved.
var restoreLimits = archive.Limits{MaxBytes: 16 << 30, MaxFiles: 4 << 20}

// entries are the cache entries, in restore and save order.
var entries = []string{cache.EntryRegistry, cache.EntryTarget}

// restored says what a restore found: the key matched per entry.
type restored map[string]string

// exact reports whether every entry matched its primary key.
func (r restored) exact(parts cache.KeyParts) bool {
	for _, e := range entries {
		if r[e] != cache.Keys(e, parts)[0] {
			return false
		}
	}
	return true
}

// restore turns the cache's entries into the -tmp image, so the S2I build is
// incremental from them. Any failure is a warning: the build goes on cold with
// whatever entries did restore, never with a half-extracted one.
func (p *Pipeline) restore(ctx context.Context, builderImage, tmpImage string, parts cache.KeyParts, labels map[string]string) restored {
	found := restored{}
	dir, err := os.MkdirTemp(p.TempDir, "rust-s2i-musl-restore-")
	if err != nil {
		p.Report.Warn("cache restore skipped: %v", err)
		return found
	}
	defer os.RemoveAll(dir)

	var dirs []string
	for _, entry := range entries {
		// Each entry is staged apart, so a bad one is dropped whole. Its names are
		// relative to the build user's home, as tmpimage.Export wrote them.
		dest := filepath.Join(dir, entry)
		key, err := p.restoreEntry(ctx, entry, cache.Keys(entry, parts), dest)
		switch {
		case errors.Is(err, cache.ErrNotFound):
			fmt.Fprintf(p.Log, "cache: no %s entry\n", entry)
		case err != nil:
			p.Report.Warn("cache entry %s not restored, building without it: %v", entry, err)
			os.RemoveAll(dest)
		default:
			fmt.Fprintf(p.Log, "cache: restored %s from %s\n", entry, key)
			found[entry] = key
			dirs = append(dirs, dest)
		}
	}
	if len(dirs) == 0 {
		return found
	}
	if _, err := tmpimage.FromEntries(ctx, p.Engine, builderImage, tmpImage, labels, dirs...); err != nil {
		p.Report.Warn("cache restored but not usable, building without it: %v", err)
		return restored{}
	}
	return found
}

// restoreEntry downloads, decompresses and extracts one entry into dest, and
// verifies the whole archive (its checksum, nothing after its end): an error means
// dest holds nothing usable.
func (p *Pipeline) restoreEntry(ctx context.Context, entry string, keys []string, dest string) (string, error) {
	key, content, err := p.Cache.Load(ctx, keys)
	if err != nil {
		return "", err
	}
	defer content.Close()
	if err := os.Mkdir(dest, 0o755); err != nil {
		return key, err
	}
	if err := archive.ExtractCompressed(content, dest, restoreLimits); err != nil {
		return key, fmt.Errorf("%s: %w", key, err)
	}
	return key, nil
}

// save stores the -tmp image's state as the cache's entries, except those the cache
// already has under their primary key. Failures are warnings.
func (p *Pipeline) save(ctx context.Context, tmpImage string, parts cache.KeyParts, own []string, found restored) {
	for _, entry := range entries {
		key := cache.Keys(entry, parts)[0]
		if found[entry] == key {
			continue // an exact hit is not saved again
		}
		if _, content, err := p.Cache.Load(ctx, []string{key}); err == nil {
			content.Close()
			continue // another build saved it meanwhile
		}
		size, err := p.saveEntry(ctx, tmpImage, entry, key, own)
		switch {
		case errors.Is(err, cache.ErrExists):
			fmt.Fprintf(p.Log, "cache: %s already saved by another build\n", key)
		case err != nil:
			p.Report.Warn("cache entry %s not saved: %v", entry, err)
		default:
			fmt.Fprintf(p.Log, "cache: saved %s (%d bytes)\n", key, size)
		}
	}
}

// saveEntry compresses the entry into a temporary file, which the Actions cache
// needs for its parallel chunked upload, and saves it.
func (p *Pipeline) saveEntry(ctx context.Context, tmpImage, entry, key string, own []string) (int64, error) {
	f, err := os.CreateTemp(p.TempDir, "rust-s2i-musl-save-*.tar.zst")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	zw, err := archive.Compress(f)
	if err != nil {
		return 0, err
	}
	if err := tmpimage.Export(ctx, p.Engine, tmpImage, entry, own, zw); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compressing: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), p.Cache.Save(ctx, key, fileBlob{f, st.Size()})
}

// fileBlob is a saved archive on disk.
type fileBlob struct {
	*os.File
	size int64
}

func (b fileBlob) Size() int64 { return b.size }
