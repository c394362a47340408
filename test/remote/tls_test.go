package remote

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// command runs the command under test inside the daemon's network namespace, as
// the test's own user, with exactly env (and PATH).
func (d *tlsDaemon) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	inner := append([]string{"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	inner = append(append(inner, binPath), args...)
	if os.Geteuid() != 0 {
		// nsenter needs root; the build runs as the user, as on a runner.
		inner = append([]string{"setpriv", fmt.Sprintf("--reuid=%d", os.Getuid()), fmt.Sprintf("--regid=%d", os.Getgid()), "--init-groups"}, inner...)
	}
	return rootCmd(ctx, "nsenter", append([]string{"--net=/run/netns/" + d.netns}, inner...)...)
}

// removeImages removes the images now and when the test ends: a leftover of an
// earlier run would make the build up to date, and so not a build at all.
func (d *tlsDaemon) removeImages(t *testing.T, names ...string) {
	t.Helper()
	remove := func() {
		for _, n := range names {
			_, _ = d.api.ImageRemove(context.Background(), n, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	}
	remove()
	t.Cleanup(remove)
}

// The docker:dind setup: DOCKER_HOST=tcp://…:2376, DOCKER_TLS_VERIFY=1 and
// DOCKER_CERT_PATH. A build of examples/hello goes to that daemon (its S2I child
// too), a wrong CA fails with one sentence, and a Docker context that names the same
// daemon reaches it as well.
func TestTLSDaemon(t *testing.T) {
	needPeers(t)
	t.Parallel()
	d := startTLSDaemon(t)
	const final, tmp = "rust-s2i-remote/hello:tls", "rust-s2i-remote/hello-tmp:tls"
	d.removeImages(t, final, tmp)
	src := exampleCopy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	home := t.TempDir()
	env := []string{"HOME=" + home, "DOCKER_HOST=" + tlsAddr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + d.certs}

	t.Run("build", func(t *testing.T) {
		r := runCmd(t, d.command(ctx, env, buildArgs(src, final, tmp)...))
		if r.code != 0 {
			t.Fatalf("build through %s with TLS:\n%s", tlsAddr, r)
		}
		if !strings.Contains(r.stderr, "Compiling hello") {
			t.Errorf("cargo did not compile the crate:\n%s", r)
		}
		img, err := d.api.ImageInspect(ctx, final)
		if err != nil {
			t.Fatalf("the final image is not on the TLS daemon: %v\n%s", err, r)
		}
		if !strings.Contains(r.stdout, "image-id="+img.ID) {
			t.Errorf("outputs name another image than the daemon's %s:\n%s", img.ID, r)
		}
		if _, err := local.ImageInspect(ctx, final); err == nil {
			t.Errorf("%s is on the local daemon too", final)
		}
		out, err := engine.Output(ctx, d.api, final, "/usr/local/bin/hello")
		if err != nil || !strings.Contains(out, "Hello, world!") {
			t.Errorf("running %s on the TLS daemon: %q, %v", final, out, err)
		}
	})

	t.Run("a wrong CA is one sentence", func(t *testing.T) {
		other, err := testpki.NewCA("not the daemon's CA")
		if err != nil {
			t.Fatal(err)
		}
		cl, err := d.ca.Client() // a good client certificate: only the CA is wrong
		if err != nil {
			t.Fatal(err)
		}
		wrong := filepath.Join(t.TempDir(), "certs")
		if err := testpki.WriteCertPath(wrong, other.PEM, cl); err != nil {
			t.Fatal(err)
		}
		env := []string{"HOME=" + home, "DOCKER_HOST=" + tlsAddr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + wrong}
		r := runCmd(t, d.command(ctx, env, buildArgs(src, final, tmp)...))
		want := "error: the Docker daemon at " + tlsAddr + " failed TLS verification: its certificate is not signed by the CA (ca.pem) in DOCKER_CERT_PATH=" + wrong + "\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("want exit 1 and exactly\n%s\ngot:\n%s", want, r)
		}
	})

	t.Run("a Docker context", func(t *testing.T) {
		cfg := filepath.Join(home, ".docker")
		create := exec.CommandContext(ctx, "docker", "context", "create", "dind", "--docker",
			"host="+tlsAddr+",ca="+d.certs+"/ca.pem,cert="+d.certs+"/cert.pem,key="+d.certs+"/key.pem")
		create.Env = append(os.Environ(), "DOCKER_CONFIG="+cfg)
		if out, err := create.CombinedOutput(); err != nil {
			t.Fatalf("docker context create: %v\n%s", err, out)
		}
		// No DOCKER_* at all: the context comes from DOCKER_CONTEXT and HOME/.docker.
		r := runCmd(t, d.command(ctx, []string{"HOME=" + home, "DOCKER_CONTEXT=dind"}, buildArgs(src, final, tmp)...))
		img, err := d.api.ImageInspect(ctx, final)
		if r.code != 0 || err != nil || !strings.Contains(r.stdout, "image-id="+img.ID) {
			t.Errorf("build through the context: %v\n%s", err, r)
		}
	})
}
