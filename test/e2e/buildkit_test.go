package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// The BuildKit engine, on a real buildkitd (v0.35.0) in a network namespace of its
// own, with a registry that answers at one address there and here (testenv): the
// CLI in this namespace reaches buildkitd through its unix socket, as a job in a
// Kubernetes pod reaches a buildkitd sidecar. The subtests share the world and
// run one after another; each uses names of its own.
func TestBuildKit(t *testing.T) {
	needDocker(t)
	t.Parallel()
	w := startKit(t)
	t.Run("hello", w.testHello)
	t.Run("ring", w.testRing)
	t.Run("git-dependency-fresh-buildkitd", w.testGitDepFreshDaemon)
	t.Run("same-image-as-docker", w.testSameImageAsDocker)
	t.Run("secret-env", w.testSecretEnv)
	t.Run("killed-buildkitd", w.testKilled)
	t.Run("unreachable", w.testUnreachable)
	t.Run("mutual-tls", w.testTLS)
	t.Run("plugin-without-docker-socket", w.testPlugin)
}

// kitWorld is the world and the test images in its registry.
type kitWorld struct {
	*testenv.BuildKit
	builder, runtime string
	crates           func(t *testing.T) string // the builder with Debian's crate sources, pushed on first use
}

func startKit(t *testing.T) *kitWorld {
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{TLS: true})
	w := &kitWorld{BuildKit: b, builder: b.PushImage(t, builderImage, "builder-musl:1"), runtime: b.PushImage(t, runtimeImage, "busybox:1")}
	var once sync.Once
	var crates string
	w.crates = func(t *testing.T) string {
		once.Do(func() { crates = b.PushImage(t, testenv.CratesBuilderImage, "builder-crates:1") })
		return crates
	}
	return w
}

// args are a build of src on the world's buildkitd, pushed as REGISTRY/repo.
func (w *kitWorld) args(t *testing.T, src, binary, repo string, extra ...string) []string {
	builder := w.builder
	if builderFor(src) == testenv.CratesBuilderImage {
		builder = w.crates(t)
	}
	return append([]string{"build", "--engine", "buildkit", "--buildkit-host", w.Addr,
		"--source", src, "--binary", binary, "--builder", builder, "--runtime-image", w.runtime,
		"--image", w.ref(repo), "--push"}, extra...)
}

func (w *kitWorld) ref(repo string) string { return w.Registry + "/" + repo }

// build runs a build and fails the test unless it succeeds.
func (w *kitWorld) build(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := runCmd(t, env, args...)
	if r.code != 0 {
		t.Fatalf("build on BuildKit failed:\n%s", r)
	}
	return r
}

// run pulls the pushed image into the Docker Engine, as a deploy would, and runs it.
func (w *kitWorld) run(t *testing.T, repo string, args ...string) string {
	t.Helper()
	ref := w.ref(repo)
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	return runImage(t, ref, args...)
}

// compiled are the crates a build's log says cargo compiled.
func compiled(log string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`Compiling ([A-Za-z0-9_-]+) v`).FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

// A crate builds on BuildKit: the build's log streams (BuildKit's progress with
// cargo's lines), the image is pushed and runs, there is no -tmp image, and the
// state is saved to the cache.
func (w *kitWorld) testHello(t *testing.T) {
	cacheDir := t.TempDir()
	r := w.build(t, nil, w.args(t, copyTree(t, crate("hello")), "hello", "kit-hello:1", "--cache", "local", "--cache-dir", cacheDir)...)
	for _, want := range []string{"assemble", "Compiling hello", "exporting to client tarball", "pushed " + w.ref("kit-hello:1")} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the log lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := output(r, "tmp-image"); got != "" {
		t.Errorf("tmp-image output %q on BuildKit, which keeps no -tmp image", got)
	}
	if output(r, "digest") == "" || output(r, "image-id") == "" {
		t.Errorf("no digest or image-id output:\n%s", r.stdout)
	}
	if got := w.run(t, "kit-hello:1", "kit"); !strings.Contains(got, "Hello, kit!") {
		t.Errorf("image printed %q", got)
	}
	for _, entry := range []string{"registry", "target"} {
		savedKey(t, r.stderr, entry)
	}
}

