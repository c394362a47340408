package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// BuildKitVersion is the version of buildkitd and buildctl that the tests run:
// hack/buildkit.sh builds it, and BUILDKIT_DIR must hold it.
const BuildKitVersion = "v0.35.0"

// BuildKit is a buildkitd and a registry in a network namespace of their own, the
// world of the BuildKit tests. The namespace has only its loopback: a build that
// reaches for anything else (a reference that falls back to Docker Hub) fails at
// once instead of leaving the machine. buildkitd runs as root (rootful, runc and
// overlayfs), its build containers on the namespace's network, so they reach the
// registry and any server a test starts inside it (Command) on 127.0.0.1.
// The registry is Debian's docker-registry, without auth, over plain http (buildkitd
// is configured to use http for it), with storage of its own, empty at the start.
//
// With BuildKitOptions.Rootless, buildkitd runs as the test's user instead, under
// rootlesskit: a user namespace that maps the user to root and its subordinate IDs
// (/etc/subuid, /etc/subgid) to the other users, and a mount and a PID namespace of
// its own, inside the world's network namespace. With BuildKitOptions.TLS it also
// listens on TCP inside the namespace, with mutual TLS.
//
// Everything of a world is named after its test binary's process ID (rs2i-bk-PID-N):
// the namespace, /run/rs2i-bk-PID-N (buildkitd's socket) and /var/tmp/rs2i-bk-PID-N
// (configuration, logs, the registry's storage, the data roots). It all goes when the
// test ends. When the test binary dies without its cleanups (killed by its timeout),
// buildkitd and the registry get SIGTERM, and the rest is cleared when the next world
// starts (and by hack/test-world.sh after `make test`).
type BuildKit struct {
	NetNS string // the network namespace's name, under /run/netns
	Addr  string // buildkitd's socket, unix:///run/…: usable from the host's namespace by the test's user
	// Registry is the registry, 127.0.0.1:PORT (no auth, plain http), the same
	// in the namespace and in the host's: two registry processes, one in each,
	// on one storage directory. So a client in the host's namespace (the CLI, a
	// Docker Engine's pull) and buildkitd see one registry under one name, and
	// an image's name and digest are the same on both engines.
	Registry string
	Root     string // buildkitd's data root (--root); Restart with a fresh root changes it
	Dir      string // BUILDKIT_DIR: where buildkitd and buildctl are
	Log      string // buildkitd's log (every start of this world appends to it)
	Rootless bool   // buildkitd runs as the test's user (BuildKitOptions.Rootless)

	// With BuildKitOptions.TLS: TCPAddr is buildkitd's second address,
	// tcp://127.0.0.1:PORT, with mutual TLS. Only inside the namespace (Command)
	// reaches it. ClientCerts is a client's certificate directory (ca.pem,
	// cert.pem, key.pem, as buildctl's --tlsdir and the Docker clients take it),
	// signed by CA, the world's own CA, which signed the server's certificate
	// too: a test makes a wrong client's with a testpki.NewCA of its own.
	TCPAddr     string
	ClientCerts string
	CA          *testpki.CA

	run     string  // /run/NetNS: the socket and the pid files (root's; the test user's when rootless)
	work    string  // /var/tmp/NetNS: everything else (the test user's; the data roots' contents are root's, or the user's subordinate IDs')
	roots   int     // the data roots this world made so far
	ownRoot bool    // Root is one of those, not BuildKitOptions.Root
	tlsDir  string  // the server's certificates, with TLS
	daemon  *daemon // buildkitd, while it runs
	nsInit  process // rootless: rootlesskit's child, the init of buildkitd's PID namespace, while it may run
}

// BuildKitOptions chooses how StartBuildKit starts buildkitd.
type BuildKitOptions struct {
	// Root is buildkitd's data root. Empty: a new empty directory of the world's,
	// removed with it. A given directory is left in place at the end (what buildkitd
	// wrote in it is root's, or, rootless, the test user's subordinate IDs').
	Root string
	// Rootless runs buildkitd as the test's user (never root: StartBuildKit fails
	// when the tests run as root) under rootlesskit, in the world's network
	// namespace: the user is root in a user namespace whose other users are its
	// subordinate IDs, which StartBuildKit gives it (sudo usermod) when
	// /etc/subuid or /etc/subgid has none. Its build containers run in that user
	// namespace, with a PID namespace and a /proc of their own each, outside the
	// world's cgroups; Kill takes them down with buildkitd (rootlesskit's PID
	// namespace ends).
	Rootless bool
	// TLS makes buildkitd listen also on b.TCPAddr inside the namespace, with mutual
	// TLS: certificates made for the world (b.CA, b.ClientCerts), as a remote
	// buildkitd (a Kubernetes service) is reached.
	TLS bool
}

