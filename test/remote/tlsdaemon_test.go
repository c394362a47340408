package remote

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// tlsDataRoot is the second daemon's --data-root. It is kept between runs, so that
// the test images (1.2 GB) are loaded into it once: a run finds them by image ID.
// TEST_TLS_DOCKERD_ROOT moves it.
var tlsDataRoot = envOr("TEST_TLS_DOCKERD_ROOT", "/var/lib/rust-s2i-test/dockerd-tls")

// tlsAddr is where the daemon listens inside its own network namespace: nothing
// else is there, so the port is always free.
const tlsAddr = "tcp://127.0.0.1:2376"

// tlsDaemon is a second dockerd with --tlsverify. Clients reach it on tlsAddr from
// inside its network namespace, as a CI job reaches its docker:dind service; the
// test's own setup (images in and out) goes through its unix socket.
type tlsDaemon struct {
	netns string         // its network namespace, under /run/netns
	ca    *testpki.CA    // the CA of its certificate and of the client's
	certs string         // a client's DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem
	api   *client.Client // over the unix socket
	sock  string         // unix:// address of that socket
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// startTLSDaemon starts the daemon in a new network namespace with certificates made
// for this run, and stops it and deletes the namespace when the test ends, whether
// it passed or not. Runs that share the data root take turns (a lock file), and what
// a killed run left behind is cleared first.
func startTLSDaemon(t *testing.T) *tlsDaemon {
	t.Helper()
	dockerd := findTool(t, "dockerd", "docker.io")
	for _, tool := range []string{"ip", "nsenter", "setpriv"} {
		findTool(t, tool, "iproute2 / util-linux")
	}
	lockDataRoot(t)
	sweepStale(t)

	dir := t.TempDir()
	d := &tlsDaemon{netns: fmt.Sprintf("rs2i-tls-%d", os.Getpid()), certs: filepath.Join(dir, "client")}
	server := d.makeCerts(t, dir)

	if out, err := asRoot("ip", "netns", "add", d.netns); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", d.netns, err, out)
	}
	t.Cleanup(func() {
		if out, err := asRoot("ip", "netns", "delete", d.netns); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", d.netns, err, out)
		}
	})
	if out, err := asRoot("ip", "-n", d.netns, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("bringing up lo in %s: %v\n%s", d.netns, err, out)
	}
	// Short: containerd's socket lives below it, and socket paths are limited.
	execRoot := "/run/" + d.netns
	if out, err := asRoot("mkdir", "-p", execRoot); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = asRoot("rm", "-rf", execRoot) })
	d.sock = "unix://" + execRoot + "/docker.sock"
	cfgFile := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfgFile, []byte("{}\n"), 0o644); err != nil { // not the host's /etc/docker/daemon.json
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "dockerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	// --bridge=none and no iptables: the namespace has only lo, and the host's
	// docker0 and iptables rules are the first daemon's. (In the host's namespace,
	// --bridge=none would delete docker0.) nsenter --net, not `ip netns exec`, which
	// remounts /sys and hides the cgroups from dockerd. Containerd namespaces of its
	// own: where a system containerd runs (Docker's packages on a GitHub runner), both
	// daemons use it, and one would take the other's containers for its own leftovers.
	cmd := rootCmd(context.Background(), "nsenter", "--net=/run/netns/"+d.netns, dockerd,
		"--config-file", cfgFile,
		"--data-root", tlsDataRoot, "--exec-root", execRoot, "--pidfile", execRoot+"/docker.pid",
		"-H", d.sock, "-H", tlsAddr, "--group", strconv.Itoa(os.Getgid()),
		"--tlsverify", "--tlscacert", server+"/ca.pem", "--tlscert", server+"/cert.pem", "--tlskey", server+"/key.pem",
		"--containerd-namespace", "rs2i-tls", "--containerd-plugins-namespace", "rs2i-tls-plugins",
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If this test process dies, so does the daemon (sudo passes the signal on).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stopDaemon(t, cmd, exited, execRoot, logPath) })

	if d.api, err = client.New(client.WithHost(d.sock), client.WithAPIVersionNegotiation()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.api.Close() })
	up := waitFor(90*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := d.api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		return err == nil
	})
	select {
	case <-exited:
		up = false
	default:
	}
	if !up {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("the second dockerd did not answer on %s; its log:\n%s", d.sock, tail(string(log), 40))
	}
	d.loadTestImages(t)
	return d
}

