package remote

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

var (
	binPath string         // the command under test, built once
	local   *client.Client // the daemon on the local socket, whose test images the others get
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if spec := os.Getenv(forwardEnv); spec != "" {
		return forward(spec) // this binary run as TestTwoEnginesOneDigest's port forwarder, no test
	}
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test skips itself
	}
	dir, err := os.MkdirTemp("", "rust-s2i-musl-remote")
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
	if local, err = testenv.Docker(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer local.Close()
	return m.Run()
}

func needPeers(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a second dockerd and an sshd; runs without -short")
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

// runCmd runs cmd, which runs the command under test, and collects what it printed.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
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

// buildArgs builds examples/hello (copied to src) into final, with the test images.
func buildArgs(src, final, tmp string) []string {
	return []string{"build", "--source", src, "--binary", "hello",
		"--builder", testenv.BuilderImage, "--runtime-image", testenv.RuntimeImage,
		"--image", final, "--tmp-image", tmp}
}

// exampleCopy is a copy of examples/hello in a directory of the test's.
func exampleCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "hello")
	if err := testenv.CopyTree(filepath.Join(testenv.RepoRoot(), "examples", "hello"), src); err != nil {
		t.Fatal(err)
	}
	return src
}

// command runs a setup command and returns its combined output.
func command(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// rootCmd is a command run as root: directly when the tests run as root (as in
// .ci/run), through passwordless sudo otherwise (as on a GitHub runner).
func rootCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "sudo", append([]string{"-n", name}, args...)...)
}

// asRoot runs a setup command as root and returns its combined output.
func asRoot(name string, args ...string) (string, error) {
	out, err := rootCmd(context.Background(), name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitFor polls ok until it is true or d has passed.
func waitFor(d time.Duration, ok func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}