var (
	buildKitWorlds atomic.Int64 // numbers this process's worlds
	buildKitSweep  sync.Once
)

// StartBuildKit starts a world: the namespace, the registry, and buildkitd, which
// answers on b.Addr when it returns. Everything is stopped and removed when the test
// ends, whether it passed or not. It fails the test (never skips it) when a part is
// missing: BUILDKIT_DIR (bash hack/buildkit.sh), docker-registry, ip, nsenter, setpriv,
// runc, or root through passwordless sudo; rootless, also rootlesskit, newuidmap and
// newgidmap (uidmap), and a passwd entry for the test's user.
func StartBuildKit(t testing.TB, opts BuildKitOptions) *BuildKit {
	t.Helper()
	dir := BuildKitDir(t)
	for _, tool := range []string{"ip", "nsenter", "setpriv", "runc"} {
		lookTool(t, tool)
	}
	registryBin := lookTool(t, "docker-registry")
	if opts.Rootless {
		if os.Getuid() == 0 {
			t.Fatal("StartBuildKit: a rootless buildkitd runs as the test's own user, and the tests run as root; " +
				"run them as an ordinary user with passwordless sudo (hack/as-user.sh, which make test uses)")
		}
		for _, tool := range []string{"rootlesskit", "newuidmap", "newgidmap"} {
			lookTool(t, tool)
		}
		ensureSubIDs(t)
	}
	buildKitSweep.Do(func() { sweepBuildKitWorlds(t) })

	name := fmt.Sprintf("rs2i-bk-%d-%d", os.Getpid(), buildKitWorlds.Add(1))
	b := &BuildKit{
		NetNS: name, Registry: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Dir: dir, Rootless: opts.Rootless,
		run: "/run/" + name, work: "/var/tmp/" + name,
	}
	b.Addr = "unix://" + b.run + "/buildkitd.sock"
	b.Log = filepath.Join(b.work, "buildkitd.log")

	// Cleanups run last first: buildkitd stops, then the registry, then the
	// directories and the namespace go.
	if err := os.Mkdir(b.work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.removeAll(t, b.work) })
	if out, err := asRoot("ip", "netns", "add", name); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := asRoot("ip", "netns", "delete", name); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", name, err, out)
		}
	})
	if out, err := asRoot("ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("bringing up lo in %s: %v\n%s", name, err, out)
	}
	if out, err := asRoot("mkdir", "-m", "0755", b.run); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() { b.removeAll(t, b.run) })
	if b.Rootless {
		// A rootless buildkitd makes its sockets (and rootlesskit its state) here, as
		// the user; the pid files stay root's (the wrapper writes them).
		if out, err := asRoot("chown", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()), b.run); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	b.startRegistry(t, registryBin)
	if opts.TLS {
		b.makeCerts(t)
	}
	b.writeConfig(t)
	if opts.Root != "" {
		b.Root = opts.Root
	} else {
		b.Root, b.ownRoot = b.newRoot(t), true
	}
	t.Cleanup(func() { b.stop(t) })
	b.start(t)
	return b
}

// subIDRange is the size of the subordinate ID ranges that ensureSubIDs gives, as
// useradd gives them: enough for the users of any image.
const subIDRange = 65536

// ensureSubIDs makes sure that the test's user has subordinate user and group IDs
// (/etc/subuid, /etc/subgid), which rootlesskit maps to the users other than root
// in its user namespace. Missing ones are added with usermod, after the highest
// range in either file (100000 at least, as useradd starts), so that they overlap
// no one's. hack/as-user.sh gives its user the same.
func ensureSubIDs(t testing.TB) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("the test's user (uid %d) has no passwd entry, which rootlesskit needs: %v", os.Getuid(), err)
	}
	has := func(file string) bool {
		data, _ := os.ReadFile(file)
		for _, line := range strings.Split(string(data), "\n") {
			if owner, _, ok := strings.Cut(line, ":"); ok && (owner == u.Username || owner == u.Uid) {
				return true
			}
		}
		return false
	}
	if has("/etc/subuid") && has("/etc/subgid") {
		return
	}
	lookTool(t, "usermod")
	// One root shell checks again and adds, so that what another test binary added
	// meanwhile is seen (usermod itself locks the files). usermod adds to existing
	// files only.
	const script = `user=$1 uid=$2 size=$3
has() { awk -F: -v u="$user" -v i="$uid" '$1 == u || $1 == i { f = 1 } END { exit !f }' "$1" 2>/dev/null; }
has /etc/subuid && has /etc/subgid && exit
for f in /etc/subuid /etc/subgid; do [ -e "$f" ] || : >"$f" || exit; done
start=$(cat /etc/subuid /etc/subgid | awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { print m }')
range=$start-$((start + size - 1))
has /etc/subuid || usermod --add-subuids "$range" "$user" || exit
has /etc/subgid || usermod --add-subgids "$range" "$user" || exit
echo "$range"`
	out, err := asRoot("sh", "-c", script, "sh", u.Username, u.Uid, strconv.Itoa(subIDRange))
	if err != nil || !has("/etc/subuid") || !has("/etc/subgid") {
		t.Fatalf("giving %s subordinate IDs (usermod --add-subuids/--add-subgids), which rootlesskit maps: %v\n%s", u.Username, err, out)
	}
	if out == "" {
		return // another test binary gave them
	}
	t.Logf("gave %s the subordinate user and group IDs %s, for a rootless buildkitd", u.Username, out)
}

