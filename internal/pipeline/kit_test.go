package pipeline

// These tests run the stages of a build on BuildKit (NewKit) end to end with a
// fake Kit, the only part that is not real: the cache is a local store on disk,
// the runtime base is read from an in-process registry, and the final image is
// written as an OCI layout.

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

const (
	kitSecret = "s3cr3t-value"
	kitCrate  = "cargo/registry/cache/x.crate"
	kitRlib   = "target/release/deps/libdep-0123456789abcdef.rlib"
)

// kitBinary is the binary assemble leaves: an x86_64 ELF.
var kitBinary = platformtest.Binary(elf.EM_X86_64, "hello")

// kitHome is what assemble leaves in the build user's home, in the order the
// tar sends it: bin/, then the state, the workspace's own artifacts included.
var kitHome = [][2]string{
	{"bin/hello", string(kitBinary)},
	{"bin/" + tmpimage.CargoTimeFile, "1234"},
	{kitCrate, "crate"},
	{kitRlib, "rlib"},
	{"target/release/deps/hello-0123456789abcdef", "own"},
	{"target/release/hello", "own"},
}

// kitBuilder is the builder as the engine resolves it.
var kitBuilder = KitImage{
	Ref:    "example.org/builder@sha256:" + strings.Repeat("b", 64),
	Digest: "sha256:" + strings.Repeat("b", 64),
	Config: v1.ConfigFile{Config: v1.Config{Labels: map[string]string{
		tmpimage.LabelScriptsProtocol: strconv.Itoa(tmpimage.ScriptsProtocol),
		tmpimage.LabelTarget:          x86Target,
	}}},
	Files: map[string][]byte{"assemble": []byte("#!/bin/sh\n"), "rustc-vV": []byte("rustc 1.96.0\nrelease: 1.96.0\n")},
}

var errBrokeOff = errors.New("connection reset by peer")

// fakeKit is a BuildKit whose assemble sends kitHome back (only bin/ unless the
// job wants all), as the real one does through a pipe; with breakAt, the
// stream breaks off halfway through the breakAt-th file (from 1).
type fakeKit struct {
	breakAt int
	jobs    []KitJob
	state   []map[string]string // the files of each of the last job's State, as assemble saw them
	sent    int64               // what Out read of the last result
}

func (k *fakeKit) Inspect(_ context.Context, _, dir string, _ authn.Keychain) (KitImage, error) {
	if dir != builder.ScriptsDir {
		return KitImage{}, fmt.Errorf("files of %s asked, want %s", dir, builder.ScriptsDir)
	}
	return kitBuilder, nil
}

func (k *fakeKit) Assemble(_ context.Context, job KitJob) error {
	k.jobs = append(k.jobs, job)
	k.state, k.sent = nil, 0
	for _, d := range job.State {
		files, err := treeFiles(d)
		if err != nil {
			return err
		}
		k.state = append(k.state, files)
	}
	pr, pw := io.Pipe()
	read := make(chan error, 1)
	go func() {
		err := job.Out(pr)
		if err == nil {
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		read <- err
	}()
	err := k.send(&countWriter{w: pw, n: &k.sent}, job.All)
	pw.CloseWithError(err)
	if outErr := <-read; err == nil {
		err = outErr
	}
	if err != nil {
		return fmt.Errorf("build on buildkitd at fake: %w", err)
	}
	return nil
}

func (k *fakeKit) send(w io.Writer, all bool) error {
	tw := tar.NewWriter(w)
	for i, f := range kitHome {
		if !all && !strings.HasPrefix(f[0], "bin/") {
			continue
		}
		data := f[1]
		if i+1 == k.breakAt {
			data = data[:len(data)/2]
		}
		hdr := &tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f[1])), Uid: tmpimage.BuildUser.UID}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, data); err != nil {
			return err
		}
		if i+1 == k.breakAt {
			return errBrokeOff
		}
	}
	return tw.Close()
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// kitReport is a memReport that keeps the outputs.
type kitReport struct {
	memReport
	outputs map[string]string
}

func (r *kitReport) Output(k, v string) { r.outputs[k] = v }

// kitWorld is a build of hello on a fake BuildKit: a local source with a
// Cargo.toml, its runtime base in an in-process registry, an empty local cache
// and an empty TempDir.
type kitWorld struct {
	pl                *plan.Plan
	kit               *fakeKit
	store             *local.Store
	cacheDir, tempDir string
}

