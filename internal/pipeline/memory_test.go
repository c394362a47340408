package pipeline

// These tests push cache entries through the pipeline's own save and restore code
// (Pipeline.save / saveEntry and Pipeline.restore / restoreEntry) with a real local
// store on disk and a fake Docker daemon on loopback, the only part that is not
// real. They check what the SPEC asks of the cache: a 2 GiB entry streams through in
// flat memory, and neither a finished nor a failed or cancelled save or restore
// leaves files behind in the staging directory (Pipeline.TempDir) or the cache.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

const (
	// memStateBytes is the file content of the big target/ entry: four files of
	// 512 MiB, each written in 1 MiB blocks.
	memStateBytes = 2 << 30
	memFileBytes  = 512 << 20
	memBlockBytes = 1 << 20
	// memRandBytes of every block are fresh ChaCha8 output; the rest is a 4 KiB
	// pattern repeated. Zeros would compress about 10000:1 and leave zstd nothing to
	// do; this mix still costs the encoder real work (an eighth incompressible, so
	// the compressed entry is about 256 MiB) while generating it stays cheap.
	memRandBytes = 128 << 10

	// memMinFree is what the round trip needs on the temp file system: 2 GiB
	// extracted, the compressed temp file and the cache entry (about 256 MiB each),
	// with room to spare for whatever else runs.
	memMinFree = 6 << 30

	// Bounds on the peaks sampled every 10 ms during the 2 GiB round trip. Measured
	// on linux/amd64, 2 CPUs, Go 1.26: heap in use peaked at 45-48 MiB (once 67)
	// and the runtime's mapped memory at about 57 MiB (once 73): zstd's windows and
	// block buffers, the tar, HTTP and copy buffers. GOMAXPROCS from 1 to 32 gave
	// about the same (38-45 MiB, 49-60 MiB). The bounds leave about 2x headroom for
	// GC timing and library changes, and are still far below what buffering even a
	// sixteenth of the 2 GiB would take.
	memMaxHeapInuse = 128 << 20
	memMaxMapped    = 192 << 20
)

