package buildkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// TestBuildKitWorld checks the world itself: buildkitd's socket answers from the
// host's namespace, buildkitd pulls from the namespace's registry an image pushed
// there from the Docker daemon, runs a build container, and hands the result back;
// and a reference that would go to Docker Hub fails at once, as nothing leaves the
// namespace.
func TestBuildKitWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts buildkitd and a registry in a network namespace; runs without -short")
	}
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{})
	ref := b.PushImage(t, testenv.RuntimeImage, "busybox:1")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := client.New(ctx, b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	out, progress := runOut(ctx, t, c, ref, "echo hi > /out/hi")
	got, err := os.ReadFile(filepath.Join(out, "hi"))
	if err != nil {
		t.Fatalf("the build's output: %v\n%s", err, progress)
	}
	if string(got) != "hi\n" {
		t.Errorf("/out/hi = %q, want %q", got, "hi\n")
	}

	// Docker Hub is out of reach: the lookup fails at once rather than hanging.
	hubCtx, hubCancel := context.WithTimeout(ctx, time.Minute)
	defer hubCancel()
	def, err := llb.Image("docker.io/library/alpine:3").Run(llb.Args([]string{"/bin/true"})).Root().Marshal(hubCtx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	progress, err = solve(hubCtx, c, def, client.SolveOpt{})
	took := time.Since(start)
	if err == nil {
		t.Fatalf("a build from docker.io/library/alpine:3 succeeded in the world, which must not reach Docker Hub\n%s", progress)
	}
	if took > 30*time.Second {
		t.Errorf("a build from docker.io/library/alpine:3 took %s to fail, want under 30 s: %v", took.Round(time.Second), err)
	}
	t.Logf("docker.io/library/alpine:3 failed in %s: %v", took.Round(time.Millisecond), err)
}

// TestBuildKitWorldRestart checks what the cache tests do to buildkitd: Restart on
// the same data root, Kill in the middle of a build (whose container must not outlive
// it), and Restart on a fresh root; the registry stays through all of them.
func TestBuildKitWorldRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts buildkitd and a registry in a network namespace; runs without -short")
	}
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{})
	ref := b.PushImage(t, testenv.RuntimeImage, "busybox:1")
	build := func(step string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := client.New(ctx, b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out, _ := runOut(ctx, t, c, ref, "echo "+step+" > /out/step")
		if got, _ := os.ReadFile(filepath.Join(out, "step")); string(got) != step+"\n" {
			t.Errorf("%s: /out/step = %q", step, got)
		}
	}
	build("first")
	b.Restart(t, false)
	build("restarted")

	// Killed in the middle of a build: the build fails, and a new buildkitd on the
	// same root works.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(ctx, b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	def, err := llb.Image(ref).Run(llb.Args([]string{"/bin/sleep", "600"})).Root().Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		ch := make(chan *client.SolveStatus)
		go func() {
			for s := range ch {
				for _, v := range s.Vertexes {
					if strings.Contains(v.Name, "sleep") && v.Started != nil {
						select {
						case <-started:
						default:
							close(started)
						}
					}
				}
			}
		}()
		_, err := c.Solve(ctx, def, client.SolveOpt{}, ch)
		failed <- err
	}()
	select {
	case <-started:
	case err := <-failed:
		t.Fatalf("the build to kill ended before it started sleeping: %v", err)
	case <-ctx.Done():
		t.Fatal("the build to kill did not start")
	}
	time.Sleep(time.Second) // its container runs
	b.Kill(t)
	if err := <-failed; err == nil {
		t.Error("the build survived its buildkitd's SIGKILL")
	}
	b.Restart(t, false)
	build("after-kill")

	old := b.Root
	b.Restart(t, true)
	if b.Root == old {
		t.Errorf("Restart(t, true) kept the data root %s", old)
	}
	build("fresh-root")
}