func newKitWorld(t *testing.T) *kitWorld {
	t.Helper()
	host := testenv.Registry(t)
	base, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if base, err = mutate.ConfigFile(base, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/o/base:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, base); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for n, data := range map[string]string{
		"Cargo.toml":  "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"Cargo.lock":  "version = 4\n",
		"src/main.rs": "fn main() {}\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, n), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.Builder, cfg.RuntimeImage = "hello", src, "example.org/builder:1", ref.String()
	cfg.Image, cfg.OCIOutput = "example.org/o/hello:1", filepath.Join(t.TempDir(), "oci")
	cfg.SecretEnv = []string{"TOKEN=" + kitSecret}
	pl := testPlan(t, cfg)
	pl.SBOMDir = t.TempDir()
	w := &kitWorld{pl: pl, kit: &fakeKit{}, cacheDir: t.TempDir(), tempDir: t.TempDir()}
	if w.store, err = local.New(w.cacheDir, 0); err != nil {
		t.Fatal(err)
	}
	return w
}

// run builds, and checks that the build left nothing in TempDir.
func (w *kitWorld) run(t *testing.T) (Result, *kitReport, error) {
	t.Helper()
	rep := &kitReport{outputs: map[string]string{}}
	res, err := NewKit(KitDeps{Kit: w.kit, Cache: w.store, TempDir: w.tempDir, Report: rep, Log: io.Discard}).Run(t.Context(), w.pl)
	if des, err := os.ReadDir(w.tempDir); err != nil || len(des) != 0 {
		t.Errorf("TempDir holds %v (%v) after the build, want nothing", des, err)
	}
	return res, rep, err
}

// entry is the files of the cache's entry under its primary key, by name.
func (w *kitWorld) entry(t *testing.T, entry string) map[string]string {
	t.Helper()
	id, err := builder.IdentityOf(kitBuilder.Files)
	if err != nil {
		t.Fatal(err)
	}
	s := &cacheStage{logs: logs{Report: &memReport{}}}
	key := cache.Primary(entry, s.keyParts(w.pl, x86Target, Toolchain{Release: id.Release(), Key: id.Key()}))
	_, rc, err := w.store.Load(t.Context(), []string{key})
	if err != nil {
		t.Errorf("cache entry %s: %v", key, err)
		return nil
	}
	defer rc.Close()
	zr, err := archive.Decompress(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]string{}
	if err := archive.EachEntry(zr, func(h *tar.Header, r io.Reader) error {
		data, err := io.ReadAll(r)
		files[h.Name] = string(data)
		return err
	}); err != nil {
		t.Errorf("cache entry %s: %v", key, err)
	}
	return files
}

// cacheFiles are the cache directory's files, with their sizes, but for the
// store's lock.
func (w *kitWorld) cacheFiles(t *testing.T) []string {
	t.Helper()
	des, err := os.ReadDir(w.cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, de := range des {
		if de.Name() == ".lock" {
			continue
		}
		info, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fmt.Sprintf("%s %d", de.Name(), info.Size()))
	}
	return files
}

// treeFiles are the regular files below dir, by slash-separated name.
func treeFiles(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	return files, err
}

// The two cache entries, as a build of kitHome saves them: the workspace's own
// artifacts left out of target/.
var kitEntries = []map[string]string{{kitCrate: "crate"}, {kitRlib: "rlib"}}

// A first build, with an empty cache, runs assemble as the build user on the
// whole home, with the build's environment and the secrets in their file alone,
// and saves both entries from what streamed back: the registry's crate, and
// target/ without the workspace's own artifacts. The image holds the binary;
// there is no -tmp image.
func TestKitFirstBuildSaves(t *testing.T) {
	t.Parallel()
	w := newKitWorld(t)
	res, rep, err := w.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.kit.jobs) != 1 {
		t.Fatalf("%d assembles, want 1", len(w.kit.jobs))
	}
	job := w.kit.jobs[0]
	if !job.All || len(job.State) != 0 || job.Owner != tmpimage.BuildUser || job.Home != tmpimage.AppRoot ||
		len(job.Command) == 0 || job.Command[len(job.Command)-1] != path.Join(builder.ScriptsDir, "assemble") {
		t.Errorf("job: all %v, state %q, owner %+v, home %s, command %q; want the whole home of a cold build, assemble as %+v",
			job.All, job.State, job.Owner, job.Home, job.Command, tmpimage.BuildUser)
	}
	for _, want := range []string{"BINARY=hello", "RUST_TARGET=" + x86Target} {
		if !slices.Contains(job.Env, want) {
			t.Errorf("env %q lacks %s", job.Env, want)
		}
	}
	envFile := path.Join(tmpimage.SecretsDir, tmpimage.SecretsFile)
	if !strings.Contains(string(job.Secrets[envFile]), kitSecret) {
		t.Errorf("secrets %q: %s lacks the secret", slices.Sorted(maps.Keys(job.Secrets)), envFile)
	}
	for p, data := range job.Secrets {
		if p != envFile && strings.Contains(string(data), kitSecret) {
			t.Errorf("secret file %s holds the secret's value", p)
		}
	}
	if strings.Contains(strings.Join(append(job.Env, job.Command...), "\n"), kitSecret) {
		t.Error("the secret's value is in the job's environment or command")
	}
	for i, entry := range tmpimage.Entries {
		if got := w.entry(t, entry); !maps.Equal(got, kitEntries[i]) {
			t.Errorf("cache entry %s holds %q, want %q", entry, got, kitEntries[i])
		}
	}
	if files := w.cacheFiles(t); len(files) != 2 {
		t.Errorf("cache dir holds %q, want the two entries", files)
	}
	if res.BinarySize != int64(len(kitBinary)) || res.TmpImage != "" || res.Incremental || rep.outputs["cache-hit"] != "false" {
		t.Errorf("result: binary %d bytes, tmp image %q, incremental %v, cache-hit %s; want %d bytes, none, cold, false",
			res.BinarySize, res.TmpImage, res.Incremental, rep.outputs["cache-hit"], len(kitBinary))
	}
	if !slices.Contains(rep.records, "s2i build: cargo 1.234s") {
		t.Errorf("records %q, want cargo's time from bin/%s", rep.records, tmpimage.CargoTimeFile)
	}
}