// TestCacheStreams2GiBInFlatMemory saves a 2 GiB target/ entry and restores it,
// through Pipeline.save and Pipeline.restore: the fake daemon streams the state
// out of a "container" (tmpimage.Export), it is zstd-compressed into a temp file in
// TempDir, saved to a local store, loaded, decompressed, extracted into a staging
// dir under TempDir, tarred again and streamed into a "container" for the -tmp
// image, where the fake daemon checks every byte. Memory is sampled throughout.
func TestCacheStreams2GiBInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 GiB through the cache and onto disk; skipped with -short")
	}
	staging, cacheDir := t.TempDir(), t.TempDir()
	memRequireFree(t, staging, memMinFree)

	ctx := t.Context()
	store, err := local.New(cacheDir, 10<<30)
	if err != nil {
		t.Fatal(err)
	}
	d := newMemDaemon(t)
	p := d.pipeline(t, store, staging)
	parts := memParts()

	// target/ holds the 2 GiB, plus the workspace's own binary, which Export must
	// leave out; cargo/ is a small registry.
	target := &memTree{}
	target.dir("target/")
	target.file("target/CACHEDIR.TAG", 43, 1)
	target.dir("target/release/")
	target.dir("target/release/deps/")
	for i := range memStateBytes / memFileBytes {
		target.file(fmt.Sprintf("target/release/deps/libbig%d-0123456789abcdef.rlib", i), memFileBytes, uint64(10+i))
	}
	target.symlink("target/release/libbig0.rlib", "deps/libbig0-0123456789abcdef.rlib")
	target.file("target/release/app", 3<<20, 2) // own: not saved
	registry := &memTree{}
	registry.dir("cargo/")
	registry.dir("cargo/registry/")
	registry.dir("cargo/registry/cache/")
	for i := range 3 {
		registry.file(fmt.Sprintf("cargo/registry/cache/crate%d-1.0.0.crate", i), 1<<20+int64(i)*777, uint64(100+i))
	}
	d.trees = map[string]*memTree{"target": target, "cargo": registry}

	runtime.GC()
	base := memRead()
	stop := memSample(staging)
	t0 := time.Now()

	p.save(ctx, memTmpImage, parts, []string{"app"}, restored{})
	saveDur := time.Since(t0)
	memNoWarnings(t, p)
	memNoLeftovers(t, "after the save", staging, cacheDir)
	var entrySizes []string
	for _, e := range tmpimage.Entries {
		fi, err := os.Stat(filepath.Join(cacheDir, "k-"+cache.Primary(e, parts)))
		if err != nil {
			t.Fatalf("entry %s not in the cache after the save: %v", e, err)
		}
		entrySizes = append(entrySizes, fmt.Sprintf("%s %d MiB", e, fi.Size()>>20))
	}

	t1 := time.Now()
	found := p.restore(ctx, memBuilder, memTmpImage, parts, nil)
	restoreDur := time.Since(t1)
	peak := stop()
	memNoWarnings(t, p)
	if !found.exact(parts) {
		t.Errorf("restore found %v, want both entries under their primary keys", found)
	}
	memNoLeftovers(t, "after the restore", staging, cacheDir)

	// What reached the "container" is what left it, minus the own binary.
	d.mu.Lock()
	puts, created, removed, commits := d.puts, d.created, d.removed, d.commits
	d.mu.Unlock()
	if len(puts) != 1 {
		t.Fatalf("the -tmp image's container got %d state tars, want 1", len(puts))
	}
	want := map[string]memSum{}
	for _, m := range []map[string]memSum{target.sums(), registry.sums()} {
		for name, s := range m {
			want[name] = s
		}
	}
	delete(want, "target/release/app")
	got := puts[0]
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: missing from the restored state", name)
		} else if g != w {
			t.Errorf("%s: restored as %+v, want %+v", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: in the restored state but not expected", name)
		}
	}
	if created != 3 || removed != created || commits != 1 {
		t.Errorf("containers: %d created, %d removed, %d committed; want 3, 3, 1", created, removed, commits)
	}

	t.Logf("2 GiB target/ + small registry: save %v, restore %v, %.0f MiB/s overall",
		saveDur.Round(time.Millisecond), restoreDur.Round(time.Millisecond),
		float64(memStateBytes)/(1<<20)/(saveDur+restoreDur).Seconds())
	t.Logf("cache entries: %s; daemon sent %d MiB of tar", strings.Join(entrySizes, ", "), d.served.Load()>>20)
	t.Logf("peak heap in use %.1f MiB (%.1f MiB before), peak runtime-mapped %.1f MiB (%.1f before), %d samples; process VmHWM %s",
		mib(peak.heapInuse), mib(base.heapInuse), mib(peak.mapped), mib(base.mapped), peak.samples, memVmHWM())
	t.Logf("peak disk use on the temp file system: %.0f MiB", mib(peak.diskUsed))
	if peak.samples < 100 {
		t.Errorf("only %d memory samples: the sampler did not keep up", peak.samples)
	}
	if peak.heapInuse > memMaxHeapInuse {
		t.Errorf("peak heap in use %.1f MiB, over the bound of %d MiB: something buffers the stream", mib(peak.heapInuse), memMaxHeapInuse>>20)
	}
	if peak.mapped > memMaxMapped {
		t.Errorf("peak runtime-mapped memory %.1f MiB, over the bound of %d MiB: something buffers the stream", mib(peak.mapped), memMaxMapped>>20)
	}
}

