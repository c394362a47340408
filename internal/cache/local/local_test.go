package local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/cachetest"
)

// clock hands out strictly increasing times, so tests can order entries without
// sleeping past the file system's timestamp granularity.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

func newStore(t *testing.T, dir string, maxBytes int64) *Store {
	t.Helper()
	s, err := New(dir, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().Add(-24 * time.Hour)}
	s.now = c.now
	return s
}

func save(t *testing.T, s *Store, key, content string) {
	t.Helper()
	if err := s.Save(t.Context(), key, strings.NewReader(content)); err != nil {
		t.Fatalf("Save(%q): %v", key, err)
	}
}

// load returns the matched key and content, or "" and the error.
func load(t *testing.T, s *Store, keys ...string) (string, string, error) {
	t.Helper()
	matched, rc, err := s.Load(t.Context(), keys)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", matched, err)
	}
	return matched, string(b), nil
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 0)
	tests := []struct{ key, content string }{
		{"cargo-home-hello-x86_64-unknown-linux-musl-sha256:abc", "registry state"},
		{"empty", ""},
		{"with spaces and : colons / slashes", strings.Repeat("x", 1<<20)},
		{strings.Repeat("long-key/", 100), "cut name"},
	}
	for _, tt := range tests {
		save(t, s, tt.key, tt.content)
	}
	for _, tt := range tests {
		matched, got, err := load(t, s, tt.key)
		if err != nil {
			t.Fatalf("Load(%q): %v", tt.key, err)
		}
		if matched != tt.key || got != tt.content {
			t.Errorf("Load(%q) = %q, %d bytes; want the key and %d bytes", tt.key, matched, len(got), len(tt.content))
		}
	}
}

func TestLoadPrefixes(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 0)
	save(t, s, "target-app-lock1", "old")
	save(t, s, "target-app-lock2", "newer")
	save(t, s, "target-other-lock1", "other")
	save(t, s, "exact", "exact")
	save(t, s, "exact-but-newer", "prefix match")

	tests := []struct {
		name        string
		keys        []string
		wantMatched string
		wantErr     error
	}{
		{name: "prefix picks newest", keys: []string{"target-app-lock3", "target-app-"}, wantMatched: "target-app-lock2"},
		{name: "later prefix when first finds nothing", keys: []string{"nope", "nothing-", "target-other-"}, wantMatched: "target-other-lock1"},
		{name: "exact beats newer prefix match", keys: []string{"exact", "exact"}, wantMatched: "exact"},
		{name: "primary key is not a prefix", keys: []string{"target-app-"}, wantErr: cache.ErrNotFound},
		{name: "no match", keys: []string{"a", "b", "c"}, wantErr: cache.ErrNotFound},
		{name: "no keys", keys: nil, wantErr: cache.ErrNotFound},
	}
	for _, tt := range tests {
		matched, _, err := load(t, s, tt.keys...)
		if !errors.Is(err, tt.wantErr) || matched != tt.wantMatched {
			t.Errorf("%s: Load(%q) = %q, %v; want %q, %v", tt.name, tt.keys, matched, err, tt.wantMatched, tt.wantErr)
		}
	}
}

func TestLoadMarksUsed(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 0)
	save(t, s, "p-1", "one")
	save(t, s, "p-2", "two")
	if m, _, _ := load(t, s, "p-x", "p-"); m != "p-2" {
		t.Fatalf("newest saved: got %q, want p-2", m)
	}
	// Using p-1 makes it the most recently used, so the prefix now finds it.
	if _, _, err := load(t, s, "p-1"); err != nil {
		t.Fatal(err)
	}
	if m, _, _ := load(t, s, "p-x", "p-"); m != "p-1" {
		t.Errorf("after loading p-1: got %q, want p-1", m)
	}
}

func TestSaveExists(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 0)
	save(t, s, "k", "first")
	if err := s.Save(t.Context(), "k", strings.NewReader("second")); !errors.Is(err, cache.ErrExists) {
		t.Fatalf("second Save = %v, want ErrExists", err)
	}
	if _, got, _ := load(t, s, "k"); got != "first" {
		t.Errorf("content = %q, want the first save's", got)
	}
	assertClean(t, s.dir)
}