// BuildKitDir is BUILDKIT_DIR, checked to hold buildkitd and buildctl at
// BuildKitVersion. `make test` sets it from hack/buildkit.sh; without it the test fails.
func BuildKitDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BUILDKIT_DIR")
	if dir == "" {
		t.Fatalf("BUILDKIT_DIR is not set: it names the directory of buildkitd and buildctl %s; "+
			"run the tests with BUILDKIT_DIR=$(bash hack/buildkit.sh) (make test sets it)", BuildKitVersion)
	}
	for _, c := range []string{"buildkitd", "buildctl"} {
		out, err := exec.Command(filepath.Join(dir, c), "--version").Output()
		if err != nil || !slices.Contains(strings.Fields(string(out)), BuildKitVersion) {
			t.Fatalf("BUILDKIT_DIR=%s: %s is not %s (%v: %s); run bash hack/buildkit.sh",
				dir, c, BuildKitVersion, err, strings.TrimSpace(string(out)))
		}
	}
	return dir
}

// Command is a command run inside the world's network namespace as the test's own
// user (its uid, gid and groups), in the test's working directory, with exactly the
// environment env (nil: the test process's own; sudo would reset it otherwise). name
// is looked up in env's PATH. Cancelling ctx sends SIGTERM, which sudo passes on.
// It runs through sudo, which is setuid and so drops a parent-death signal: a command
// that would outlive a test binary killed by its timeout needs a ctx that ends, or
// a stop of the test's own (the world's sweep kills only what names its directories).
func (b *BuildKit) Command(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	cmd := rootCmd(ctx, "nsenter", b.asUser(env, name, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// asUser is nsenter's arguments for running name inside the namespace as the test's
// user with exactly the environment env (nil: the test process's own).
func (b *BuildKit) asUser(env []string, name string, args ...string) []string {
	if env == nil {
		env = os.Environ()
	}
	argv := []string{"--net=/run/netns/" + b.NetNS,
		"setpriv", "--reuid=" + strconv.Itoa(os.Getuid()), "--regid=" + strconv.Itoa(os.Getgid()), "--init-groups", "--",
		"env", "-i"}
	argv = append(argv, env...)
	argv = append(argv, name)
	return append(argv, args...)
}

// PushImage copies the image dockerImage of the host's Docker daemon into the
// world's registry as repo (name[:tag]) and returns its reference there,
// b.Registry+"/"+repo: the image is saved from the daemon here (docker save) and
// pushed from the namespace (PushFile).
func (b *BuildKit) PushImage(t testing.TB, dockerImage, repo string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "image.tar")
	if out, err := exec.Command("docker", "save", "-o", file, dockerImage).CombinedOutput(); err != nil {
		t.Fatalf("docker save %s: %v\n%s", dockerImage, err, out)
	}
	return b.PushFile(t, file, repo)
}

// PushFile pushes an image from a file of the test's into the world's registry as
// repo (name[:tag]) and returns its reference there, b.Registry+"/"+repo. src is a
// `docker save` tarball of one image, or an OCI image layout directory (one image or
// index in it: that one; more: the layout's index). The push runs inside the namespace
// (test/testenv/cmd/ocipush, built once per test binary), as the test's user.
func (b *BuildKit) PushFile(t testing.TB, src, repo string) string {
	t.Helper()
	ref := b.Registry + "/" + repo
	pusher := ociPusher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	if out, err := b.Command(ctx, env, pusher, src, ref).CombinedOutput(); err != nil {
		t.Fatalf("pushing %s to %s: %v\n%s", src, ref, err, out)
	}
	return ref
}

// Restart stops buildkitd (SIGTERM) and starts it again on the same socket; with
// freshRoot, on a new empty data root (the world's old one is removed), so that
// nothing but what the test hands it (a cache) is shared with the buildkitd before.
// The registry and what it holds stay. After Kill, Restart brings buildkitd back.
func (b *BuildKit) Restart(t testing.TB, freshRoot bool) {
	t.Helper()
	b.stop(t)
	if freshRoot {
		if b.ownRoot {
			b.removeAll(t, b.Root)
		}
		b.Root, b.ownRoot = b.newRoot(t), true
	}
	b.start(t)
}

// Kill ends buildkitd with SIGKILL, as a crash or an OOM kill would, and waits until it
// has gone. The build containers it leaves running are killed and the overlay mounts
// it leaves under its data root unmounted (as a reboot would); the rest of the root is
// left as it was. Restart brings it back. Rootless, the SIGKILL goes to rootlesskit,
// and buildkitd and its build containers die with rootlesskit's namespaces.
func (b *BuildKit) Kill(t testing.TB) {
	t.Helper()
	if b.daemon == nil {
		t.Fatal("Kill: buildkitd is not running")
	}
	b.daemon.signal("KILL")
	if !b.daemon.wait(30 * time.Second) {
		t.Fatalf("buildkitd (pid %s) did not go within 30 s of SIGKILL", b.daemon.pid)
	}
	b.daemon = nil
	b.afterExit(t)
}

// startRegistry starts the registry as the test's user inside the namespace and waits
// until it listens.
func (b *BuildKit) startRegistry(t testing.TB, bin string) {
	t.Helper()
	dir := filepath.Join(b.work, "registry")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	// "listening on" is logged at info once the port is bound.
	yml := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), b.Registry)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log")
	reg, err := startDaemon(logPath, b.run+"/registry.pid",
		append([]string{"nsenter"}, b.asUser([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, bin, "serve", cfg)...)...)
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() {
		if !reg.stop(10 * time.Second) {
			t.Errorf("the registry did not stop within 10 s of SIGTERM; its log:\n%s", logTail(logPath, 20))
		}
	})
	up := waitUntil(30*time.Second, reg.exited, func() bool {
		data, _ := os.ReadFile(logPath)
		return strings.Contains(string(data), "listening on "+b.Registry)
	})
	if !up {
		t.Fatalf("the registry did not listen on %s in %s; its log:\n%s", b.Registry, b.NetNS, logTail(logPath, 20))
	}
	b.startTwin(t, bin, cfg, filepath.Join(dir, "log.host"))
}