// TestCacheSaveCancelledLeavesNothing cancels a save twice: while the state is
// still streaming out of the container, and while the compressed archive is being
// copied into the store. Either way the temp file in TempDir and the store's own
// temp file are gone, no entry appears, and the container is removed.
func TestCacheSaveCancelledLeavesNothing(t *testing.T) {
	staging, cacheDir := t.TempDir(), t.TempDir()
	store, err := local.New(cacheDir, 10<<30)
	if err != nil {
		t.Fatal(err)
	}
	d := newMemDaemon(t)
	target := &memTree{}
	target.dir("target/")
	target.file("target/big", 64<<20, 7)
	d.trees = map[string]*memTree{"target": target}
	key := cache.Primary(cache.EntryTarget, memParts())

	t.Run("during export", func(t *testing.T) {
		p := d.pipeline(t, store, staging)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := d.served.Load()
		onServe := func(n int64) {
			if n-start > 16<<20 {
				cancel()
			}
		}
		d.onServe.Store(&onServe)
		defer d.onServe.Store(nil)
		_, err := p.saveEntry(ctx, memTmpImage, cache.EntryTarget, key, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("saveEntry = %v, want context.Canceled", err)
		}
		memNoLeftovers(t, "after a save cancelled during export", staging, cacheDir)
		memNoEntries(t, cacheDir)
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.removed != d.created {
			t.Errorf("%d containers created, %d removed", d.created, d.removed)
		}
	})

	t.Run("during store save", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cs := &memCancelStore{Store: store, after: 1 << 20, cancel: cancel}
		p := d.pipeline(t, cs, staging)
		_, err := p.saveEntry(ctx, memTmpImage, cache.EntryTarget, key, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("saveEntry = %v, want context.Canceled", err)
		}
		if cs.read.Load() == 0 {
			t.Fatal("the store never read the archive: the cancel did not happen during the save")
		}
		memNoLeftovers(t, "after a save cancelled while copying into the store", staging, cacheDir)
		memNoEntries(t, cacheDir)
	})
}

// TestCacheRestoreRefusedLeavesNothing restores two bad entries: a registry entry
// whose zstd stream is cut short, and a target/ entry that extracts 64 MiB and then
// declares a 17 GiB file, over the restore limit. Both are refused with a warning,
// nothing reaches the daemon, and the staging dir under TempDir, partly filled by
// then, is removed.
func TestCacheRestoreRefusedLeavesNothing(t *testing.T) {
	staging, cacheDir := t.TempDir(), t.TempDir()
	ctx := t.Context()
	store, err := local.New(cacheDir, 10<<30)
	if err != nil {
		t.Fatal(err)
	}
	parts := memParts()

	bomb := &memTree{}
	bomb.dir("target/")
	bomb.file("target/real", 64<<20, 3)
	bomb.huge("target/huge", restoreLimits.MaxBytes+1<<30)
	memSaveTree(t, store, cache.Primary(cache.EntryTarget, parts), bomb, 0)

	reg := &memTree{}
	reg.dir("cargo/")
	reg.file("cargo/x.crate", 8<<20, 4)
	memSaveTree(t, store, cache.Primary(cache.EntryRegistry, parts), reg, 0.5)

	d := newMemDaemon(t)
	p := d.pipeline(t, store, staging)
	found := p.restore(ctx, memBuilder, memTmpImage, parts, nil)
	if len(found.keys) != 0 {
		t.Errorf("restore found %v, want nothing", found)
	}
	rep := p.Report.(*memReport)
	rep.mu.Lock()
	warns := slices.Clone(rep.warns)
	rep.mu.Unlock()
	if len(warns) != 2 {
		t.Errorf("warnings %q, want one per entry", warns)
	}
	if !slices.ContainsFunc(warns, func(w string) bool { return strings.Contains(w, archive.ErrLimit.Error()) }) {
		t.Errorf("warnings %q, want one saying the target entry is %s", warns, archive.ErrLimit)
	}
	memNoLeftovers(t, "after a refused restore", staging, cacheDir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.created != 0 || len(d.puts) != 0 {
		t.Errorf("the daemon got %d container creates and %d state tars, want none", d.created, len(d.puts))
	}
}

const (
	memBuilder  = "memtest-builder"
	memTmpImage = "rust-musl-app-tmp"
)

func memParts() cache.KeyParts {
	return cache.KeyParts{
		Prefix:    "memtest",
		Binary:    "app",
		Target:    "x86_64-unknown-linux-musl",
		Rustc:     "1.85.0",
		Toolchain: "0123456789ab",
		Settings:  "0123456789abcdef",
		Lock:      "fedcba9876543210",
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// memRequireFree fails (not skips) when the file system of dir has too little room:
// a full disk would make the test fail later, in a way that looks like a bug.
func memRequireFree(t *testing.T, dir string, need uint64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("statfs %s: %v", dir, err)
	}
	if free := st.Bavail * uint64(st.Bsize); free < need {
		t.Fatalf("%s has %.1f GiB free; this test writes about 2.5 GiB there and needs %.0f GiB free "+
			"(set TMPDIR to a bigger file system, or run with -short to skip it)",
			dir, float64(free)/(1<<30), float64(need)/(1<<30))
	}
}

// memNoLeftovers checks that staging is empty and that the cache holds only entries
// and its lock: no temp file of ours or of the store.
func memNoLeftovers(t *testing.T, when, staging, cacheDir string) {
	t.Helper()
	if des, err := os.ReadDir(staging); err != nil {
		t.Fatal(err)
	} else if len(des) != 0 {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("%s: TempDir holds %q, want nothing", when, names)
	}
	des, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), "k-") && de.Name() != ".lock" {
			t.Errorf("%s: cache dir holds %q, which is not an entry", when, de.Name())
		}
	}
}

