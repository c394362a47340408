package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// running is the command under test, started in the background.
type running struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     strings.Builder
	waiters map[string]chan struct{}
	exited  chan struct{}
	err     error // of Wait, once exited is closed
}

// startBuild starts a build of testdata/crates/slow with the given flags.
func startBuild(t *testing.T, src, final, tmp string, extra ...string) *running {
	t.Helper()
	r := &running{waiters: map[string]chan struct{}{}, exited: make(chan struct{})}
	r.cmd = exec.Command(binPath, buildArgs(src, "slow", final, tmp, extra...)...)
	// Every temporary file of the build, S2I's included, goes here.
	scratch := t.TempDir()
	r.cmd.Env = append(os.Environ(), "TMPDIR="+scratch, "RUNNER_TEMP="+scratch)
	// A pipe of our own rather than StderrPipe: the S2I child holds the write end as
	// long as it lives, and the build's own exit must be seen apart from the child's.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = pw
	err = r.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			for pat, ch := range r.waiters {
				if strings.Contains(sc.Text(), pat) {
					close(ch)
					delete(r.waiters, pat)
				}
			}
			r.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			r.cmd.Process.Kill()
			<-r.exited
		}
	})
	return r
}

// seen returns a channel closed when the build's log has a line containing pat.
func (r *running) seen(pat string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(r.log.String(), pat) {
		close(ch)
	} else {
		r.waiters[pat] = ch
	}
	return ch
}

func (r *running) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// wait waits for the build to exit and returns its exit code.
func (r *running) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		t.Fatalf("the build did not end within %v:\n%s", timeout, r)
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	default:
		t.Fatal(r.err)
		return -1
	}
}

// await fails the test unless ch is closed within timeout.
func await(t *testing.T, r *running, ch <-chan struct{}, what string, timeout time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-r.exited:
		t.Fatalf("the build ended before %s:\n%s", what, r)
	case <-time.After(timeout):
		t.Fatalf("no %s within %v:\n%s", what, timeout, r)
	}
}