// makeCerts writes the daemon's certificates into dir/server and returns that
// directory, and a client's into d.certs.
func (d *tlsDaemon) makeCerts(t *testing.T, dir string) string {
	t.Helper()
	var err error
	if d.ca, err = testpki.NewCA("rust-s2i test dockerd CA"); err != nil {
		t.Fatal(err)
	}
	srv, err := d.ca.Server("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := d.ca.Client()
	if err != nil {
		t.Fatal(err)
	}
	server := filepath.Join(dir, "server")
	if err := testpki.WriteCertPath(server, d.ca.PEM, srv); err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(d.certs, d.ca.PEM, cl); err != nil {
		t.Fatal(err)
	}
	return server
}

// stopDaemon stops dockerd with SIGTERM, as its service manager would, and kills it
// after 30 s.
func stopDaemon(t *testing.T, cmd *exec.Cmd, exited chan struct{}, execRoot, logPath string) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(30 * time.Second):
	}
	if pid, err := os.ReadFile(execRoot + "/docker.pid"); err == nil {
		_, _ = asRoot("kill", "-KILL", strings.TrimSpace(string(pid)))
	}
	_ = cmd.Process.Kill()
	<-exited
	log, _ := os.ReadFile(logPath)
	t.Errorf("the second dockerd did not stop within 30 s of SIGTERM; its log:\n%s", tail(string(log), 20))
}

// lockDataRoot makes the runs that share tlsDataRoot take turns: two daemons on one
// data root would wreck it. The lock goes with this process, however it ends.
func lockDataRoot(t *testing.T) {
	t.Helper()
	lock := tlsDataRoot + ".lock"
	if out, err := asRoot("sh", "-c", `mkdir -p "$(dirname "$1")" && touch "$1" && chmod 0666 "$1"`, "sh", lock); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f, err := os.OpenFile(lock, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	locked := waitFor(15*time.Minute, func() bool {
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
	})
	if !locked {
		t.Fatalf("another test run holds %s for more than 15 minutes", lock)
	}
}

// sweepStale stops the daemon and deletes the namespace of an earlier run that was
// killed before its cleanup ran: they are named after that run's process ID, and
// only a dead process's are touched.
func sweepStale(t *testing.T) {
	t.Helper()
	out, err := command("ip", "netns", "list")
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		pid, ok := strings.CutPrefix(name, "rs2i-tls-")
		if !ok {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its run is still going
		}
		if b, err := os.ReadFile("/run/" + name + "/docker.pid"); err == nil {
			_, _ = asRoot("kill", "-KILL", strings.TrimSpace(string(b)))
			time.Sleep(time.Second)
		}
		_, _ = asRoot("ip", "netns", "delete", name)
		_, _ = asRoot("rm", "-rf", "/run/"+name)
		t.Logf("cleared %s, left by a run that was killed", name)
	}
}

// loadTestImages gives the daemon the builder and runtime images of the local one,
// unless it has them already (the same image IDs, from an earlier run).
func (d *tlsDaemon) loadTestImages(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var missing []string
	for _, img := range []string{testenv.BuilderImage, testenv.RuntimeImage} {
		want, err := local.ImageInspect(ctx, img)
		if err != nil {
			t.Fatalf("test image %s: %v (run `make test-images`)", img, err)
		}
		if got, err := d.api.ImageInspect(ctx, img); err != nil || got.ID != want.ID {
			missing = append(missing, img)
		}
	}
	if len(missing) == 0 {
		return
	}
	start := time.Now()
	saved, err := local.ImageSave(ctx, missing)
	if err != nil {
		t.Fatalf("docker save %v: %v", missing, err)
	}
	defer saved.Close()
	loaded, err := d.api.ImageLoad(ctx, saved, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatalf("docker load into the second daemon: %v", err)
	}
	defer loaded.Close()
	if err := engine.ReadMessages(loaded, nil); err != nil {
		t.Fatalf("docker load into the second daemon: %v", err)
	}
	t.Logf("loaded %v into the second daemon in %s (once per data root)", missing, time.Since(start).Round(time.Second))
	// An image that a load replaced under its tag is dangling now: without this, each
	// new builder would leave its 1.2 GB predecessor in the kept data root. Every image
	// of this daemon is the tests' own.
	if _, err := d.api.ImagePrune(ctx, client.ImagePruneOptions{Filters: client.Filters{}.Add("dangling", "true")}); err != nil {
		t.Logf("pruning the second daemon's replaced images: %v", err)
	}
}

// findTool finds a program the test needs, in PATH or the sbin directories that an
// ordinary user's PATH may lack.
func findTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	t.Fatalf("%s is missing: install %s (bash hack/remote-engine.sh, which make test runs)", name, pkg)
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
