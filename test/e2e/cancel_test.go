package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// A build stopped by SIGTERM or SIGINT (a cancelled CI job) removes its containers
// within 10 s, leaves no cache entry half written and the earlier images as they
// were; the next build succeeds.
func TestCancel(t *testing.T) {
	needDocker(t)
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			src := copyTree(t, crate("slow"))
			final, tmp := names(t)
			cacheDir := t.TempDir()
			cacheFlags := []string{"--cache", "local", "--cache-dir", cacheDir}
			mustBuild(t, src, "slow", final, tmp, cacheFlags...)
			finalID, tmpID := imageID(t, final), imageID(t, tmp)
			entries, _ := os.ReadDir(cacheDir)

			cmd := exec.Command(binPath, buildArgs(src, "slow", final, tmp, append(cacheFlags, "--env", "SLOW_BUILD_SECONDS=600")...)...)
			// Every temporary file of the build, S2I's included, goes here.
			scratch := t.TempDir()
			cmd.Env = append(os.Environ(), "TMPDIR="+scratch, "RUNNER_TEMP="+scratch)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			compiling := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(stderr)
				seen := false
				for sc.Scan() {
					log.WriteString(sc.Text() + "\n")
					if !seen && strings.Contains(sc.Text(), "Compiling slow") {
						seen = true
						close(compiling)
					}
				}
				io.Copy(io.Discard, stderr)
			}()
			select {
			case <-compiling:
			case <-time.After(3 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("cargo never started:\n%s", log.String())
			}
			time.Sleep(time.Second) // the build script is sleeping now
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err = <-waited:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the build did not stop within 30 s of %v", sig)
			}
			if err == nil {
				t.Fatalf("a cancelled build exited 0:\n%s", log.String())
			}
			for left := buildContainers(t, tmp); left > 0; left = buildContainers(t, tmp) {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("%d build containers left 10 s after %v", left, sig)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("%v: stopped, and no container left, %v after the signal", sig, time.Since(start).Round(time.Millisecond))

			if got := imageID(t, final); got != finalID {
				t.Errorf("final image changed: %s, was %s", got, finalID)
			}
			if got := imageID(t, tmp); got != tmpID {
				t.Errorf("-tmp image changed: %s, was %s", got, tmpID)
			}
			if left, _ := os.ReadDir(scratch); len(left) != 0 {
				t.Errorf("temporary files left after %v: %v", sig, names2(left))
			}
			after, _ := os.ReadDir(cacheDir)
			if len(after) != len(entries) {
				t.Errorf("cache dir changed from %d to %d files: %v", len(entries), len(after), names2(after))
			}
			mustBuild(t, src, "slow", final, tmp, cacheFlags...)
			if got := runImage(t, final); !strings.Contains(got, "slow but done") {
				t.Errorf("image printed %q", got)
			}
		})
	}
}

// buildContainers counts the S2I containers of a build whose -tmp image is tmp:
// the assemble container carries the builder image, so count by the test's source
// path in its name or environment.
func buildContainers(t *testing.T, tmp string) int {
	t.Helper()
	list, err := docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "s2i_")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list.Items {
		in, err := docker.ContainerInspect(context.Background(), c.ID, client.ContainerInspectOptions{})
		if err != nil {
			continue // removed meanwhile
		}
		env := strings.Join(in.Container.Config.Env, "\n")
		if strings.Contains(env, "SLOW_BUILD_SECONDS=600") || strings.Contains(strings.Join(c.Names, ","), strings.ReplaceAll(tmp, "-", "_")) {
			n++
		}
	}
	return n
}

func names2(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Base(e.Name()))
	}
	return out
}
