package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// cacheEngine is the part of the Docker client the restore and save stages use.
type cacheEngine interface {
	tmpimage.Engine
	tmpimage.Exporter
	ImageList(ctx context.Context, options client.ImageListOptions) (client.ImageListResult, error)
}

// cacheStage restores the build state from the cache into the -tmp image before
// the build, and saves it back after (Restorer and Saver).
type cacheStage struct {
	logs
	e       cacheEngine
	store   cache.Store // nil: no cache
	tempDir string      // where archives are staged; "" is the system's
}

// Restored is what the restore stage found: the names of this build's cache
// entries, and the key each entry was restored from.
type Restored struct {
	parts cache.KeyParts
	found restored
	on    bool // a cache is in use
}

// Hit reports whether every entry was restored from its primary key.
func (r Restored) Hit() bool { return r.on && r.found.exact(r.parts) }

// MatchedKey is the key the target/ entry was restored from, "" for none.
func (r Restored) MatchedKey() string { return r.found.keys[cache.EntryTarget] }

// Restore implements Restorer. A -tmp image in the daemon is fresher than any
// cache: the cache is read only without one.
func (s *cacheStage) Restore(ctx context.Context, pl *plan.Plan, st *State) Restored {
	if s.store == nil {
		return Restored{}
	}
	r := Restored{parts: s.keyParts(pl, cacheTarget(*st), st.Toolchain), found: restored{}, on: true}
	if st.prev.ID != "" || pl.Clean {
		return r
	}
	end := s.Report.Phase("restore")
	r.found = s.restore(ctx, pl.Builder, pl.TmpImage, r.parts, tmpimage.SourceLabels(pl.Source.Identity, pl.Ref.Own()))
	end()
	// What the restore made; when it made nothing, the name may still be another
	// source's or ref's image, which prepare refused: never build on that.
	if prev, err := s.e.ImageInspect(ctx, pl.TmpImage); err == nil && prev.ID != st.foreign {
		st.prev = prev
	}
	return r
}

// Save implements Saver: the state goes to the cache, unless the build restores
// only. Last, when this build no longer uses any of its images, the -tmp images
// that builds of the same binary at the same time left dangling go: one may have
// taken the tag from this one's result.
func (s *cacheStage) Save(ctx context.Context, pl *plan.Plan, r Restored) {
	switch {
	case !r.on:
	case !pl.CacheSave:
		fmt.Fprintln(s.Log, "cache: restore only (cache-save is false), nothing saved")
	default:
		end := s.Report.Phase("save")
		s.save(ctx, pl.TmpImage, r.parts, s.ownNames(pl), r.found)
		end()
	}
	s.pruneDangling(ctx, pl.TmpImage)
}

// ownNames are the workspace's own crates, left out of the saved build state. A
// remote source is only read inside the build, so nothing is left out.
func (s *cacheStage) ownNames(pl *plan.Plan) []string {
	if pl.Source.Git {
		return nil
	}
	err := pl.Source.WorkspaceErr
	var names []string
	if err == nil {
		names, err = pl.Source.Workspace.OwnNames()
	}
	if err != nil {
		s.Report.Warn("saving the workspace's own artifacts too: %v", err)
	}
	return names
}

// pruneDangling removes the untagged leaf images that S2I made for tag: those of a
// build of the same binary that ran at the same time and lost the tag to another.
// S2I names every image it commits with the io.k8s.display-name label, the tag.
func (s *cacheStage) pruneDangling(ctx context.Context, tag string) {
	list, err := s.e.ImageList(ctx, client.ImageListOptions{
		Filters: make(client.Filters).Add("dangling", "true").Add("label", tmpimage.LabelDisplayName+"="+tag),
	})
	if err != nil {
		return
	}
	for _, img := range list.Items {
		_, _ = s.e.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{})
	}
}

// restoreLimits bound what a restore may write: GitHub's cache holds 10 GB per
// repository, so an entry beyond that is not one we saved.
var restoreLimits = archive.Limits{MaxBytes: 16 << 30, MaxFiles: 4 << 20}

// restored says what a restore found, per entry: the key restored, and the key of
// an entry that was found but did not restore (bad), which the save then replaces.
type restored struct {
	keys map[string]string
	bad  map[string]string
}

func newRestored() restored {
	return restored{keys: map[string]string{}, bad: map[string]string{}}
}

// exact reports whether every entry was restored from its primary key (or a
// variant of it, see cache.Exact).
func (r restored) exact(parts cache.KeyParts) bool {
	for _, e := range tmpimage.Entries {
		if !cache.Exact(e, parts, r.keys[e]) {
			return false
		}
	}
	return true
}

// restore turns the cache's entries into the -tmp image, so the S2I build is
// incremental from them. Any failure is a warning: the build goes on cold with
// whatever entries did restore, never with a half-extracted one.
func (s *cacheStage) restore(ctx context.Context, builderImage, tmpImage string, parts cache.KeyParts, labels map[string]string) restored {
	dir, err := os.MkdirTemp(s.tempDir, "rust-s2i-musl-restore-")
	if err != nil {
		s.Report.Warn("cache restore skipped: %v", err)
		return newRestored()
	}
	defer os.RemoveAll(dir)
	found, dirs := s.restoreDirs(ctx, dir, parts)
	if len(dirs) == 0 {
		return found
	}
	if _, err := tmpimage.FromEntries(ctx, s.e, builderImage, tmpImage, labels, dirs...); err != nil {
		s.Report.Warn("cache restored but not usable, building without it: %v", err)
		bad := found.bad // still bad: the save replaces them all the same
		found = newRestored()
		found.bad = bad
	}
	return found
}

