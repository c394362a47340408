package remote

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// sshServer is an sshd on loopback that lets one key in as root, whose `docker` is
// the local daemon's CLI: what `docker system dial-stdio` runs on the far side.
type sshServer struct {
	addr string // 127.0.0.1:PORT
	// bin holds an ssh that reads the test's client config: OpenSSH takes ~/.ssh from
	// the password database, not from $HOME, so a temporary HOME cannot carry it.
	bin string
}

// startSSHD starts the server with a host key and a client key made for this run,
// and stops it when the test ends.
func startSSHD(t *testing.T) *sshServer {
	t.Helper()
	sshd := findTool(t, "sshd", "openssh-server")
	keygen := findTool(t, "ssh-keygen", "openssh-client")
	sshBin := findTool(t, "ssh", "openssh-client")
	dir := t.TempDir()
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "rust-s2i-test", "-f", filepath.Join(dir, k)); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	clientPub, err := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	s := &sshServer{addr: fmt.Sprintf("127.0.0.1:%d", port), bin: filepath.Join(dir, "bin")}
	files := map[string]string{
		"authorized_keys": string(clientPub),
		"known_hosts":     fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub),
		// Only this key, only root, only loopback. StrictModes off: the files are in
		// the test's temporary directory, below the world-writable /tmp. No PAM: its
		// session modules expect a login the container may not allow.
		"sshd_config": fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PidFile %s/sshd.pid
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
`, port, dir, dir, dir),
		"ssh_config": fmt.Sprintf(`Host 127.0.0.1
  IdentityFile %s/client_key
  IdentitiesOnly yes
  UserKnownHostsFile %s/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`, dir, dir),
		"bin/ssh": fmt.Sprintf("#!/bin/sh\nexec %s -F %s/ssh_config \"$@\"\n", sshBin, dir),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// sshd's privilege separation directory, which its package makes at boot.
	if out, err := asRoot("mkdir", "-p", "-m", "0755", "/run/sshd"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd := rootCmd(context.Background(), sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("sshd's log:\n%s", tail(log.String(), 30))
		}
	})
	up := waitFor(20*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if !up {
		t.Fatalf("sshd did not listen on %s:\n%s", s.addr, log.String())
	}
	return s
}

// command runs the command under test with DOCKER_HOST=ssh://root@addr, and PATH
// leading to the ssh that reads the test's config.
func (s *sshServer) command(ctx context.Context, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = []string{
		"PATH=" + s.bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"DOCKER_HOST=ssh://root@" + s.addr,
	}
	return cmd
}