// noContainersWithin polls until the build whose -tmp image is tmp and whose marker
// is marker has no container left, and returns how long that took from start.
func noContainersWithin(t *testing.T, tmp, marker string, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for left := buildContainers(t, tmp, marker); left > 0; left = buildContainers(t, tmp, marker) {
		if time.Since(start) > limit {
			t.Fatalf("%d containers of the build %s left %v after the signal", left, tmp, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// Cancelling a build removes its containers and no other's, however alike their
// names: S2I names containers s2i_<image with non-alphanumerics as _>_<8 hex>, so
// the -tmp image of binary foo ("…-foo-tmp") gives a prefix of the name for
// "…-foo-tmp-tmp" (binary foo-tmp), and "…-foo-bar-tmp" and "…-foo_bar-tmp" give the
// same one. Two builds are cancelled while two look-alikes build, and containers
// named exactly as the look-alikes' save-artifacts containers are, stand by: the
// look-alikes finish and the bystanders stay.
func TestCancelAmongLookAlikes(t *testing.T) {
	needDocker(t)
	t.Parallel()
	base, _ := names(t)
	type build struct {
		final, tmp string
		cancel     bool
		src        string
		run        *running
		s2i        <-chan struct{} // closed when its S2I build begins
	}
	builds := []*build{
		{final: base + "-foo", tmp: base + "-foo-tmp", cancel: true},
		{final: base + "-footmp", tmp: base + "-foo-tmp-tmp"}, // binary foo-tmp's -tmp image
		{final: base + "-foo-bar", tmp: base + "-foo-bar-tmp", cancel: true},
		{final: base + "-foo_bar", tmp: base + "-foo_bar-tmp"},
	}
	// Warm up each, so that the next builds are incremental and run save-artifacts
	// in containers named after their -tmp images.
	var wg sync.WaitGroup
	for _, b := range builds {
		t.Cleanup(func() { command("docker", "rmi", "-f", b.final, b.tmp) })
		b.src = copyTree(t, crate("slow"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := runCmd(t, nil, buildArgs(b.src, "slow", b.final, b.tmp)...); r.code != 0 {
				t.Errorf("warm-up build of %s failed:\n%s", b.final, r)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Bystanders: not started, named as the look-alikes' save-artifacts containers.
	var bystanders []string
	for i, b := range builds {
		if b.cancel {
			continue
		}
		name := fmt.Sprintf("s2i_%s_%08x", s2iSanitize(b.tmp), 0xdeca0000+i)
		if out, err := command("docker", "create", "--name", name, runtimeImage, "true"); err != nil {
			t.Fatalf("docker create: %v\n%s", err, out)
		}
		t.Cleanup(func() { command("docker", "rm", "-f", name) })
		bystanders = append(bystanders, name)
	}

	for _, b := range builds {
		if b.cancel {
			b.run = startBuild(t, b.src, b.final, b.tmp, "--env", "SLOW_BUILD_SECONDS=600", "--env", "E2E_BUILD="+b.tmp)
			await(t, b.run, b.run.seen("Compiling slow"), "cargo", 5*time.Minute)
		}
	}
	// The look-alikes start; the cancels go out as their S2I builds begin, which is
	// when they run save-artifacts.
	for _, b := range builds {
		if !b.cancel {
			b.run = startBuild(t, b.src, b.final, b.tmp, "--env", "SLOW_BUILD_SECONDS=5", "--env", "E2E_BUILD="+b.tmp)
			b.s2i = b.run.seen("==> s2i build")
		}
	}
	for _, b := range builds {
		if !b.cancel {
			await(t, b.run, b.s2i, "S2I build", 5*time.Minute)
		}
	}
	start := time.Now()
	for _, b := range builds {
		if b.cancel {
			if err := b.run.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, b := range builds {
		if b.cancel {
			if code := b.run.wait(t, 30*time.Second); code == 0 {
				t.Errorf("the cancelled build %s exited 0:\n%s", b.final, b.run)
			}
			t.Logf("%s: stopped, and no container left, %v after SIGTERM", b.final,
				noContainersWithin(t, b.tmp, b.tmp, start, 10*time.Second).Round(time.Millisecond))
		}
	}
	for _, name := range bystanders {
		if _, err := docker.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{}); err != nil {
			t.Errorf("bystander container %s is gone: %v", name, err)
		}
	}
	for _, b := range builds {
		if !b.cancel {
			if code := b.run.wait(t, 5*time.Minute); code != 0 {
				t.Errorf("the look-alike build %s failed:\n%s", b.final, b.run)
				continue
			}
			if got := runImage(t, b.final); !strings.Contains(got, "slow but done") {
				t.Errorf("%s printed %q", b.final, got)
			}
		}
	}
}

// A SIGKILLed build (a CI runner that gives up waiting) leaves no build container
// behind: its S2I child gets SIGHUP as the parent dies, removes its containers and
// exits.
func TestKillParentLeavesNoContainer(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("slow"))
	final, tmp := names(t)
	r := startBuild(t, src, final, tmp, "--env", "SLOW_BUILD_SECONDS=600", "--env", "E2E_BUILD="+tmp)
	await(t, r, r.seen("Compiling slow"), "cargo", 5*time.Minute)
	children := childPIDs(r.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatalf("the build %d has no child process", r.cmd.Process.Pid)
	}
	if n := buildContainers(t, tmp, tmp); n == 0 {
		t.Fatal("no build container while cargo runs: the test cannot tell anything")
	}
	start := time.Now()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	took := noContainersWithin(t, tmp, tmp, start, 10*time.Second)
	t.Logf("SIGKILL of the parent: no container left %v after it", took.Round(time.Millisecond))
	for _, pid := range children {
		for alive(pid) {
			if time.Since(start) > 15*time.Second {
				t.Fatalf("the S2I child %d still runs 15 s after its parent was killed", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("SIGKILL of the parent: the child exited %v after it", time.Since(start).Round(time.Millisecond))
	r.wait(t, 10*time.Second)
}

// A second SIGINT while a cancelled build cleans up exits at once, 130; the
// containers still go, removed by the child.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("slow"))
	final, tmp := names(t)
	r := startBuild(t, src, final, tmp, "--env", "SLOW_BUILD_SECONDS=600", "--env", "E2E_BUILD="+tmp)
	await(t, r, r.seen("Compiling slow"), "cargo", 5*time.Minute)
	first := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	second := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := r.wait(t, 10*time.Second)
	took := time.Since(second)
	t.Logf("second SIGINT: exit %d %v after it", code, took.Round(time.Millisecond))
	if code != 130 {
		t.Errorf("exit code %d after a second SIGINT, want 130:\n%s", code, r)
	}
	if took > 2*time.Second {
		t.Errorf("exiting took %v after the second SIGINT", took)
	}
	t.Logf("no container left %v after the first SIGINT",
		noContainersWithin(t, tmp, tmp, first, 10*time.Second).Round(time.Millisecond))
}

// childPIDs returns the processes whose parent is pid.
func childPIDs(pid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range dirs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			if n, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