// restoreDirs extracts the cache's entries below dir, one directory each, and
// returns those that restored whole. Any failure is a warning: the build goes on
// cold with whatever entries did restore, never with a half-extracted one.
func (s *cacheStage) restoreDirs(ctx context.Context, dir string, parts cache.KeyParts) (restored, []string) {
	found := newRestored()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.Report.Warn("cache restore skipped: %v", err)
		return found, nil
	}
	var dirs []string
	for _, entry := range tmpimage.Entries {
		// Each entry is staged apart, so a bad one is dropped whole. Its names are
		// relative to the build user's home, as tmpimage.Export wrote them.
		dest := filepath.Join(dir, entry)
		key, err := s.restoreEntry(ctx, entry, cache.RestoreKeys(entry, parts), dest)
		switch {
		case errors.Is(err, cache.ErrNotFound):
			fmt.Fprintf(s.Log, "cache: no %s entry\n", entry)
		case err != nil:
			s.Report.Warn("cache entry %s not restored, building without it: %v", entry, err)
			os.RemoveAll(dest)
			if key != "" && entryAtFault(ctx, err) {
				found.bad[entry] = key
			}
		default:
			fmt.Fprintf(s.Log, "cache: restored %s from %s\n", entry, key)
			found.keys[entry] = key
			dirs = append(dirs, dest)
		}
	}
	return found, dirs
}

// entryAtFault reports whether err, a failed restore of an entry that was found,
// is the entry's fault (corrupt, cut short, unsafe, over the limits) rather than
// this machine's (a full or read-only disk, a cancelled build). A download that
// broke off counts as the entry's: saving a variant then costs one entry more,
// while trusting a bad one would cost every later build a cold start.
func entryAtFault(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	for _, local := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, fs.ErrPermission} {
		if errors.Is(err, local) {
			return false
		}
	}
	return true
}

// restoreEntry downloads, decompresses and extracts one entry into dest, and
// verifies the whole archive (its checksum, nothing after its end): an error means
// dest holds nothing usable.
func (s *cacheStage) restoreEntry(ctx context.Context, entry string, keys []string, dest string) (string, error) {
	key, content, err := s.store.Load(ctx, keys)
	if err != nil {
		return "", err
	}
	defer content.Close()
	if err := os.Mkdir(dest, 0o755); err != nil {
		return "", err // this machine's fault, not the entry's: no key to replace
	}
	if err := archive.ExtractCompressed(content, dest, restoreLimits); err != nil {
		return key, fmt.Errorf("%s: %w", key, err)
	}
	return key, nil
}

// save stores the -tmp image's state as the cache's entries, except those the cache
// already has under their primary key. Failures are warnings.
func (s *cacheStage) save(ctx context.Context, tmpImage string, parts cache.KeyParts, own []string, found restored) {
	for _, entry := range tmpimage.Entries {
		key, ok := s.saveKey(ctx, entry, parts, found)
		if !ok {
			continue
		}
		size, err := s.saveEntry(ctx, tmpImage, entry, key, own)
		s.saved(entry, key, size, err)
	}
}

// saved says how the save of entry under key went; size is what was saved.
func (s *cacheStage) saved(entry, key string, size int64, err error) {
	switch {
	case errors.Is(err, cache.ErrExists):
		fmt.Fprintf(s.Log, "cache: %s already saved by another build\n", key)
	case err != nil:
		s.Report.Warn("cache entry %s not saved: %v", entry, err)
	default:
		fmt.Fprintf(s.Log, "cache: saved %s (%d bytes)\n", key, size)
	}
}

// saveKey is the key to save entry under, and false when there is nothing to save:
// the restore got this very state, or another build saved it meanwhile. When the
// entry under the primary key (or its newest variant) was found but did not
// restore, it cannot be replaced (entries are immutable): the state goes under a
// new variant of the key, which later restores take before the bad entry.
func (s *cacheStage) saveKey(ctx context.Context, entry string, parts cache.KeyParts, found restored) (string, bool) {
	primary := cache.Primary(entry, parts)
	switch {
	case cache.Exact(entry, parts, found.keys[entry]):
		return "", false
	case cache.IsVariantOf(found.bad[entry], primary):
		fmt.Fprintf(s.Log, "cache: %s did not restore, saving its state anew\n", found.bad[entry])
		return cache.Variant(primary, time.Now()), true
	}
	if _, content, err := s.store.Load(ctx, []string{primary}); err == nil {
		content.Close()
		return "", false
	}
	return primary, true
}

// saveEntry compresses the entry into a temporary file, which the Actions cache
// needs for its parallel chunked upload, and saves it.
func (s *cacheStage) saveEntry(ctx context.Context, tmpImage, entry, key string, own []string) (int64, error) {
	f, err := os.CreateTemp(s.tempDir, "rust-s2i-musl-save-*.tar.zst")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	zw, err := archive.Compress(f)
	if err != nil {
		return 0, err
	}
	if err := tmpimage.Export(ctx, s.e, tmpImage, entry, own, zw); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compressing: %w", err)
	}
	return saveFile(ctx, s.store, key, f)
}

// saveFile saves the compressed entry in f under key, and returns its size.
func saveFile(ctx context.Context, store cache.Store, key string, f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), store.Save(ctx, key, fileBlob{f, st.Size()})
}

// fileBlob is a saved archive on disk.
type fileBlob struct {
	*os.File
	size int64
}

func (b fileBlob) Size() int64 { return b.size }