// ring, whose build script compiles C and assembly, builds on BuildKit with the
// builder that carries Debian's crate sources, and runs.
func (w *kitWorld) testRing(t *testing.T) {
	r := w.build(t, nil, w.args(t, copyTree(t, crate("ringdigest")), "ringdigest", "kit-ring:1")...)
	if !strings.Contains(r.stderr, "Compiling ring") {
		t.Errorf("ring was not compiled:\n%s", r.stderr)
	}
	got := w.run(t, "kit-ring:1", "abc")
	if !strings.Contains(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
		t.Errorf("image printed %q, want the SHA-256 of abc", got)
	}
}

// A git dependency builds on BuildKit; then, after a one-line change, a build on a
// fresh buildkitd (a new, empty data root) that shares nothing with the first but
// the cache compiles no dependency: the state came back from the cache, the git
// checkout included (the repository itself is gone by then).
func (w *kitWorld) testGitDepFreshDaemon(t *testing.T) {
	src := withGitDep(t)
	cacheDir := t.TempDir()
	args := w.args(t, src, "gitdep", "kit-gitdep:1", "--cache", "local", "--cache-dir", cacheDir)
	r := w.build(t, nil, args...)
	if got := compiled(r.stderr); !strings.Contains(strings.Join(got, " "), "greet") {
		t.Errorf("the cold build compiled %v, want greet among them", got)
	}
	if got := w.run(t, "kit-gitdep:1"); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("image printed %q", got)
	}

	w.Restart(t, true)
	main := filepath.Join(src, "src", "main.rs")
	if err := os.WriteFile(main, []byte("fn main() {\n    println!(\"changed: {}\", greet::greeting(\"gitdep\"));\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(src, "vendor")); err != nil {
		t.Fatal(err)
	}
	r = w.build(t, nil, args...)
	if got := compiled(r.stderr); len(got) != 1 || got[0] != "gitdep" {
		t.Errorf("after a one-line change on a fresh buildkitd cargo compiled %v, want gitdep alone:\n%s", got, r.stderr)
	}
	if !strings.Contains(r.stderr, "cache: restored target from") {
		t.Errorf("the build on the fresh buildkitd restored no target/ entry:\n%s", r.stderr)
	}
	if got := w.run(t, "kit-gitdep:1"); !strings.Contains(got, "changed: greetings, gitdep") {
		t.Errorf("image printed %q after the change", got)
	}
}

// The same commit gives the same image on both engines: the same image ID (the
// config's digest) for one platform, where the Docker Engine's push compresses the
// layers itself; and with platforms, where both compose the index, the same
// pushed digest. The Docker Engine pulls the builder and the base from the same
// registry under the same names, and both push to one repository (its name is in
// the SBOM).
func (w *kitWorld) testSameImageAsDocker(t *testing.T) {
	src := copyTree(t, crate("hello"))
	initRepo(t, src) // the commit's time is the images' time
	for _, ref := range []string{w.builder, w.runtime} {
		if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
			t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", ref).Run() })
	}
	dockerArgs := func(repo string, extra ...string) []string {
		tmp := "rust-s2i-e2e-kit-same-tmp"
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tmp, w.ref(repo)).Run() })
		return append([]string{"build", "--engine", "docker", "--source", src, "--binary", "hello",
			"--builder", w.builder, "--runtime-image", w.runtime, "--image", w.ref(repo), "--tmp-image", tmp, "--push"}, extra...)
	}
	onDocker := w.build(t, nil, dockerArgs("kit-same:docker-1")...)
	onKit := w.build(t, nil, w.args(t, src, "hello", "kit-same:kit-1")...)
	if d, k := output(onDocker, "image-id"), output(onKit, "image-id"); d == "" || d != k {
		t.Errorf("image ID on Docker %q, on BuildKit %q: want the same", d, k)
	}
	plat := []string{"--platform", "linux/amd64"}
	onDocker = w.build(t, nil, dockerArgs("kit-same:docker-2", plat...)...)
	onKit = w.build(t, nil, w.args(t, src, "hello", "kit-same:kit-2", plat...)...)
	if d, k := output(onDocker, "digest"), output(onKit, "digest"); d == "" || d != k {
		t.Errorf("pushed index digest on Docker %q, on BuildKit %q: want the same\n%s\n%s", d, k,
			indexManifest(t, w.ref("kit-same:docker-2")), indexManifest(t, w.ref("kit-same:kit-2")))
	}
}