func TestSaveRefusesBadKeysAndHugeBlobs(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 10)
	for _, key := range []string{"", strings.Repeat("k", maxKeyLen+1)} {
		if err := s.Save(t.Context(), key, strings.NewReader("x")); err == nil {
			t.Errorf("Save(key of %d bytes) succeeded", len(key))
		}
	}
	if err := s.Save(t.Context(), "big", strings.NewReader(strings.Repeat("x", 11))); err == nil {
		t.Error("Save of a blob over maxBytes succeeded")
	}
	assertClean(t, s.dir)
	if names := entryNames(t, s.dir); len(names) != 0 {
		t.Errorf("entries after refused saves: %q", names)
	}
}

// cancellingBlob cancels the save's context partway through the copy, as SIGINT
// would during a large upload.
type cancellingBlob struct {
	*bytes.Reader
	cancel context.CancelFunc
}

func (b cancellingBlob) ReadAt(p []byte, off int64) (int, error) {
	if off > 0 {
		b.cancel()
	}
	return b.Reader.ReadAt(p, off)
}

func TestSaveCancelledLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t, t.TempDir(), 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	blob := cancellingBlob{bytes.NewReader(make([]byte, 4<<20)), cancel}
	if err := s.Save(ctx, "k", blob); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want context.Canceled", err)
	}
	if _, _, err := load(t, s, "k"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("Load after cancelled save = %v, want ErrNotFound", err)
	}
	assertClean(t, s.dir)
}

func TestSaveReadOnlyDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newStore(t, dir, 0)
	save(t, s, "k", "v")
	readOnly(t, dir)
	if err := s.Save(t.Context(), "k2", strings.NewReader("v")); err == nil {
		t.Error("Save into a read-only dir succeeded")
	}
	if _, got, err := load(t, s, "k"); err != nil || got != "v" {
		t.Errorf("Load from a read-only dir = %q, %v", got, err)
	}
}

// readOnly makes dir read-only to this process until the test ends. Root ignores
// permission bits, so for root (as in .ci/run) dir is bind-mounted read-only on
// itself, which root cannot write through either; anyone else gets mode 0555.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("root without the right to mount (CAP_SYS_ADMIN) cannot make %s read-only to itself: %v", dir, err)
		}
		t.Fatalf("bind-mounting %s on itself: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remounting %s read-only: %v", dir, err)
	}
}

func TestPruneLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	entrySize := int64(len(magic) + 4 + 1 + 100) // header with a one-byte key, 100 bytes of content
	s := newStore(t, dir, 3*entrySize)
	content := strings.Repeat("x", 100)
	save(t, s, "a", content)
	save(t, s, "b", content)
	save(t, s, "c", content)
	if _, _, err := load(t, s, "a"); err != nil { // a is now the most recently used
		t.Fatal(err)
	}
	save(t, s, "d", content) // over the cap: b, the least recently used, goes
	if got, want := keysIn(t, s), []string{"a", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("after first prune: %q, want %q", got, want)
	}

	// The entry just saved survives even when it is the oldest by time, which
	// happens when a peer build's clock is behind.
	s.now = func() time.Time { return time.Unix(1_000_000, 0) }
	save(t, s, "e", content)
	if got, want := keysIn(t, s), []string{"a", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("after second prune: %q, want %q", got, want)
	}
}

func TestPruneRemovesDeadWritersTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newStore(t, dir, 0)
	old := time.Now().Add(-time.Hour)
	dead := filepath.Join(dir, tempPrefix+"dead")
	live := filepath.Join(dir, tempPrefix+"live")
	fresh := filepath.Join(dir, tempPrefix+"fresh")
	for _, p := range []string{dead, live, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{dead, live} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A live writer holds the flock on its temp file.
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	s.now = time.Now
	save(t, s, "k", "v")
	for p, want := range map[string]bool{dead: false, live: true, fresh: true} {
		_, err := os.Lstat(p)
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(p), got, want)
		}
	}
}

