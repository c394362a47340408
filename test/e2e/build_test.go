package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func crate(name string) string {
	if name == "hello" {
		return filepath.Join(repoRoot(), "examples", "hello")
	}
	return filepath.Join(repoRoot(), "testdata", "crates", name)
}

// A std-only crate becomes a runnable image: the base's layers plus one, a static binary.
func TestStdOnlyCrate(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	r := mustBuild(t, crate("hello"), "hello", final, tmp)

	if got := runImage(t, final, "e2e"); !strings.Contains(got, "Hello, e2e!") {
		t.Errorf("image printed %q, want the crate's greeting", got)
	}
	ctx := context.Background()
	base, err := docker.ImageInspect(ctx, runtimeImage)
	if err != nil {
		t.Fatal(err)
	}
	img, err := docker.ImageInspect(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(img.RootFS.Layers), len(base.RootFS.Layers)+1; got != want {
		t.Fatalf("final image has %d layers, want the base's %d plus one", got, len(base.RootFS.Layers))
	}
	for i, l := range base.RootFS.Layers {
		if img.RootFS.Layers[i] != l {
			t.Errorf("layer %d is %s, want the base's %s", i, img.RootFS.Layers[i], l)
		}
	}
	if !isStatic(t, binaryOf(t, final, "hello")) {
		t.Error("the binary is dynamically linked")
	}
	if img.Config.User == "" || img.Config.User == "root" || strings.HasPrefix(img.Config.User, "0") {
		t.Errorf("final image user is %q, want a non-root user", img.Config.User)
	}
	if got := img.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/hello" {
		t.Errorf("entrypoint = %v", got)
	}
	for _, l := range []string{"org.opencontainers.image.created", "org.opencontainers.image.title",
		"org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"} {
		if img.Config.Labels[l] == "" {
			t.Errorf("label %s is missing", l)
		}
	}
	for _, phase := range []string{"s2i build", "package"} {
		if !regexp.MustCompile(`<== ` + phase + ` \([0-9.]+m?s\)`).MatchString(r.stderr) {
			t.Errorf("no timed phase %q in the output:\n%s", phase, r.stderr)
		}
	}
	for _, part := range []string{"s2i build: container start, source in", "s2i build: cargo",
		"s2i build: binary out on stdout", "s2i build: commit", "package: written during the commit"} {
		if !regexp.MustCompile(part + ` \([0-9.]+m?s\)`).MatchString(r.stderr) {
			t.Errorf("no timing for %q in the output:\n%s", part, r.stderr)
		}
	}
	// How the images arrived: the test images are on the engine, never pulled.
	for _, line := range []string{"builder image: " + builderImage + ", already on the engine",
		"runtime image: " + runtimeImage + ", already on the engine"} {
		if !strings.Contains(r.stderr, line) {
			t.Errorf("the log does not say %q:\n%s", line, r.stderr)
		}
	}
	if !regexp.MustCompile(`prepare images: builder image \([0-9.]+m?s\)`).MatchString(r.stderr) {
		t.Errorf("no timing for getting the builder image in the output:\n%s", r.stderr)
	}
	// The binary passes on assemble's stdout, but never into the log.
	if strings.Contains(r.stderr, "rust-s2i-collect-") {
		t.Errorf("the binary's hand-over shows in the log:\n%s", r.stderr)
	}
	for _, out := range []string{"image=" + final, "tmp-image=" + tmp, "image-id=sha256:"} {
		if !strings.Contains(r.stdout, out) {
			t.Errorf("outputs lack %q:\n%s", out, r.stdout)
		}
	}
}