// secret-env reaches cargo on BuildKit (the crate's build fails without it, and
// the binary knows it was there) and appears in no layer of the pushed image, not
// in the OCI output, not in any cache entry, and nowhere under buildkitd's data
// root: BuildKit's secrets are a tmpfs mount, never a snapshot.
func (w *kitWorld) testSecretEnv(t *testing.T) {
	src := copyTree(t, crate("envsecret"))
	cacheDir, ociDir := t.TempDir(), filepath.Join(t.TempDir(), "oci")
	args := w.args(t, src, "envsecret", "kit-secret:1", "--cache", "local", "--cache-dir", cacheDir, "--oci-output", ociDir)
	if r := runCmd(t, nil, args...); r.code != 1 {
		t.Fatalf("a build without the secret: exit %d, want 1:\n%s", r.code, r)
	}
	b := make([]byte, 16)
	rand.Read(b)
	secret := "s2i-secret-" + hex.EncodeToString(b)
	r := w.build(t, []string{"RUST_S2I_TEST_SECRET=" + secret}, append(args, "--secret-env", "RUST_S2I_TEST_SECRET")...)
	if got := w.run(t, "kit-secret:1"); !strings.Contains(got, "true") {
		t.Errorf("the binary says it was built without the secret: %q", got)
	}
	where := map[string]int{"log": strings.Count(r.stdout+r.stderr, secret)}
	ref, err := name.ParseReference(w.ref("kit-secret:1"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		where["pushed "+m.Digest.String()] += countInImage(t, img, secret)
	}
	where["oci-output"] = countInTree(t, ociDir, secret)
	countInCache(t, cacheDir, r.stderr, secret, where)
	if out, err := exec.Command("sudo", "-n", "grep", "-rlaF", "--", secret, w.Root).CombinedOutput(); err == nil {
		where["buildkitd's data root: "+strings.TrimSpace(string(out))]++
	}
	for place, n := range where {
		if n != 0 {
			t.Errorf("the secret is in %s (%d times)", place, n)
		}
	}
}

// countInImage counts s in img's config and in its layers, uncompressed.
func countInImage(t *testing.T, img v1.Image, s string) int {
	t.Helper()
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(cfg), s)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n += countIn(t, rc, s)
		rc.Close()
	}
	return n
}

// countInTree counts s in every file below dir, and in gzip blobs uncompressed.
func countInTree(t *testing.T, dir, s string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		// OCI blobs are gzip streams: read uncompressed, and raw besides.
		n += countIn(t, f, s)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil
		}
		defer zr.Close()
		r := zr
		n += countIn(t, r, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A buildkitd killed in the middle of a build fails the build (exit 1) and leaves
// no cache entry, whole or half: what streamed back is never saved.
func (w *kitWorld) testKilled(t *testing.T) {
	cacheDir := t.TempDir()
	args := w.args(t, copyTree(t, crate("slow")), "slow", "kit-slow:1", "--cache", "local", "--cache-dir", cacheDir,
		"--env", "SLOW_BUILD_SECONDS=120")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(stderr.String(), "Compiling slow") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "Compiling slow") {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		t.Fatalf("the build never reached cargo:\n%s", stderr.String())
	}
	w.Kill(t)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("the build with buildkitd killed: %v, want exit 1:\n%s", err, stderr.String())
	}
	if !regexp.MustCompile(`(?m)^error: build on buildkitd at ` + regexp.QuoteMeta(w.Addr) + `: \S`).MatchString(stderr.String()) {
		t.Errorf("no one-line error naming buildkitd:\n%s", stderr.String())
	}
	for _, entry := range []string{"registry", "target"} {
		if m, _ := filepath.Glob(filepath.Join(cacheDir, "*"+entry+"-slow*")); len(m) != 0 {
			t.Errorf("the killed build left a %s cache entry: %v", entry, m)
		}
	}
	w.Restart(t, false)
}