func memNoEntries(t *testing.T, cacheDir string) {
	t.Helper()
	des, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "k-") {
			t.Errorf("cache dir holds entry %q after a cancelled save", de.Name())
		}
	}
}

func memNoWarnings(t *testing.T, p *cacheStage) {
	t.Helper()
	rep := p.Report.(*memReport)
	rep.mu.Lock()
	defer rep.mu.Unlock()
	for _, w := range rep.warns {
		t.Errorf("warning: %s", w)
	}
	rep.warns = nil
}

// memSaveTree compresses tree into a store entry directly; keep < 1 cuts the
// compressed stream to that fraction, as a damaged upload would be.
func memSaveTree(t *testing.T, s cache.Store, key string, tree *memTree, keep float64) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "entry-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := archive.Compress(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.write(zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	if keep > 0 && keep < 1 {
		size = int64(float64(size) * keep)
	}
	if err := s.Save(t.Context(), key, fileBlob{f, size}); err != nil {
		t.Fatal(err)
	}
}

// memTree is a state tree the fake daemon streams as a tar, generated on the fly.
type memTree struct {
	ents []memEnt
	mu   sync.Mutex
	sum  map[string]memSum // filled in as the content is generated
}

type memEnt struct {
	name, link string
	typ        byte
	size       int64
	seed       uint64
}

// memSum identifies a file's content, or a symlink's target.
type memSum struct {
	Size int64
	CRC  uint32
	Link string
}

func (m *memTree) dir(name string) { m.ents = append(m.ents, memEnt{name: name, typ: tar.TypeDir}) }
func (m *memTree) symlink(name, link string) {
	m.ents = append(m.ents, memEnt{name: name, link: link, typ: tar.TypeSymlink})
}
func (m *memTree) file(name string, size int64, seed uint64) {
	m.ents = append(m.ents, memEnt{name: name, typ: tar.TypeReg, size: size, seed: seed})
}

// huge adds a header declaring size bytes, and ends the stream there: a bomb.
func (m *memTree) huge(name string, size int64) {
	m.ents = append(m.ents, memEnt{name: name, typ: 'H', size: size})
}

func (m *memTree) sums() map[string]memSum {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]memSum, len(m.sum))
	for k, v := range m.sum {
		out[k] = v
	}
	return out
}

var memCastagnoli = crc32.MakeTable(crc32.Castagnoli)

func (m *memTree) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	mtime := time.Unix(1700000000, 123456789)
	for _, e := range m.ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
		switch e.typ {
		case tar.TypeDir:
			hdr.Mode = 0o755
		case tar.TypeSymlink:
			hdr.Linkname = e.link
			m.record(e.name, memSum{Link: e.link})
		case tar.TypeReg:
			hdr.Size = e.size
		case 'H':
			hdr.Typeflag, hdr.Size = tar.TypeReg, e.size
			// The header is written at once; the content never comes.
			return tw.WriteHeader(hdr)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if e.typ == tar.TypeReg {
			crc, err := memContent(tw, e.size, e.seed)
			if err != nil {
				return err
			}
			m.record(e.name, memSum{Size: e.size, CRC: crc})
		}
	}
	return tw.Close()
}

