// Package testenv is what the Docker-backed test packages (test/e2e, test/act) share:
// the offline test images they use, and building the command and the action image.
package testenv

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// The test images, from the Makefile's test-images and test-builder-gnu targets; each
// can be overridden through the environment for another setup, with the Makefile's
// variable of the same name.
//
// RustImage is the toolchain: Debian's rustc-web with the x86_64-unknown-linux-musl
// target built offline (hack/rust-musl/), and the host's -gnu std. BuilderImage is
// our builder on it with the s2i Dockerfile's default target, musl, as users get it.
// CratesBuilderImage is BuilderImage with Debian's packaged crate sources in
// /usr/share/cargo/registry, one layer on top (hack/test-images.sh: crates), for the
// test crates that resolve their dependencies there: BuilderImage is the slim
// builder, and carries no crate sources, as no user's builder does.
// GnuBuilderImage is the same toolchain with --target x86_64-unknown-linux-gnu
// (+crt-static), for the tests of that target; Docker does not require it, so a test
// that uses it checks it with NeedImage.
var (
	RustImage       = envOr("TEST_RUST_IMAGE", "rust-s2i-test/rust-musl:1.96")
	RuntimeImage    = envOr("TEST_RUNTIME_IMAGE", "rust-s2i-test/busybox:latest")
	BuilderImage    = envOr("TEST_BUILDER_IMAGE", "rust-s2i-test/builder-musl:latest")
	GnuBuilderImage = envOr("TEST_GNU_BUILDER_IMAGE", "rust-s2i-test/builder-gnu:latest")

	CratesBuilderImage = envOr("TEST_CRATES_BUILDER_IMAGE", "rust-s2i-test/builder-crates:latest")
)

// The targets of BuilderImage and GnuBuilderImage.
const (
	MuslTarget = "x86_64-unknown-linux-musl"
	GnuTarget  = "x86_64-unknown-linux-gnu"
)

// ActionImage is the action/plugin image built offline: the static command on the
// busybox base, as the real Dockerfile puts it on Alpine (which needs a registry).
const ActionImage = "rust-s2i-test/action:latest"

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// GoBuild builds pkg (a path relative to the repository, or a module path) into out
// as a static binary.
func GoBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// DockerBuild builds tag from a Dockerfile and the files beside it, with the
// classic builder, which needs no registry for a local base.
func DockerBuild(tag, dockerfile string, files map[string][]byte) error {
	dir, err := os.MkdirTemp("", "rust-s2i-context")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files["Dockerfile"] = []byte(dockerfile)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			return err
		}
	}
	cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", tag, err, out)
	}
	return nil
}

// BuildActionImage builds ActionImage from the command at binPath.
func BuildActionImage(binPath string) error {
	data, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	return DockerBuild(ActionImage, "FROM "+RuntimeImage+"\n"+
		"COPY rust-s2i-musl /usr/local/bin/rust-s2i-musl\n"+
		"ENTRYPOINT [\"/usr/local/bin/rust-s2i-musl\"]\nCMD [\"build\"]\n",
		map[string][]byte{"rust-s2i-musl": data})
}

// CopyTree copies a crate from src to dst: what a build of it sees (source.Walk),
// so a test's copy holds exactly what the build uploads.
func CopyTree(src, dst string) error {
	return source.Walk(src, func(p, rel string, info fs.FileInfo) error {
		to := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(to, 0o755)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
}

// Git runs git in dir with a fixed identity and fixed dates, so that commits made
// by tests have the same hashes and times on every run.
func Git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Docker connects to the daemon and checks that the test images are there, so that a
// missing daemon or image fails the run with the command that fixes it.
func Docker(ctx context.Context) (*client.Client, error) {
	c, err := engine.Connect(ctx, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("these tests need a Docker daemon (run `make test`): %w", err)
	}
	for _, img := range []string{RustImage, RuntimeImage, BuilderImage} {
		if err := NeedImage(ctx, c, img); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// NeedImage fails with the make target that builds img when the daemon does not have
// it: test-builder-gnu for GnuBuilderImage, test-images for the others.
func NeedImage(ctx context.Context, c *client.Client, img string) error {
	if _, err := c.ImageInspect(ctx, img); err != nil {
		target := "test-images"
		if img == GnuBuilderImage {
			target = "test-builder-gnu"
		}
		return fmt.Errorf("test image %s is missing (run `make %s`): %w", img, target, err)
	}
	return nil
}

// FreePort is a loopback port that nothing listened on a moment ago, so that
// parallel test runs each get their own server. Whatever takes it next takes it a
// moment later: the usual small race of this idiom.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