func TestKeysCannotEscape(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	s := newStore(t, dir, 0)
	keys := []string{"..", ".", "../escape", "../../../../tmp/escape", "/abs/path", "a/../../b", "a/b/c", `back\slash`, "nul\x00byte", "~%25"}
	for _, k := range keys {
		save(t, s, k, "content of "+k)
	}
	for _, k := range keys {
		if _, got, err := load(t, s, k); err != nil || got != "content of "+k {
			t.Errorf("Load(%q) = %q, %v", k, got, err)
		}
	}
	des, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != "cache" {
		t.Errorf("files beside the cache dir: %v", des)
	}
	for _, de := range mustReadDir(t, dir) {
		if !de.Type().IsRegular() || strings.ContainsAny(de.Name(), "/") {
			t.Errorf("unexpected cache dir entry %q (%v)", de.Name(), de.Type())
		}
	}
	if got := len(entryNames(t, dir)); got != len(keys) {
		t.Errorf("%d entries for %d distinct keys", got, len(keys))
	}
}

func TestEntryNameInjective(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	keys := []string{"a/b", "a%2Fb", "a_b", long, long + "b", long[:maxPlainName] + "~", "~", "%7E"}
	seen := map[string]string{}
	for _, k := range keys {
		n := entryName(k)
		if prev, ok := seen[n]; ok {
			t.Errorf("keys %q and %q share the name %q", prev, k, n)
		}
		seen[n] = k
		if len(n) > 255 || n == "." || n == ".." || strings.Contains(n, "/") {
			t.Errorf("entryName(%q) = %q is not a safe file name", k, n)
		}
	}
}

func TestDamagedEntryIsAMiss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newStore(t, dir, 0)
	if err := os.WriteFile(filepath.Join(dir, entryName("k")), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, entryName("link"))); err != nil {
		t.Fatal(err)
	}
	for _, keys := range [][]string{{"k"}, {"x", "k"}, {"x", "link"}, {"x", ""}} {
		if _, _, err := load(t, s, keys...); err == nil {
			t.Errorf("Load(%q) succeeded on a damaged entry", keys)
		}
	}
}

// blobContent is what writer w saves under key: pseudo-random bytes ending in their
// own SHA-256, so a check can tell a complete entry from a torn or mixed one.
func blobContent(key string, w int) []byte {
	seed := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", key, w)))
	r := rand.NewChaCha8(seed)
	b := make([]byte, 64<<10+int(seed[0])*97)
	_, _ = r.Read(b)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func complete(b []byte) bool {
	if len(b) < sha256.Size {
		return false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	want := sha256.Sum256(body)
	return bytes.Equal(sum, want[:])
}

// saveAll is one concurrent writer: it saves the shared keys and its own, and
// returns the shared keys it won.
func saveAll(ctx context.Context, s *Store, w int, shared []string) (won []string, err error) {
	for i, k := range shared {
		own := fmt.Sprintf("own-%d-%d", w, i)
		if err := s.Save(ctx, own, bytes.NewReader(blobContent(own, w))); err != nil {
			return nil, fmt.Errorf("saving %s: %w", own, err)
		}
		switch err := s.Save(ctx, k, bytes.NewReader(blobContent(k, w))); {
		case err == nil:
			won = append(won, k)
		case !errors.Is(err, cache.ErrExists):
			return nil, fmt.Errorf("saving %s: %w", k, err)
		}
	}
	return won, nil
}

func sharedKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("shared/%d", i)
	}
	return keys
}