// TestBuildKitWorldRootless checks the world's rootless buildkitd: a build runs in
// the user namespace that rootlesskit made for the test's user (root inside is that
// user, the other users its subordinate IDs), Kill takes the build container down
// with buildkitd, and a fresh root replaces one that holds files of those
// subordinate IDs (the old one goes, through sudo).
func TestBuildKitWorldRootless(t *testing.T) {
	if testing.Short() {
		t.Skip("starts buildkitd and a registry in a network namespace; runs without -short")
	}
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{Rootless: true})
	ref := b.PushImage(t, testenv.RuntimeImage, "busybox:1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(ctx, b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// /owned stays in the run's snapshot under the data root, as uid 1000 of the
	// build, a subordinate ID of the test's user.
	out, _ := runOut(ctx, t, c, ref, "cat /proc/self/uid_map > /out/uid_map && touch /owned && chown 1000:1000 /owned")
	uidMap, err := os.ReadFile(filepath.Join(out, "uid_map"))
	if err != nil {
		t.Fatal(err)
	}
	// The first line maps the build's root to the test's user: "0 UID 1".
	lines := strings.Split(strings.TrimSpace(string(uidMap)), "\n")
	if first := strings.Fields(lines[0]); len(lines) < 2 || len(first) != 3 ||
		first[0] != "0" || first[1] != strconv.Itoa(os.Getuid()) || first[2] != "1" {
		t.Errorf("the build's /proc/self/uid_map is\n%s\nwant root mapped to uid %d and a second line for the subordinate IDs",
			uidMap, os.Getuid())
	}

	// Killed in the middle of a build: the build container goes with rootlesskit's
	// PID namespace.
	secs := strconv.Itoa(100000 + os.Getpid()%100000) // to tell its sleep from others'
	def, err := llb.Image(ref).Run(llb.Args([]string{"/bin/sleep", secs})).Root().Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	go func() { _, err := solve(ctx, c, def, client.SolveOpt{}); failed <- err }()
	sleeping := func() bool { return len(processesWithArgs("/bin/sleep", secs)) > 0 }
	for !sleeping() {
		select {
		case err := <-failed:
			t.Fatalf("the build to kill ended before it started sleeping: %v", err)
		case <-ctx.Done():
			t.Fatal("the build to kill did not start")
		case <-time.After(100 * time.Millisecond):
		}
	}
	b.Kill(t)
	if err := <-failed; err == nil {
		t.Error("the build survived its buildkitd's SIGKILL")
	}
	if p := processesWithArgs("/bin/sleep", secs); len(p) > 0 {
		t.Errorf("the build container's sleep (pids %v) outlived the killed rootless buildkitd", p)
	}

	old := b.Root
	b.Restart(t, true)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the old data root %s is still there after Restart(t, true): %v", old, err)
	}
	c2, err := client.New(ctx, b.Addr) // a new buildkitd: no waiting for c's reconnection
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	def, err = llb.Image(ref).Run(llb.Args([]string{"/bin/true"})).Root().Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if progress, err := solve(ctx, c2, def, client.SolveOpt{}); err != nil {
		t.Fatalf("building on the fresh root: %v\n%s", err, progress)
	}
}

// processesWithArgs lists the processes whose command line is args.
func processesWithArgs(args ...string) []string {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(data) == want {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestBuildKitWorldTLS checks the world's TCP address with mutual TLS: buildctl
// inside the namespace gets through with the world's client certificates, and not
// when it trusts another CA, nor with a client certificate of another CA.
func TestBuildKitWorldTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts buildkitd and a registry in a network namespace; runs without -short")
	}
	b := testenv.StartBuildKit(t, testenv.BuildKitOptions{TLS: true})
	other, err := testpki.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	otherClient, err := other.Client()
	if err != nil {
		t.Fatal(err)
	}
	trustsOther, wrongClient := filepath.Join(t.TempDir(), "certs"), filepath.Join(t.TempDir(), "certs")
	if err := testpki.WriteCertPath(trustsOther, other.PEM, otherClient); err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(wrongClient, b.CA.PEM, otherClient); err != nil {
		t.Fatal(err)
	}
	workers := func(certs string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
		out, err := b.Command(ctx, env, filepath.Join(b.Dir, "buildctl"), "--addr", b.TCPAddr,
			"--tlscacert", certs+"/ca.pem", "--tlscert", certs+"/cert.pem", "--tlskey", certs+"/key.pem",
			"debug", "workers").CombinedOutput()
		return string(out), err
	}
	if out, err := workers(b.ClientCerts); err != nil {
		t.Fatalf("buildctl debug workers on %s: %v\n%s", b.TCPAddr, err, out)
	}
	if out, err := workers(trustsOther); err == nil {
		t.Errorf("buildctl trusting another CA got through to %s:\n%s", b.TCPAddr, out)
	}
	if out, err := workers(wrongClient); err == nil {
		t.Errorf("buildctl with a client certificate of another CA got through to %s:\n%s", b.TCPAddr, out)
	}
}

// solve runs def and returns, besides Solve's error, what the build printed and the
// errors of its steps, for a failure's message.
// runOut runs script with sh in the image ref on buildkitd and returns the
// directory its /out mount was exported to, and what the build printed.
func runOut(ctx context.Context, t *testing.T, c *client.Client, ref, script string) (out, progress string) {
	t.Helper()
	run := llb.Image(ref).Run(llb.Args([]string{"/bin/sh", "-c", script}))
	def, err := run.AddMount("/out", llb.Scratch()).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	progress, err = solve(ctx, c, def, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	})
	if err != nil {
		t.Fatalf("running %q in %s: %v\n%s", script, ref, err, progress)
	}
	return out, progress
}

func solve(ctx context.Context, c *client.Client, def *llb.Definition, opt client.SolveOpt) (string, error) {
	ch := make(chan *client.SolveStatus)
	var progress strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			for _, v := range s.Vertexes {
				if v.Error != "" {
					fmt.Fprintf(&progress, "step %q: %s\n", v.Name, v.Error)
				}
			}
			for _, l := range s.Logs {
				progress.Write(l.Data)
			}
		}
	}()
	_, err := c.Solve(ctx, def, opt, ch) // closes ch
	<-done
	return progress.String(), err
}