// Rebuilding the same commit gives the identical image ID, its time being the commit's.
func TestReproducible(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	initRepo(t, src)
	final, tmp := names(t)
	mustBuild(t, src, "hello", final, tmp)
	first := imageID(t, final)
	// A clean rebuild compiles everything again and must still land on the same ID.
	mustBuild(t, src, "hello", final, tmp, "--clean")
	if second := imageID(t, final); second != first {
		t.Errorf("rebuild of the same commit gave %s, first build %s", second, first)
	}
	in, err := docker.ImageInspect(context.Background(), final)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Config.Labels["org.opencontainers.image.created"]; got != "2024-01-02T03:04:05Z" {
		t.Errorf("created label = %q, want the commit time", got)
	}
	if got, want := in.Config.Labels["org.opencontainers.image.revision"], git(t, src, "rev-parse", "HEAD"); got != want {
		t.Errorf("revision label = %q, want %q", got, want)
	}
}

// withGitDep copies the gitdep crate and makes vendor/greet a git repository inside
// it, with a Cargo.lock pointing at that repository's commit.
func withGitDep(t *testing.T) string {
	t.Helper()
	src := copyTree(t, crate("gitdep"))
	dep := filepath.Join(src, "vendor", "greet")
	if err := os.MkdirAll(filepath.Dir(dep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(copyTree(t, crate("greet")), dep); err != nil {
		t.Fatal(err)
	}
	initRepo(t, dep)
	// Resolve the lock file where the source will be, /opt/app-root/src, with the builder's cargo.
	dockerRun(t, "--network", "none", "-v", src+":/opt/app-root/src", "-w", "/opt/app-root/src", rustImage,
		"cargo", "generate-lockfile")
	return src
}

// A git dependency inside the source tree builds; the second build, after a one-line
// change, recompiles only the workspace crate and finds the dependency in the restored
// cargo home even when the repository it came from is gone.
func TestIncrementalGitDependency(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := withGitDep(t)
	final, tmp := names(t)
	r := mustBuild(t, src, "gitdep", final, tmp)
	for _, want := range []string{"Compiling greet", "Compiling gitdep"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("cold build did not print %q", want)
		}
	}
	if got := runImage(t, final); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("image printed %q", got)
	}

	main := filepath.Join(src, "src", "main.rs")
	if err := os.WriteFile(main, []byte("fn main() {\n    println!(\"changed: {}\", greet::greeting(\"gitdep\"));\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without the repository only the cargo home restored from the -tmp image has it.
	if err := os.RemoveAll(filepath.Join(src, "vendor")); err != nil {
		t.Fatal(err)
	}
	r = mustBuild(t, src, "gitdep", final, tmp)
	if !strings.Contains(r.stderr, "building on top of "+tmp) {
		t.Errorf("second build was not incremental:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("second build recompiled the dependency:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Compiling gitdep") {
		t.Errorf("second build did not recompile the changed crate:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "changed: greetings, gitdep") {
		t.Errorf("image printed %q after the change", got)
	}
}

// A workspace with two binaries: --binary picks one, an unknown name lists both.
func TestWorkspaceBinaries(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	mustBuild(t, crate("workspace"), "worker", final, tmp)
	if got := runImage(t, final); !strings.Contains(got, "this is worker") {
		t.Errorf("image printed %q, want the worker binary", got)
	}

	nf, nt := names(t)
	nf, nt = nf+"-nope", nt+"-nope"
	r := runCmd(t, nil, buildArgs(crate("workspace"), "nope", nf, nt)...)
	if r.code != 2 {
		t.Fatalf("unknown binary: want exit 2\n%s", r)
	}
	for _, want := range []string{"--binary", `"nope"`, "api", "worker"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if imageID(t, nf) != "" || imageID(t, nt) != "" {
		t.Error("a bad --binary still made an image")
	}
}

// Bad input exits 2, names each input, and leaves the daemon's images as they were.
func TestBadInput(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing binary", []string{"build", "--source", crate("hello")}, []string{"--binary", "required"}},
		{"missing source", []string{"build", "--binary", "hello", "--source", "/does/not/exist"}, []string{"--source", "/does/not/exist", "does not exist"}},
		{"bad image", []string{"build", "--binary", "hello", "--source", crate("hello"), "--image", "Bad Image!"}, []string{"--image", "Bad Image!", "not a valid image reference"}},
		{"all at once", []string{"build", "--source", "/does/not/exist", "--image", "two words", "--runtime-image", "::", "--cache", "s3"},
			[]string{"--binary", "--source", "--image", "--runtime-image", "--cache-bucket", "required with cache s3"}},
		{"unknown flag", []string{"build", "--binray", "hello"}, []string{"binray"}},
	}
	// Every case names the hello crate, whose images would be rust-musl-hello(-tmp).
	defaults := []string{"rust-musl-hello", "rust-musl-hello-tmp"}
	before := map[string]string{}
	for _, img := range defaults {
		before[img] = imageID(t, img)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != 2 {
				t.Fatalf("want exit 2\n%s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
	for _, img := range defaults {
		if got := imageID(t, img); got != before[img] {
			t.Errorf("bad input changed %s: %q, was %q", img, got, before[img])
		}
	}
}

// A daemon that does not answer is one clear sentence, not a stack trace.
func TestDeadDaemon(t *testing.T) {
	needDocker(t)
	t.Parallel()
	sock := "unix://" + filepath.Join(t.TempDir(), "dead.sock")
	r := runCmd(t, []string{"DOCKER_HOST=" + sock}, "build", "--binary", "hello", "--source", crate("hello"))
	if r.code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	if !strings.Contains(r.stderr, "no Docker daemon answers at "+sock) {
		t.Errorf("message does not say the daemon is unreachable:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stack trace in the output:\n%s", r.stderr)
	}
	if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 2 {
		t.Errorf("want a short message, got %d lines:\n%s", n+1, r.stderr)
	}
}

// A compile error exits 1, shows cargo's error, and leaves the earlier images alone.
func TestCompileError(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	mustBuild(t, src, "hello", final, tmp)
	finalID, tmpID := imageID(t, final), imageID(t, tmp)

	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    let x: u32 = \"not a number\";\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, nil, buildArgs(src, "hello", final, tmp)...)
	if r.code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	for _, want := range []string{"error[E0308]: mismatched types", "src/main.rs:2"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("output lacks cargo's %q:\n%s", want, r.stderr)
		}
	}
	if got := imageID(t, final); got != finalID {
		t.Errorf("final image changed: %s, was %s", got, finalID)
	}
	if got := imageID(t, tmp); got != tmpID {
		t.Errorf("-tmp image changed: %s, was %s", got, tmpID)
	}
}

// A source is a git URL, which S2I clones, or a directory, copied with its
// uncommitted changes.
func TestSources(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	initRepo(t, src)
	main := filepath.Join(src, "src", "main.rs")
	if err := os.WriteFile(main, []byte("fn main() {\n    println!(\"uncommitted change\");\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	final, tmp := names(t)
	mustBuild(t, src, "hello", final, tmp)
	if got := runImage(t, final); !strings.Contains(got, "uncommitted change") {
		t.Errorf("a directory source lost its uncommitted change: image printed %q", got)
	}

	gf, gt := final+"-git", tmp+"-git"
	t.Cleanup(func() {
		for _, img := range []string{gf, gt} {
			_ = exec.Command("docker", "rmi", "-f", img).Run()
		}
	})
	r := mustBuild(t, "file://"+src, "hello", gf, gt)
	if got := runImage(t, gf, "git"); !strings.Contains(got, "Hello, git!") {
		t.Errorf("a git URL source should build the committed tree: image printed %q\n%s", got, r.stderr)
	}
	in, err := docker.ImageInspect(context.Background(), gf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := in.Config.Labels["org.opencontainers.image.revision"], git(t, src, "rev-parse", "HEAD"); got != want {
		t.Errorf("revision label = %q, want %q", got, want)
	}
	if got := in.Config.Labels["org.opencontainers.image.source"]; got != "file://"+src {
		t.Errorf("source label = %q", got)
	}
}

// An unchanged rebuild does no build at all and still reports the right outputs;
// any change to the source builds again.
func TestUnchangedRebuildIsNoOp(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	first := mustBuild(t, src, "hello", final, tmp)
	again := mustBuild(t, src, "hello", final, tmp)
	if !strings.Contains(again.stderr, "is up to date") || strings.Contains(again.stderr, "==> s2i build") {
		t.Errorf("unchanged rebuild ran the build:\n%s", again.stderr)
	}
	if again.stdout != first.stdout {
		t.Errorf("outputs differ:\nfirst:\n%s\nagain:\n%s", first.stdout, again.stdout)
	}
	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    println!(\"edited\");\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustBuild(t, src, "hello", final, tmp)
	if strings.Contains(r.stderr, "is up to date") {
		t.Fatalf("a changed source was taken as up to date:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "edited") {
		t.Errorf("image printed %q", got)
	}
}

// Builds stack on the previous -tmp image while its builder stays the same; after a
// builder change the next build starts over from the new builder, the state
// carried over container to container (never S2I's save-artifacts, which untars on
// the host) into one layer it then stacks on, and the result is correct either way.
func TestStackingAndSquash(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	mustBuild(t, src, "hello", final, tmp)
	main := filepath.Join(src, "src", "main.rs")
	edit := func(msg string) {
		t.Helper()
		if err := os.WriteFile(main, []byte("fn main() {\n    println!(\""+msg+"\");\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("stacked")
	r := mustBuild(t, src, "hello", final, tmp)
	if !strings.Contains(r.stderr, "building on top of "+tmp) {
		t.Errorf("the second build did not stack:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "stacked") {
		t.Errorf("image printed %q", got)
	}

	// Another builder: the same image under a new ID, as after a toolchain update.
	other := "rust-s2i-e2e-builder-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM "+builderImage+"\nLABEL rebuilt=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := command("docker", "build", "-q", "-t", other, "-f", dockerfile, filepath.Dir(dockerfile)); err != nil {
		t.Fatalf("making another builder: %v\n%s", err, out)
	}
	t.Cleanup(func() { command("docker", "rmi", "-f", other) })
	edit("squashed")
	stacked := imageID(t, tmp)
	r = runCmd(t, nil, "build", "--source", src, "--binary", "hello", "--builder", other,
		"--runtime-image", runtimeImage, "--image", final, "--tmp-image", tmp)
	if r.code != 0 {
		t.Fatalf("build with another builder failed:\n%s", r)
	}
	if !strings.Contains(r.stderr, "building from "+other+" with the state of "+tmp) || !strings.Contains(r.stderr, "building on top of "+tmp) {
		t.Errorf("a new builder should start over from it with the old state:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Restoring build state") {
		t.Errorf("S2I's save-artifacts path ran:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "squashed") {
		t.Errorf("image printed %q", got)
	}
	b, _ := docker.ImageInspect(context.Background(), other)
	tm, _ := docker.ImageInspect(context.Background(), tmp)
	if got := len(tm.RootFS.Layers) - len(b.RootFS.Layers); got != 2 {
		t.Errorf("the -tmp image is %d layers above the new builder, want 2 (the state, the build)", got)
	}
	if _, err := docker.ImageInspect(context.Background(), stacked); err == nil {
		t.Errorf("the replaced -tmp image %s is still in the daemon", stacked)
	}
}

// A workspace owned by another user, as GitHub mounts it into a container action,
// still yields its commit: git's "dubious ownership" check does not stop the build
// from reading it.
func TestWorkspaceOwnedByAnotherUser(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	initRepo(t, src)
	// chown needs root: the tests run as root or with passwordless sudo.
	if out, err := asRoot("chown", "-R", "4242:4242", src); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	ownBack(t, src)
	final, tmp := names(t)
	mustBuild(t, src, "hello", final, tmp)
	in, err := docker.ImageInspect(context.Background(), final)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Config.Labels["org.opencontainers.image.revision"]; len(got) != 40 {
		t.Errorf("revision label = %q, want the commit of a repository owned by another user", got)
	}
}
