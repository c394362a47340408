package remote

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// DOCKER_HOST=ssh://root@127.0.0.1:PORT: the docker CLI's connection helper runs
// `ssh … docker system dial-stdio`, here through a real sshd to the local daemon. A
// whole build goes that way: the command's connection, and its S2I child's, which
// runs an ssh of its own.
func TestSSH(t *testing.T) {
	needPeers(t)
	t.Parallel()
	s := startSSHD(t)
	const final, tmp = "rust-s2i-remote/hello:ssh", "rust-s2i-remote/hello-tmp:ssh"
	remove := func() {
		for _, n := range []string{final, tmp} {
			_, _ = local.ImageRemove(context.Background(), n, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	}
	remove() // a leftover would make the build up to date
	t.Cleanup(remove)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	r := runCmd(t, s.command(ctx, t.TempDir(), buildArgs(exampleCopy(t), final, tmp)...))
	if r.code != 0 {
		t.Fatalf("build over ssh://root@%s:\n%s", s.addr, r)
	}
	if !strings.Contains(r.stderr, "Compiling hello") {
		t.Errorf("cargo did not compile the crate:\n%s", r)
	}
	img, err := local.ImageInspect(ctx, final)
	if err != nil || !strings.Contains(r.stdout, "image-id="+img.ID) {
		t.Errorf("the daemon behind ssh has no %s, or another one: %v\n%s", final, err, r)
	}

	// ssh's own complaint, in one line, not the connection helper's paragraph.
	closed := testenv.FreePort(t)
	bad := s.command(ctx, t.TempDir(), buildArgs(exampleCopy(t), final, tmp)...)
	host := fmt.Sprintf("ssh://root@127.0.0.1:%d", closed)
	bad.Env = append(bad.Env, "DOCKER_HOST="+host)
	r = runCmd(t, bad)
	want := fmt.Sprintf("error: the Docker daemon at %s cannot be reached over ssh (ssh: connect to host 127.0.0.1 port %d: Connection refused): ", host, closed)
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("want exit 1 and one line starting with\n%s\ngot:\n%s", want, r)
	}
}