func (m *memTree) record(name string, s memSum) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sum == nil {
		m.sum = map[string]memSum{}
	}
	m.sum[name] = s
}

// memContent writes size bytes of the block mix described at memRandBytes, and
// returns their CRC.
func memContent(w io.Writer, size int64, seed uint64) (uint32, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	rng := rand.NewChaCha8(key)
	pat := make([]byte, 4<<10)
	_, _ = rng.Read(pat)
	for i := range pat {
		pat[i] = 'a' + pat[i]%26
	}
	buf := make([]byte, memBlockBytes)
	for i := 0; i < len(buf); i += len(pat) {
		copy(buf[i:], pat)
	}
	var crc uint32
	for off := int64(0); off < size; off += memBlockBytes {
		n := int(min(memBlockBytes, size-off))
		_, _ = rng.Read(buf[:memRandBytes])
		binary.LittleEndian.PutUint64(buf[memRandBytes:], uint64(off))
		if _, err := w.Write(buf[:n]); err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, memCastagnoli, buf[:n])
	}
	return crc, nil
}

// memReadSums reads a state tar as the daemon receives it.
func memReadSums(r io.Reader) (map[string]memSum, error) {
	out := map[string]memSum{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			out[hdr.Name] = memSum{Link: hdr.Linkname}
		case tar.TypeReg:
			h := crc32.New(memCastagnoli)
			n, err := io.Copy(h, tr)
			if err != nil {
				return out, err
			}
			out[hdr.Name] = memSum{Size: n, CRC: h.Sum32()}
		}
	}
}

// memDaemon is the part of the Docker Engine API that saving and restoring the
// cache use: create and remove a container, read a directory out of it, put a tar
// into it, inspect an image and commit.
type memDaemon struct {
	t       *testing.T
	host    string                           // for client.WithHost
	trees   map[string]*memTree              // what GET .../archive?path=/opt/app-root/NAME sends
	onServe atomic.Pointer[func(sent int64)] // called as archive bytes go out
	served  atomic.Int64

	mu                        sync.Mutex
	created, removed, commits int
	puts                      []map[string]memSum
}

func newMemDaemon(t *testing.T) *memDaemon {
	d := &memDaemon{t: t}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	d.host = "tcp://" + srv.Listener.Addr().String()
	return d
}

func (d *memDaemon) pipeline(t *testing.T, s cache.Store, staging string) *cacheStage {
	eng, err := client.New(client.WithHost(d.host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return &cacheStage{logs: logs{Report: &memReport{}, Log: io.Discard}, e: eng, store: s, tempDir: staging}
}

var memAPIVersion = regexp.MustCompile(`^/v[0-9.]+/`)

func (d *memDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := "/" + strings.TrimPrefix(memAPIVersion.ReplaceAllString(r.URL.Path, "/"), "/")
	reply := func(code int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	switch {
	case p == "/_ping": // the client asks before its first call
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "OK")
	case r.Method == http.MethodPost && p == "/containers/create":
		d.mu.Lock()
		d.created++
		id := fmt.Sprintf("c%d", d.created)
		d.mu.Unlock()
		reply(http.StatusCreated, fmt.Sprintf(`{"Id":%q,"Warnings":[]}`, id))
	case r.Method == http.MethodDelete && strings.HasPrefix(p, "/containers/"):
		d.mu.Lock()
		d.removed++
		d.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/archive"):
		name := path.Base(r.URL.Query().Get("path"))
		tree := d.trees[name]
		if tree == nil {
			reply(http.StatusNotFound, `{"message":"no such path"}`)
			return
		}
		stat, _ := json.Marshal(container.PathStat{Name: name, Size: 4096, Mode: fs.ModeDir | 0o755, Mtime: time.Unix(1700000000, 0)})
		w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(stat))
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		_ = tree.write(&memCounter{w: w, d: d}) // fails when the client cancels: expected
	case r.Method == http.MethodPut && strings.HasSuffix(p, "/archive"):
		sums, err := memReadSums(r.Body)
		if err != nil {
			d.t.Errorf("daemon: reading the state tar: %v", err)
		}
		d.mu.Lock()
		d.puts = append(d.puts, sums)
		d.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/json"):
		if strings.TrimSuffix(strings.TrimPrefix(p, "/images/"), "/json") == memBuilder {
			reply(http.StatusOK, `{"Id":"sha256:0123456789abcdef0123"}`)
		} else {
			reply(http.StatusNotFound, `{"message":"No such image"}`)
		}
	case r.Method == http.MethodPost && p == "/commit":
		d.mu.Lock()
		d.commits++
		d.mu.Unlock()
		reply(http.StatusCreated, `{"Id":"sha256:fedcba9876543210fedc"}`)
	default:
		d.t.Errorf("daemon: unexpected %s %s", r.Method, r.URL)
		reply(http.StatusNotFound, `{"message":"not in the fake"}`)
	}
}

type memCounter struct {
	w io.Writer
	d *memDaemon
}

func (c *memCounter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	sent := c.d.served.Add(int64(n))
	if f := c.d.onServe.Load(); f != nil {
		(*f)(sent)
	}
	return n, err
}

type memReport struct {
	mu      sync.Mutex
	warns   []string
	records []string // "name duration"
	facts   []string // "name: text"
}

func (r *memReport) Phase(string) func()               { return func() {} }
func (r *memReport) Output(string, string)             {}
func (r *memReport) StopCommands() func()              { return func() {} }
func (r *memReport) Annotate(string, int, int, string) {}
func (r *memReport) Record(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, fmt.Sprintf("%s %s", name, d))
}
func (r *memReport) Fact(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.facts = append(r.facts, name+": "+text)
}
func (r *memReport) Warn(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warns = append(r.warns, fmt.Sprintf(format, args...))
}

