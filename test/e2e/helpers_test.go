package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

var (
	binPath string // the command under test, built once
	docker  *client.Client
)

// The test images, shared with test/act.
var (
	rustImage    = testenv.RustImage
	runtimeImage = testenv.RuntimeImage
	builderImage = testenv.BuilderImage
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test skips itself
	}
	defer weed.Stop()
	dir, err := os.MkdirTemp("", "rust-s2i-musl-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "rust-s2i-musl")
	if err := testenv.GoBuild(binPath, "./cmd/rust-s2i-musl"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if docker, err = testenv.Docker(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker daemon; runs without -short")
	}
}

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// runCmd runs the command with args and the given extra environment.
func runCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	r := execute(t, cmd)
	removeBuiltImages(t, args)
	return r
}

// execute runs cmd and returns its exit code and output. Only a command that
// could not run fails the test.
func execute(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", cmd.Args, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// removeBuiltImages has the images that a run with args left under its --image and
// --tmp-image names removed when the test ends if nothing tags them then: a later
// build of the same names replaces them, and names' cleanup, which removes by name,
// would leave them untagged behind. An image that is still tagged stays: builds are
// reproducible, so another test's image may have the same ID.
func removeBuiltImages(t *testing.T, args []string) {
	t.Helper()
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "--image" && args[i] != "--tmp-image" {
			continue
		}
		if id := imageID(t, args[i+1]); id != "" {
			t.Cleanup(func() {
				in, err := docker.ImageInspect(context.Background(), id)
				if err == nil && len(in.RepoTags) == 0 {
					_, _ = docker.ImageRemove(context.Background(), id, client.ImageRemoveOptions{PruneChildren: true})
				}
			})
		}
	}
}

// names gives a test its own final and -tmp image names, removed when it ends.
func names(t *testing.T) (final, tmp string) {
	t.Helper()
	base := "rust-s2i-e2e-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	final, tmp = base, base+"-tmp"
	t.Cleanup(func() {
		for _, img := range []string{final, tmp} {
			_, _ = docker.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	})
	return final, tmp
}

// builderFor is the test builder for the crate in src: the slim builder, or the
// one with Debian's crate sources for a crate whose .cargo/config.toml resolves
// its dependencies from them (ring, the C libraries' -sys crates).
func builderFor(src string) string {
	cfg, err := os.ReadFile(filepath.Join(src, ".cargo", "config.toml"))
	if err == nil && strings.Contains(string(cfg), debianRegistry) {
		return testenv.CratesBuilderImage
	}
	return builderImage
}

// debianRegistry is where Debian's packaged crates are unpacked.
const debianRegistry = "/usr/share/cargo/registry"

// buildArgs are the flags every test build uses, plus its own.
func buildArgs(src, binary, final, tmp string, extra ...string) []string {
	return append([]string{"build", "--source", src, "--binary", binary,
		"--builder", builderFor(src), "--runtime-image", runtimeImage,
		"--image", final, "--tmp-image", tmp}, extra...)
}

// mustBuild runs a build and fails the test unless it succeeds.
func mustBuild(t *testing.T, src, binary, final, tmp string, extra ...string) result {
	t.Helper()
	r := runCmd(t, nil, buildArgs(src, binary, final, tmp, extra...)...)
	if r.code != 0 {
		t.Fatalf("build failed:\n%s", r)
	}
	return r
}

// copyTree copies a test crate into a fresh directory the test may change.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := testenv.CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// inWorkspace copies the test crate name into dir/sub of a fresh workspace, as a CI
// checks a repository out, and returns both.
func inWorkspace(t *testing.T, name, sub string) (ws, src string) {
	t.Helper()
	ws = t.TempDir()
	src = filepath.Join(ws, sub)
	if err := os.Rename(copyTree(t, crate(name)), src); err != nil {
		t.Fatal(err)
	}
	return ws, src
}

// imageID returns the ID of img, or "" when the daemon does not have it.
func imageID(t *testing.T, img string) string {
	t.Helper()
	in, err := docker.ImageInspect(context.Background(), img)
	if err != nil {
		return ""
	}
	return in.ID
}

// runImage runs img with args and returns what it printed.
func runImage(t *testing.T, img string, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"run", "--rm", img}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run %s: %v\n%s", img, err, out)
	}
	return string(out)
}

// dockerRun runs a throwaway container for test setup. What it writes into the
// test's temporary directories through -v mounts is given back to the test's user
// at the end (see ownBack).
func dockerRun(t *testing.T, args ...string) string {
	t.Helper()
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-v" {
			host, _, _ := strings.Cut(args[i+1], ":")
			if strings.HasPrefix(host, os.TempDir()+"/") {
				ownBack(t, host)
			}
		}
	}
	out, err := exec.Command("docker", append([]string{"run", "--rm"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// git runs git in dir with fixed identities and dates, so commits are reproducible.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := testenv.Git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// initRepo makes dir a git repository with everything in it committed.
func initRepo(t *testing.T, dir string) {
	t.Helper()
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "test")
}

// isStatic reports whether the ELF file has no interpreter and no shared libraries.
func isStatic(t *testing.T, data []byte) bool {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("binary is not ELF: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return len(libs) == 0
}

// binaryOf reads the binary out of a final image.
func binaryOf(t *testing.T, img, binary string) []byte {
	t.Helper()
	data, err := image.ReadFile(context.Background(), docker, img, image.BinDir+"/"+binary)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func repoRoot() string { return testenv.RepoRoot() }

// command runs a setup command and returns its combined output.
func command(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// asRoot runs a setup command as root: directly when the tests run as root (as in
// .ci/run here), through passwordless sudo otherwise (as on a GitHub runner).
func asRoot(name string, args ...string) (string, error) {
	if os.Geteuid() == 0 {
		return command(name, args...)
	}
	return command("sudo", append([]string{"-n", name}, args...)...)
}

// ownBack gives dir, and all below it, back to the test's user when the test ends,
// before the test's temporary directories are removed: containers run as root, and
// a user who is not root (as on a GitHub runner) could not remove what they wrote.
// Call it after the temporary directory that holds dir was made.
func ownBack(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	t.Cleanup(func() {
		if out, err := asRoot("chown", "-R", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()), dir); err != nil {
			t.Logf("giving %s back: %v\n%s", dir, err, out)
		}
	})
}

// relabelledBuilder is the test builder with label (KEY=VALUE) set over its own, as
// a builder made another way would say it: an image of its own, named for kind and
// the test, removed when the test ends.
func relabelledBuilder(t *testing.T, kind, label string) string {
	t.Helper()
	return relabelled(t, builderImage, kind, label)
}

// relabelled is base with label set, for a test's builder of its own.
func relabelled(t *testing.T, base, kind, label string) string {
	t.Helper()
	tag := "rust-s2i-e2e-" + kind + "-builder:" + strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	key, value, _ := strings.Cut(label, "=")
	if err := testenv.DockerBuild(tag, "FROM "+base+"\nLABEL "+key+"="+strconv.Quote(value)+"\n", map[string][]byte{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { command("docker", "rmi", "-f", tag) })
	return tag
}
