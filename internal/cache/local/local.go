package local

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/ctxio"
)

const (
	entryPrefix = "k-"
	tempPrefix  = ".tmp-"
	lockName    = ".lock"

	// magic starts every entry file, so a stray file that happens to be named like an
	// entry is never handed out as one.
	magic = "rust-s2i-musl cache entry 1\n"

	// maxKeyLen bounds the key stored in an entry header, so that reading a damaged
	// header cannot allocate without limit. GitHub's own limit is 512.
	maxKeyLen = 4096

	// maxPlainName is how much of the escaped key a file name keeps before it is cut
	// and given a hash suffix: well under the 255-byte NAME_MAX of Linux file systems.
	maxPlainName = 160

	// staleTemp is how old an unlocked temp file must be before a prune removes it.
	// The lock alone tells a live writer from a dead one; the age only covers the
	// instant between a writer creating its temp file and locking it.
	staleTemp = time.Minute

	// lockPoll is how often a prune retries a lock that another build holds.
	lockPoll = 20 * time.Millisecond
)

// Store is a cache.Store over one directory, shared safely by concurrent builds
// (goroutines or processes) on the same machine.
type Store struct {
	dir      string
	maxBytes int64
	now      func() time.Time // a field, not time.Now, so tests can order entries
}

var _ cache.Store = (*Store)(nil)

// New opens the cache in dir, creating the directory if it is missing, so a first
// build on a fresh volume just works. After every save the least recently used
// entries are removed until the entries total at most maxBytes; maxBytes <= 0 means
// the directory may grow without limit.
func New(dir string, maxBytes int64) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache dir: %w", err)
	}
	return &Store{dir: abs, maxBytes: maxBytes, now: time.Now}, nil
}

// Load implements cache.Store. Whatever it returns is bumped to most recently used,
// so entries that builds keep restoring survive pruning.
func (s *Store) Load(ctx context.Context, keys []string) (string, io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if len(keys) == 0 {
		return "", nil, cache.ErrNotFound
	}
	f, err := s.open(entryName(keys[0]), keys[0])
	switch {
	case err == nil:
		return keys[0], f, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", nil, err
	}
	if len(keys) == 1 {
		return "", nil, cache.ErrNotFound
	}
	entries, err := s.scan()
	if err != nil {
		return "", nil, err
	}
	// Newest first; the name breaks ties so that equal times still give one answer.
	slices.SortFunc(entries, func(a, b entry) int {
		if c := b.mtime.Compare(a.mtime); c != 0 {
			return c
		}
		return cmp.Compare(b.name, a.name)
	})
	for _, prefix := range keys[1:] {
		for _, e := range entries {
			if !strings.HasPrefix(e.key, prefix) {
				continue
			}
			f, err := s.open(e.name, e.key)
			if errors.Is(err, fs.ErrNotExist) {
				continue // pruned by another build since the scan
			}
			if err != nil {
				return "", nil, err
			}
			return e.key, f, nil
		}
	}
	return "", nil, cache.ErrNotFound
}

// Save implements cache.Store. The entry appears under its name only once complete
// and synced, and a concurrent save of the same key makes exactly one of the two
// return cache.ErrExists. A blob larger than the whole cache is refused, rather than
// pruning every other entry and still being over the limit.
func (s *Store) Save(ctx context.Context, key string, blob cache.Blob) error {
	if key == "" {
		return errors.New("saving cache entry: empty key")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("saving cache entry: key of %d bytes is longer than %d", len(key), maxKeyLen)
	}
	if s.maxBytes > 0 && blob.Size() > s.maxBytes {
		return fmt.Errorf("saving %q: %d bytes is over the cache limit of %d bytes", key, blob.Size(), s.maxBytes)
	}
	name := entryName(key)
	final := filepath.Join(s.dir, name)
	// Checked first only to skip copying gigabytes; the link below is what decides.
	if _, err := os.Lstat(final); err == nil {
		return cache.ErrExists
	}
	if err := s.write(ctx, key, blob, final); err != nil {
		if errors.Is(err, cache.ErrExists) {
			return err
		}
		return fmt.Errorf("saving %q: %w", key, err)
	}
	if err := s.prune(ctx, name); err != nil {
		return fmt.Errorf("saved %q, but pruning the cache: %w", key, err)
	}
	return nil
}

// write puts the header and blob into a locked temp file, syncs it and links it to
// final. link(2), unlike rename(2), fails when final exists, which is what makes
// the first of two concurrent saves win and leaves the other's entry untouched.
func (s *Store) write(ctx context.Context, key string, blob cache.Blob, final string) error {
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	// Removed while still locked, so no prune can mistake it for a dead writer's.
	defer func() {
		_ = os.Remove(tmp.Name())
		_ = tmp.Close()
	}()
	if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("locking %s: %w", tmp.Name(), err)
	}
	if err := writeHeader(tmp, key); err != nil {
		return err
	}
	src := io.NewSectionReader(blob, 0, blob.Size())
	if _, err := io.Copy(tmp, ctxio.Reader(ctx, src)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return cache.ErrExists
		}
		return err
	}
	syncDir(s.dir)
	s.touch(final)
	return nil
}