// memCancelStore cancels the build once the store has read `after` bytes of the
// archive it is saving.
type memCancelStore struct {
	cache.Store
	after  int64
	cancel context.CancelFunc
	read   atomic.Int64
}

func (s *memCancelStore) Save(ctx context.Context, key string, blob cache.Blob) error {
	return s.Store.Save(ctx, key, memCancelBlob{blob, s})
}

type memCancelBlob struct {
	cache.Blob
	s *memCancelStore
}

func (b memCancelBlob) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.Blob.ReadAt(p, off)
	if b.s.read.Add(int64(n)) >= b.s.after {
		b.s.cancel()
	}
	return n, err
}

// memPeaks are the largest values seen by memSample.
type memPeaks struct {
	heapInuse uint64 // spans holding objects: runtime.MemStats.HeapInuse
	mapped    uint64 // all the runtime has mapped, less what it returned to the OS
	diskUsed  uint64 // how far free space fell on the sampled file system
	samples   int
}

var memMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
}

func memRead() memPeaks {
	s := make([]metrics.Sample, len(memMetrics))
	for i, n := range memMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	return memPeaks{
		heapInuse: s[0].Value.Uint64() + s[1].Value.Uint64(),
		mapped:    s[2].Value.Uint64() - s[3].Value.Uint64(),
	}
}

// memSample samples memory (runtime/metrics, which does not stop the world) and
// the free space of dir's file system every 10 ms until the returned func is
// called, which returns the peaks.
func memSample(dir string) func() memPeaks {
	free := func() uint64 {
		var st syscall.Statfs_t
		if syscall.Statfs(dir, &st) != nil {
			return 0
		}
		return st.Bavail * uint64(st.Bsize)
	}
	free0 := free()
	stop, out := make(chan struct{}), make(chan memPeaks, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var peak memPeaks
		for {
			m := memRead()
			peak.heapInuse = max(peak.heapInuse, m.heapInuse)
			peak.mapped = max(peak.mapped, m.mapped)
			if f := free(); f != 0 && f < free0 {
				peak.diskUsed = max(peak.diskUsed, free0-f)
			}
			peak.samples++
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() memPeaks { close(stop); return <-out }
}

// memVmHWM is the process's peak resident set, for the log: it covers the whole
// test binary, not only this test.
func memVmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			return strings.Join(strings.Fields(string(v)), " ")
		}
	}
	return "unknown"
}