// An unreachable buildkitd is exit 1 and one clear line; engine auto, when the
// Docker Engine it was pointed at does not answer, builds on BuildKit when an
// address is set.
func (w *kitWorld) testUnreachable(t *testing.T) {
	src := copyTree(t, crate("hello"))
	r := runCmd(t, nil, "build", "--engine", "buildkit", "--buildkit-host", "tcp://127.0.0.1:1", "--source", src, "--binary", "hello")
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
		!strings.Contains(r.stderr, "buildkitd at tcp://127.0.0.1:1 does not answer") {
		t.Errorf("an unreachable buildkitd: want exit 1 and one line naming it, got:\n%s", r)
	}
	auto := []string{"DOCKER_HOST=unix:///nonexistent/docker.sock", "BUILDKIT_HOST=" + w.Addr}
	r = runCmd(t, auto, "build", "--source", src, "--binary", "hello", "--builder", w.builder, "--runtime-image", w.runtime,
		"--image", w.ref("kit-auto:1"), "--push")
	if r.code != 0 || !strings.Contains(r.stderr, "building on buildkitd at "+w.Addr) {
		t.Errorf("engine auto with no Docker Engine and BUILDKIT_HOST set did not build on BuildKit:\n%s", r)
	}
}

// buildkitd over tcp:// with mutual TLS, as a Kubernetes service is reached (the
// README's settings): with the right certificates the build goes through; trusting
// another CA, it is exit 1 and one line naming buildkitd and the certificate.
func (w *kitWorld) testTLS(t *testing.T) {
	src := copyTree(t, crate("hello"))
	other, err := testpki.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := other.Client()
	if err != nil {
		t.Fatal(err)
	}
	wrongCA := filepath.Join(t.TempDir(), "certs")
	if err := testpki.WriteCertPath(wrongCA, other.PEM, cl); err != nil {
		t.Fatal(err)
	}
	inNamespace := func(certs string) result {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		args := w.args(t, src, "hello", "kit-tls:1")
		args = append(args, "--buildkit-host", w.TCPAddr, "--buildkit-tls-ca-cert", certs+"/ca.pem",
			"--buildkit-tls-cert", certs+"/cert.pem", "--buildkit-tls-key", certs+"/key.pem")
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME"), "TMPDIR=" + t.TempDir()}
		return execute(t, w.Command(ctx, env, binPath, args...))
	}
	if r := inNamespace(w.ClientCerts); r.code != 0 {
		t.Fatalf("a build over mutual TLS failed:\n%s", r)
	}
	if got := w.run(t, "kit-tls:1", "tls"); !strings.Contains(got, "Hello, tls!") {
		t.Errorf("image printed %q", got)
	}
	r := inNamespace(wrongCA)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
		!strings.Contains(r.stderr, "buildkitd at "+w.TCPAddr+" does not answer") || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("trusting another CA: want exit 1 and one line naming buildkitd and the certificate, got:\n%s", r)
	}
}