// entry is what a scan learns about one entry file.
type entry struct {
	name  string
	key   string
	size  int64
	mtime time.Time
}

// scan lists the entries with the keys from their headers. Files that vanish or are
// not valid entries are skipped: another build may be pruning, and a damaged file
// must cost a cache miss, not a failed build.
func (s *Store) scan() ([]entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("reading cache dir: %w", err)
	}
	var out []entry
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), entryPrefix) || !de.Type().IsRegular() {
			continue
		}
		f, err := openNoFollow(filepath.Join(s.dir, de.Name()))
		if err != nil {
			continue
		}
		key, err := readHeader(f)
		info, serr := f.Stat()
		_ = f.Close()
		if err != nil || serr != nil {
			continue
		}
		out = append(out, entry{name: de.Name(), key: key, size: info.Size(), mtime: info.ModTime()})
	}
	return out, nil
}

// open returns the entry file positioned after its header, and marks it used. A file
// whose header names another key is reported as absent: that is a hash collision
// of two cut names, or damage, and either way not the entry asked for.
func (s *Store) open(name, key string) (*os.File, error) {
	p := filepath.Join(s.dir, name)
	f, err := openNoFollow(p)
	if err != nil {
		return nil, fmt.Errorf("opening cache entry %q: %w", key, err)
	}
	got, err := readHeader(f)
	if err != nil || got != key {
		_ = f.Close()
		return nil, fmt.Errorf("cache entry %q: %w", key, fs.ErrNotExist)
	}
	s.touch(p)
	return f, nil
}

// touch marks an entry as just used. Failure is ignored: on a read-only cache the
// entry is still worth loading, it just ages as if unused.
func (s *Store) touch(p string) {
	now := s.now()
	_ = os.Chtimes(p, now, now)
}

// prune removes temp files of dead writers, then the least recently used entries
// until the total fits maxBytes. keep, the entry just saved, is never removed.
func (s *Store) prune(ctx context.Context, keep string) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var entries []entry
	var total int64
	for _, de := range des {
		name := de.Name()
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if s.now().Sub(info.ModTime()) > staleTemp && !locked(filepath.Join(s.dir, name)) {
				_ = os.Remove(filepath.Join(s.dir, name))
			}
		case strings.HasPrefix(name, entryPrefix):
			entries = append(entries, entry{name: name, size: info.Size(), mtime: info.ModTime()})
			total += info.Size()
		}
	}
	if s.maxBytes <= 0 || total <= s.maxBytes {
		return nil
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	for _, e := range entries {
		if total <= s.maxBytes {
			break
		}
		if e.name == keep {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		total -= e.size
	}
	return nil
}

// lock takes the directory's prune lock, waiting while another build holds it
// unless ctx ends first (a cancelled job must not hang on a stuck peer).
func (s *Store) lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

// locked reports whether a live process holds the flock on p, which every writer
// keeps on its temp file until the file is gone.
func locked(p string) bool {
	f, err := openNoFollow(p)
	if err != nil {
		return true // cannot tell: leave it
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
}

// entryName maps a key to a file name that cannot leave the directory: no '/', and
// never "." or ".." because of the prefix. The escaping keeps names readable for
// someone listing the cache, and is injective: '%' and '~' are always escaped, so a
// cut name (which has "~HEX") never equals an uncut one.
func entryName(key string) string {
	name := entryPrefix + cache.EscapeKey(key)
	if len(name) <= len(entryPrefix)+maxPlainName {
		return name
	}
	cut := len(entryPrefix) + maxPlainName
	// Do not split a %XX escape, so the readable part stays decodable.
	if i := strings.LastIndexByte(name[cut-2:cut], '%'); i >= 0 {
		cut = cut - 2 + i
	}
	sum := sha256.Sum256([]byte(key))
	return name[:cut] + "~" + hex.EncodeToString(sum[:16])
}

func writeHeader(w io.Writer, key string) error {
	buf := make([]byte, 0, len(magic)+4+len(key))
	buf = append(buf, magic...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(key)))
	buf = append(buf, key...)
	_, err := w.Write(buf)
	return err
}

// readHeader reads exactly the header, leaving r at the start of the content.
func readHeader(r io.Reader) (string, error) {
	buf := make([]byte, len(magic)+4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("reading entry header: %w", err)
	}
	if string(buf[:len(magic)]) != magic {
		return "", errors.New("not a cache entry")
	}
	n := binary.BigEndian.Uint32(buf[len(magic):])
	if n > maxKeyLen {
		return "", fmt.Errorf("entry header: key of %d bytes", n)
	}
	key := make([]byte, n)
	if _, err := io.ReadFull(r, key); err != nil {
		return "", fmt.Errorf("reading entry header: %w", err)
	}
	return string(key), nil
}

// openNoFollow opens p for reading, refusing a symlink in its place: the cache
// directory may be shared, and an entry name must not lead to another file.
func openNoFollow(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s: not a regular file: %w", p, fs.ErrNotExist)
	}
	return f, nil
}

// syncDir makes a new entry name durable. Errors are ignored: some file systems
// refuse fsync on a directory, and the entry is already complete either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