// startTwin starts the host's side of the registry: the same configuration, so
// the same storage and the same address, in the host's namespace, as the test's
// own child (the test's user; it dies with the test binary).
func (b *BuildKit) startTwin(t testing.TB, bin, cfg, logPath string) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the host's registry: %v", err)
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
	})
	up := waitUntil(30*time.Second, exited, func() bool {
		data, _ := os.ReadFile(logPath)
		return strings.Contains(string(data), "listening on "+b.Registry)
	})
	if !up {
		t.Fatalf("the host's registry did not listen on %s; its log:\n%s", b.Registry, logTail(logPath, 20))
	}
}

// writeConfig writes buildkitd.toml: the OCI worker (runc, overlayfs) with the
// namespace's network for its build containers, the registry over plain http, and
// nothing of buildkitd's outside the world's own directories.
func (b *BuildKit) writeConfig(t testing.TB) {
	t.Helper()
	// gc = false: what a test builds stays until the test removes it, whatever the
	// disk's fill (automatic GC would make cache tests depend on it). The build
	// containers' cgroups are the world's own (/NetNS/buildkit/ID), so that those a
	// killed buildkitd leaves running are found. Rootless, the user may not make
	// cgroups there (runc then makes none); the containers are found through
	// rootlesskit's PID namespace instead (afterExit). overlayfs works in a user
	// namespace from Linux 5.11 on.
	worker := fmt.Sprintf("  defaultCgroupParent = %q\n", b.NetNS)
	if b.Rootless {
		worker = ""
	}
	toml := fmt.Sprintf(`[otel]
  socketPath = %q

[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = false
%s
[worker.containerd]
  enabled = false

[registry.%q]
  http = true
  insecure = true
`, b.run+"/otel-grpc.sock", worker, b.Registry)
	if err := os.WriteFile(b.config(), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	// buildkitd's temporary mounts go here, not to /tmp, so that the world's removal
	// finds what a killed buildkitd left mounted.
	if err := os.MkdirAll(filepath.Join(b.work, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// tlsPort is buildkitd's TCP port inside the namespace. Nothing else there listens
// on it: the registry's port and those of the tests' servers are ephemeral ones
// (FreePort), from 32768 up.
const tlsPort = 1234

// makeCerts makes the world's CA, a server certificate for 127.0.0.1 and localhost
// in b.tlsDir and a client's in b.ClientCerts, all in the test user's files (a
// rootless buildkitd reads them as that user).
func (b *BuildKit) makeCerts(t testing.TB) {
	t.Helper()
	var err error
	if b.CA, err = testpki.NewCA("rust-s2i test buildkitd CA"); err != nil {
		t.Fatal(err)
	}
	server, err := b.CA.Server("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	client, err := b.CA.Client()
	if err != nil {
		t.Fatal(err)
	}
	b.tlsDir = filepath.Join(b.work, "tls", "server")
	b.ClientCerts = filepath.Join(b.work, "tls", "client")
	if err := testpki.WriteCertPath(b.tlsDir, b.CA.PEM, server); err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(b.ClientCerts, b.CA.PEM, client); err != nil {
		t.Fatal(err)
	}
	b.TCPAddr = fmt.Sprintf("tcp://127.0.0.1:%d", tlsPort)
}

func (b *BuildKit) config() string { return filepath.Join(b.work, "buildkitd.toml") }

// newRoot makes an empty data root in the world's directory.
func (b *BuildKit) newRoot(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(b.work, "root-"+strconv.Itoa(b.roots))
	b.roots++
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// start starts buildkitd in the namespace (as root, or rootless under rootlesskit)
// and waits up to 60 s until it answers on b.Addr (buildctl debug workers, as the
// test's user).
func (b *BuildKit) start(t testing.TB) {
	t.Helper()
	if err := appendLine(b.Log, fmt.Sprintf("--- %s: buildkitd starts on the data root %s",
		time.Now().Format(time.RFC3339), b.Root)); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", b.config(), "--root", b.Root, "--addr", b.Addr}
	if b.TCPAddr != "" {
		// The CA makes the TLS mutual: buildkitd requires a client certificate it signed.
		args = append(args, "--addr", b.TCPAddr, "--tlscacert", b.tlsDir+"/ca.pem",
			"--tlscert", b.tlsDir+"/cert.pem", "--tlskey", b.tlsDir+"/key.pem")
	}
	var argv []string
	if b.Rootless {
		argv = b.rootlessArgv(t, args)
	} else {
		argv = append([]string{"env", "TMPDIR=" + filepath.Join(b.work, "tmp"),
			"nsenter", "--net=/run/netns/" + b.NetNS, filepath.Join(b.Dir, "buildkitd")},
			append(args, "--group", strconv.Itoa(os.Getgid()))...)
	}
	d, err := startDaemon(b.Log, b.run+"/buildkitd.pid", argv...)
	if err != nil {
		t.Fatalf("starting buildkitd: %v", err)
	}
	b.daemon = d

	buildctl := filepath.Join(b.Dir, "buildctl")
	var last []byte
	up := waitUntil(60*time.Second, d.exited, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, buildctl, "--addr", b.Addr, "debug", "workers").CombinedOutput()
		last = out
		return err == nil
	})
	if !up {
		t.Fatalf("buildkitd did not answer on %s within 60 s (buildctl: %s); its log:\n%s",
			b.Addr, strings.TrimSpace(string(last)), logTail(b.Log, 40))
	}
	if b.Rootless {
		// rootlesskit writes its child's PID once the namespaces are set up, before
		// it starts buildkitd.
		data, err := os.ReadFile(filepath.Join(b.rootlesskitDir(), "child_pid"))
		if err != nil {
			t.Fatalf("rootlesskit's child: %v; buildkitd's log:\n%s", err, logTail(b.Log, 20))
		}
		if b.nsInit, err = processOf(strings.TrimSpace(string(data))); err != nil {
			t.Fatalf("rootlesskit's child: %v", err)
		}
	}
}

// rootlessArgv is the command line that starts buildkitd rootless: as the test's
// user (its passwd entry, which rootlesskit reads, names its subordinate IDs),
// inside the network namespace, under rootlesskit, with exactly the environment
// that buildkitd reads: USER not root, with which it takes rootless defaults
// (--rootless, the OCI worker's rootless mode, it takes anyway in a user namespace);
// XDG_RUNTIME_DIR and HOME, where it would put what the flags and the
// configuration do not place in the world's directories.
//
// rootlesskit --net=host keeps the world's network namespace (and its loopback,
// where the registry is) for buildkitd and its build containers, so no copy-up of
// /etc (for a resolv.conf of another network) is needed, and none of /run either,
// which would hide the sockets from the host's side behind a tmpfs. --pidns: when
// rootlesskit goes, however (Kill), its child, the init of that PID namespace, goes
// too, and the kernel kills everything left in it, buildkitd's build containers
// included. Those have a /proc of their own (buildkitd's process sandbox) and so
// need no --oci-worker-no-process-sandbox: the kernel lets a user namespace's root
// mount a proc when the one it sees is fully visible, as here.
func (b *BuildKit) rootlessArgv(t testing.TB, args []string) []string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("the test's user: %v (rootlesskit needs its passwd entry)", err)
	}
	// Its lock and the child's PID; rootlesskit removes it when it ends cleanly.
	if err := os.MkdirAll(b.rootlesskitDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	argv := []string{"nsenter", "--net=/run/netns/" + b.NetNS,
		"setpriv", "--reuid=" + strconv.Itoa(os.Getuid()), "--regid=" + strconv.Itoa(os.Getgid()), "--init-groups", "--",
		"env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username,
		"XDG_RUNTIME_DIR=" + b.run, "TMPDIR=" + filepath.Join(b.work, "tmp"),
		lookTool(t, "rootlesskit"), "--net=host", "--pidns", "--state-dir=" + b.rootlesskitDir(),
		filepath.Join(b.Dir, "buildkitd"), "--rootless"}
	return append(argv, args...)
}

func (b *BuildKit) rootlesskitDir() string { return filepath.Join(b.run, "rootlesskit") }

// stop ends buildkitd, if it runs: SIGTERM, and SIGKILL after 30 s. Then it clears
// what buildkitd left (afterExit).
func (b *BuildKit) stop(t testing.TB) {
	if b.daemon == nil {
		return
	}
	if !b.daemon.stop(30 * time.Second) {
		t.Errorf("buildkitd did not stop within 30 s of SIGTERM; its log:\n%s", logTail(b.Log, 20))
	}
	b.daemon = nil
	b.afterExit(t)
}

// afterExit clears what buildkitd leaves when it has not stopped cleanly: build
// containers still running (SIGKILL, then their cgroups go) and mounts under its
// data root. Rootless, both are in rootlesskit's namespaces, which end with the init
// of its PID namespace: afterExit waits for that, once rootlesskit itself has gone.
func (b *BuildKit) afterExit(t testing.TB) {
	if b.nsInit.pid != "" {
		if !waitUntil(30*time.Second, nil, b.nsInit.gone) {
			t.Errorf("rootlesskit's child (pid %s), and so buildkitd's build containers, did not go within 30 s of rootlesskit's end",
				b.nsInit.pid)
		}
		b.nsInit = process{}
	}
	if err := killContainers(b.NetNS); err != nil {
		t.Errorf("%v", err)
	}
	b.unmountUnder(t, b.Root)
}

// process is a process that may have ended, told from a later one with its PID by
// its start time.
type process struct {
	pid, start string
}

func processOf(pid string) (process, error) {
	start, err := startTime(pid)
	if err != nil {
		return process{}, err
	}
	return process{pid: pid, start: start}, nil
}

// gone reports whether the process has exited (gone, a zombie, or its PID another's).
// A PID namespace's init is a zombie only once everything else in the namespace
// has been killed and reaped.
func (p process) gone() bool {
	start, err := startTime(p.pid)
	return err != nil || start != p.start || zombie(p.pid)
}

// startTime is the process's start time (field 22 of /proc/PID/stat).
func startTime(pid string) (string, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", err
	}
	stat := string(data) // pid (comm) state …: comm may hold ") " itself
	var fields []string  // from field 3, the state, on
	if i := strings.LastIndex(stat, ") "); i >= 0 {
		fields = strings.Fields(stat[i+2:])
	}
	if len(fields) < 20 {
		return "", fmt.Errorf("/proc/%s/stat: unexpected %q", pid, stat)
	}
	return fields[19], nil
}

// daemon is a process of the world run as root through tiedScript (buildkitd; the
// registry and a rootless buildkitd, which drop to the test's user themselves).
type daemon struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when it has exited
	pidFile string
	pid     string // its process ID, once read from pidFile
}

// tiedScript runs "$@" (after the pid file's path, $1) in the background, writes its
// process ID to the pid file, passes SIGTERM on to it, and sends it SIGTERM when its
// own standard input, the read end of lifeline's pipe, ends: when the test process
// has died, however (sudo is setuid, which clears a parent-death signal). It exits
// with the command's status.
const tiedScript = `pidfile=$1; shift
exec 3<&0
"$@" </dev/null 3<&- &
pid=$!
echo "$pid" >"$pidfile"
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
{ while read -r _; do :; done; kill -TERM "$pid" 2>/dev/null; } <&3 &
watch=$!
exec 3<&-
while :; do
	wait "$pid"; status=$?
	kill -0 "$pid" 2>/dev/null || break
done
kill "$watch" 2>/dev/null
exit "$status"`

var lifeline struct {
	once sync.Once
	r, w *os.File // w is never closed: only this process's end closes it
	err  error
}

// startDaemon starts argv as root through tiedScript, its output appended to logPath.
func startDaemon(logPath, pidFile string, argv ...string) (*daemon, error) {
	lifeline.once.Do(func() { lifeline.r, lifeline.w, lifeline.err = os.Pipe() })
	if lifeline.err != nil {
		return nil, lifeline.err
	}
	if out, err := asRoot("rm", "-f", pidFile); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := rootCmd(context.Background(), "sh", append([]string{"-c", tiedScript, "sh", pidFile}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = lifeline.r, logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{}), pidFile: pidFile}
	go func() { cmd.Wait(); close(d.exited) }()
	return d, nil
}

// wait reports whether the daemon has exited within timeout.
func (d *daemon) wait(timeout time.Duration) bool {
	select {
	case <-d.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// signal sends SIG (TERM, KILL) to the daemon, through sudo: it is root's (rootless,
// rootlesskit is the user's, which sudo reaches all the same). Only while
// it has not exited: until then its pid cannot be another process's (the wrapper has
// not reaped it).
func (d *daemon) signal(sig string) {
	select {
	case <-d.exited:
		return
	default:
	}
	if d.pid == "" {
		if data, err := os.ReadFile(d.pidFile); err == nil {
			d.pid = strings.TrimSpace(string(data))
		}
	}
	switch {
	case d.pid != "":
		_, _ = asRoot("kill", "-"+sig, d.pid)
	case sig == "TERM":
		_ = d.cmd.Process.Signal(syscall.SIGTERM) // sudo and the wrapper pass it on
	default:
		_ = d.cmd.Process.Kill() // not started yet: the wrapper
	}
}

// stop sends SIGTERM and, after grace, SIGKILL; it reports whether SIGTERM was enough.
func (d *daemon) stop(grace time.Duration) bool {
	d.signal("TERM")
	if d.wait(grace) {
		return true
	}
	d.signal("KILL")
	if !d.wait(30 * time.Second) {
		_ = d.cmd.Process.Kill()
	}
	return false
}

// appendLine appends line to the file at path.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeAll removes dir, root's files in it too, after unmounting what is mounted
// below it. It does not cross into other file systems.
func (b *BuildKit) removeAll(t testing.TB, dir string) {
	b.unmountUnder(t, dir)
	if out, err := asRoot("rm", "-rf", "--one-file-system", dir); err != nil {
		t.Errorf("removing %s: %v\n%s", dir, err, out)
	}
}

func (b *BuildKit) unmountUnder(t testing.TB, dir string) {
	if err := unmountUnder(dir); err != nil {
		t.Errorf("%v", err)
	}
}

// unmountUnder unmounts every mount at or below dir, deepest first; lazily when one
// is busy (a build container that outlived a killed buildkitd).
func unmountUnder(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil || len(mounts) == 0 {
		return err
	}
	args := append([]string{"-c", `for m; do umount "$m" 2>/dev/null || umount -l "$m"; done`, "sh"}, mounts...)
	if out, err := asRoot("sh", args...); err != nil {
		return fmt.Errorf("unmounting %v: %v\n%s", mounts, err, out)
	}
	return nil
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMountPath(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			mounts = append(mounts, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(mounts, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return mounts, nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				out.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

// sweepBuildKitWorlds clears the worlds that a killed test binary left (its cleanup
// never ran): their processes, mounts, namespaces and directories. Only those of a
// process that is gone, and this process's own (none exists before its first world).
func sweepBuildKitWorlds(t testing.TB) {
	names := map[string]bool{} // name: whether it is a namespace (else only directories)
	if out, err := exec.Command(lookToolPath("ip"), "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				names[f[0]] = true
			}
		}
	}
	for _, pattern := range []string{"/run/rs2i-bk-*", "/var/tmp/rs2i-bk-*"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			names[filepath.Base(p)] = names[filepath.Base(p)]
		}
	}
	self := strconv.Itoa(os.Getpid())
	for name, isNetNS := range names {
		rest, ok := strings.CutPrefix(name, "rs2i-bk-")
		if !ok {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil && pid != self {
			continue // its test binary still runs
		}
		stale := pidsWithArg("/run/"+name+"/", "/var/tmp/"+name+"/")
		for _, p := range stale {
			_, _ = asRoot("kill", "-KILL", p)
		}
		waitUntil(10*time.Second, nil, func() bool { return len(pidsWithArg("/run/"+name+"/", "/var/tmp/"+name+"/")) == 0 })
		_ = killContainers(name)
		_ = unmountUnder("/var/tmp/" + name)
		if isNetNS {
			_, _ = asRoot("ip", "netns", "delete", name)
		}
		_, _ = asRoot("rm", "-rf", "--one-file-system", "/run/"+name, "/var/tmp/"+name)
		t.Logf("cleared %s, left by test binary %s, which is gone", name, pid)
	}
}

// killContainers kills the build containers of the world name (the processes in its
// cgroups, /name/buildkit/ID), waits up to 10 s for them to go, and removes those
// cgroups, in every hierarchy (cgroup v1 or v2).
func killContainers(name string) error {
	pids := pidsInCgroup(name)
	if len(pids) > 0 {
		if out, err := asRoot("kill", append([]string{"-KILL"}, pids...)...); err != nil && len(pidsInCgroup(name)) > 0 {
			return fmt.Errorf("killing the build containers that buildkitd left: %v\n%s", err, out)
		}
		if !waitUntil(10*time.Second, nil, func() bool { return len(pidsInCgroup(name)) == 0 }) {
			return fmt.Errorf("the build containers that buildkitd left (%v) did not go within 10 s of SIGKILL", pidsInCgroup(name))
		}
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/" + name)
	more, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	dirs = append(dirs, more...)
	if len(dirs) == 0 {
		return nil
	}
	// Deepest first: a cgroup with children cannot go.
	args := append([]string{"-c", `for d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done`, "sh"}, dirs...)
	_, _ = asRoot("sh", args...)
	return nil
}

// pidsInCgroup lists the processes in the cgroup /name or below it.
func pidsInCgroup(name string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err != nil {
			continue
		}
		if strings.Contains(string(data), ":/"+name+"/") || strings.Contains(string(data), ":/"+name+"\n") {
			if !zombie(e.Name()) {
				pids = append(pids, e.Name())
			}
		}
	}
	return pids
}

// zombie reports whether the process has exited and waits to be reaped (by init,
// for an orphan, which may take a while).
func zombie(pid string) bool {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true // gone
	}
	stat := string(data) // pid (comm) state …: comm may hold ") " itself
	i := strings.LastIndex(stat, ") ")
	return i >= 0 && strings.HasPrefix(stat[i+2:], "Z")
}

// pidsWithArg lists the processes whose command line contains one of subs.
func pidsWithArg(subs ...string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		for _, s := range subs {
			if strings.Contains(cmdline, s) {
				pids = append(pids, e.Name())
				break
			}
		}
	}
	return pids
}

// ociPush is the image pusher (cmd/ocipush), built once per test binary into a
// directory named like a world's (rs2i-bk-PID-tools), so that it goes with the
// worlds a killed or finished test binary left.
var ociPush struct {
	once sync.Once
	path string
	err  error
}

func ociPusher(t testing.TB) string {
	t.Helper()
	ociPush.once.Do(func() {
		dir := fmt.Sprintf("/var/tmp/rs2i-bk-%d-tools", os.Getpid())
		if ociPush.err = os.MkdirAll(dir, 0o755); ociPush.err != nil {
			return
		}
		ociPush.path = filepath.Join(dir, "ocipush")
		ociPush.err = GoBuild(ociPush.path, "./test/testenv/cmd/ocipush")
	})
	if ociPush.err != nil {
		t.Fatalf("building the image pusher: %v", ociPush.err)
	}
	return ociPush.path
}

// rootCmd is a command run as root: directly when the tests run as root, through
// passwordless sudo otherwise (as on a GitHub runner).
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

// lookTool finds a program the world needs, in PATH or the sbin directories that an
// ordinary user's PATH may lack, or fails the test with what installs it.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	if p := lookToolPath(name); p != "" {
		return p
	}
	t.Fatalf("%s is missing: bash hack/buildkit.sh and bash hack/remote-engine.sh install it (make test runs both)", name)
	return ""
}

func lookToolPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// waitUntil polls ok every 200 ms until it is true (true), d has passed or exited is
// closed (false).
func waitUntil(d time.Duration, exited <-chan struct{}, ok func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
		select {
		case <-exited:
			return false
		default:
		}
		if ok() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// logTail is the last n lines of the file at path.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