// Rootless buildkitd (under rootlesskit, as the test's own user): a crate builds,
// runs, and its next build after a one-line change restores the state from the
// cache and compiles only the changed crate.
func TestBuildKitRootless(t *testing.T) {
	needDocker(t)
	t.Parallel()
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{Rootless: true})
	w := &kitWorld{BuildKit: b, builder: b.PushImage(t, builderImage, "builder-musl:1"), runtime: b.PushImage(t, runtimeImage, "busybox:1")}
	src := withGitDep(t)
	args := w.args(t, src, "gitdep", "kit-rootless:1", "--cache", "local", "--cache-dir", t.TempDir())
	w.build(t, nil, args...)
	if got := w.run(t, "kit-rootless:1"); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("image printed %q", got)
	}
	main := filepath.Join(src, "src", "main.rs")
	if err := os.WriteFile(main, []byte("fn main() {\n    println!(\"rootless: {}\", greet::greeting(\"gitdep\"));\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Restart(t, true)
	r := w.build(t, nil, args...)
	if got := compiled(r.stderr); len(got) != 1 || got[0] != "gitdep" {
		t.Errorf("after a one-line change on a fresh rootless buildkitd cargo compiled %v, want gitdep alone:\n%s", got, r.stderr)
	}
	if got := w.run(t, "kit-rootless:1"); !strings.Contains(got, "rootless: greetings, gitdep") {
		t.Errorf("image printed %q after the change", got)
	}
}

// The plugin image, run the way Woodpecker's Kubernetes backend runs a step: no
// Docker socket, BUILDKIT_HOST set to the buildkitd service. It builds and pushes.
func (w *kitWorld) testPlugin(t *testing.T) {
	img := actionImage(t)
	ws := t.TempDir()
	if err := os.Rename(copyTree(t, crate("hello")), filepath.Join(ws, "repo")); err != nil {
		t.Fatal(err)
	}
	// No Docker socket and no BuildKit address: bad input naming both.
	cmd := exec.Command("docker", "run", "--rm", "--network", "none", "-v", ws+":/woodpecker/src:ro", "-w", "/woodpecker/src/repo",
		"-e", "CI=woodpecker", "-e", "PLUGIN_BINARY=hello", "-e", "PLUGIN_OUTPUT_FILE=/tmp/out.env", img)
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 ||
		!strings.Contains(string(out), "engine: no engine to build on") || !strings.Contains(string(out), "buildkit_host") {
		t.Errorf("the plugin with neither a Docker socket nor BUILDKIT_HOST: %v, want exit 2 naming engine and buildkit_host:\n%s", err, out)
	}
	sock := strings.TrimPrefix(w.Addr, "unix://")
	out := dockerRun(t, "--network", "host", "-v", filepath.Dir(sock)+":"+filepath.Dir(sock),
		"-v", ws+":/woodpecker/src", "-w", "/woodpecker/src/repo", "-e", "CI=woodpecker",
		"-e", "BUILDKIT_HOST="+w.Addr, "-e", "PLUGIN_BINARY=hello",
		"-e", "PLUGIN_BUILDER="+w.builder, "-e", "PLUGIN_RUNTIME_IMAGE="+w.runtime,
		"-e", "PLUGIN_IMAGE="+w.ref("kit-plugin:1"), "-e", "PLUGIN_PUSH=true",
		"-e", "PLUGIN_CACHE_DIR=/woodpecker/src/.cache", img)
	if !strings.Contains(out, "building on buildkitd at "+w.Addr) {
		t.Errorf("the plugin did not say it builds on BuildKit:\n%s", out)
	}
	if got := w.run(t, "kit-plugin:1"); !strings.Contains(got, "Hello, world!") {
		t.Errorf("image printed %q\n%s", got, out)
	}
	if m, _ := filepath.Glob(filepath.Join(ws, ".cache", "*target-hello-*")); len(m) != 1 {
		t.Errorf("want the target entry in the plugin's cache dir, got %v\n%s", m, out)
	}
}

// syncBuffer is a buffer one goroutine writes while another reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// indexManifest is the index manifest pushed as ref, for a failure's message.
func indexManifest(t *testing.T, ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err.Error()
	}
	d, err := remote.Get(r)
	if err != nil {
		return err.Error()
	}
	return string(d.Manifest)
}