// checkConcurrent asserts each shared key was won exactly once and that the dir
// holds exactly the expected entries, each complete, and no temp files.
func checkConcurrent(t *testing.T, dir string, writers int, shared []string, won [][]string) {
	t.Helper()
	count := map[string]int{}
	for _, ks := range won {
		for _, k := range ks {
			count[k]++
		}
	}
	for _, k := range shared {
		if count[k] != 1 {
			t.Errorf("%s: %d writers succeeded, want exactly 1", k, count[k])
		}
	}
	s := newStore(t, dir, 0)
	want := append([]string(nil), shared...)
	for w := range writers {
		for i := range shared {
			want = append(want, fmt.Sprintf("own-%d-%d", w, i))
		}
	}
	for _, k := range want {
		_, got, err := load(t, s, k)
		if err != nil || !complete([]byte(got)) {
			t.Errorf("%s: err %v, complete %v", k, err, complete([]byte(got)))
		}
	}
	if got := len(entryNames(t, dir)); got != len(want) {
		t.Errorf("%d entries, want %d", got, len(want))
	}
	assertClean(t, dir)
}

func TestConcurrentGoroutines(t *testing.T) {
	t.Parallel()
	const writers = 6
	dir := t.TempDir()
	shared := sharedKeys(12)
	won := make([][]string, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s, err := New(dir, 0) // a Store each, as separate builds would have
			if err != nil {
				errs[w] = err
				return
			}
			won[w], errs[w] = saveAll(t.Context(), s, w, shared)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	checkConcurrent(t, dir, writers, shared, won)
}

const helperEnv = "LOCAL_CACHE_TEST_HELPER"

// TestHelperProcess is a writer process for TestConcurrentProcesses; run directly,
// it does nothing.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	var dir string
	var w, n int
	if _, err := fmt.Sscanf(spec, "%d %d %s", &w, &n, &dir); err != nil {
		t.Fatalf("bad %s=%q: %v", helperEnv, spec, err)
	}
	s, err := New(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	won, err := saveAll(t.Context(), s, w, sharedKeys(n))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range won {
		fmt.Println("won", k)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	const writers, n = 4, 12
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, writers)
	outs := make([]*bytes.Buffer, writers)
	for w := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d %s", helperEnv, w, n, dir))
		outs[w] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[w], outs[w]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[w] = cmd
	}
	won := make([][]string, writers)
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", w, err, outs[w])
		}
		sc := bufio.NewScanner(outs[w])
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "won "); ok {
				won[w] = append(won[w], k)
			}
		}
	}
	checkConcurrent(t, dir, writers, sharedKeys(n), won)
}

func TestConcurrentPruneKeepsCap(t *testing.T) {
	t.Parallel()
	const writers = 4
	dir := t.TempDir()
	limit := int64(10 * (70<<10 + 255*97 + 200))
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			s, err := New(dir, limit)
			if err != nil {
				errs[w] = err
				return
			}
			for i := range 10 {
				k := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Save(t.Context(), k, bytes.NewReader(blobContent(k, w))); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, de := range mustReadDir(t, dir) {
		if strings.HasPrefix(de.Name(), entryPrefix) {
			info, err := de.Info()
			if err != nil {
				t.Fatal(err)
			}
			total += info.Size()
		}
	}
	if total > limit {
		t.Errorf("entries total %d bytes, over the %d limit", total, limit)
	}
	assertClean(t, dir)
}

func mustReadDir(t *testing.T, dir string) []fs.DirEntry {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return des
}

func entryNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, de := range mustReadDir(t, dir) {
		if strings.HasPrefix(de.Name(), entryPrefix) {
			names = append(names, de.Name())
		}
	}
	return names
}

// keysIn lists the keys stored in s, sorted.
func keysIn(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := s.scan()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.key)
	}
	slices.Sort(keys)
	return keys
}

// assertClean fails if a temp file is left in dir.
func assertClean(t *testing.T, dir string) {
	t.Helper()
	for _, de := range mustReadDir(t, dir) {
		if strings.HasPrefix(de.Name(), tempPrefix) {
			t.Errorf("temp file left behind: %s", de.Name())
		}
	}
}

// One directory shared by repositories and pull requests keeps each one's entries
// to itself, by the keys' scopes (see cache.KeyParts), and puts a variant of a
// primary key before the key.
func TestScopes(t *testing.T) {
	t.Parallel()
	cachetest.Scopes(t, newStore(t, t.TempDir(), 0), nil)
}