// A second build of the same inputs restores both entries into the directories
// assemble copies over the home, gets only bin/ back (nothing to save: a cache
// hit), and leaves the cache as it was.
func TestKitSecondBuildRestores(t *testing.T) {
	t.Parallel()
	w := newKitWorld(t)
	if _, _, err := w.run(t); err != nil {
		t.Fatal(err)
	}
	before := w.cacheFiles(t)
	res, rep, err := w.run(t)
	if err != nil {
		t.Fatal(err)
	}
	job := w.kit.jobs[len(w.kit.jobs)-1]
	if job.All || len(job.State) != 2 {
		t.Fatalf("job: all %v, state %q; want bin/ only, over two restored entries", job.All, job.State)
	}
	for i, files := range w.kit.state {
		if !maps.Equal(files, kitEntries[i]) {
			t.Errorf("restored %s holds %q, want the %s entry's %q", job.State[i], files, tmpimage.Entries[i], kitEntries[i])
		}
	}
	if after := w.cacheFiles(t); !slices.Equal(before, after) {
		t.Errorf("cache dir %q after the second build, want it unchanged: %q", after, before)
	}
	if !res.Incremental || res.BinarySize != int64(len(kitBinary)) || rep.outputs["cache-hit"] != "true" {
		t.Errorf("result: incremental %v, binary %d bytes, cache-hit %s; want incremental, %d bytes, true",
			res.Incremental, res.BinarySize, rep.outputs["cache-hit"], len(kitBinary))
	}
}

// A build whose result breaks off halfway, after the registry's crate streamed
// into its entry, fails with the break, and saves no entry at all: no half of
// either.
func TestKitBrokenStreamSavesNothing(t *testing.T) {
	t.Parallel()
	w := newKitWorld(t)
	w.kit.breakAt = slices.IndexFunc(kitHome, func(f [2]string) bool { return f[0] == kitRlib }) + 1
	_, _, err := w.run(t)
	if !errors.Is(err, errBrokeOff) {
		t.Fatalf("Run = %v, want the break", err)
	}
	if w.kit.sent < 6*512 { // the binary, cargo's time and the crate: a header and a block each
		t.Errorf("Out read %d bytes before the break, want the crate and all before it", w.kit.sent)
	}
	if files := w.cacheFiles(t); len(files) != 0 {
		t.Errorf("cache dir holds %q after a failed build, want nothing", files)
	}
}
