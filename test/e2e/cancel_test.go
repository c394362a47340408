package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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

			// E2E_BUILD marks this build's assemble container, so that the other
			// subtest's, running at the same time, is not counted.
			cmd := exec.Command(binPath, buildArgs(src, "slow", final, tmp, append(cacheFlags, "--env", "SLOW_BUILD_SECONDS=600", "--env", "E2E_BUILD="+tmp)...)...)
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
			for left := buildContainers(t, tmp, tmp); left > 0; left = buildContainers(t, tmp, tmp) {
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

// buildContainers counts the S2I containers of one build, and no other's: its
// assemble container runs the builder image with E2E_BUILD=marker in its
// environment (the test passes it with --env), and its save-artifacts container runs
// its -tmp image, tmp:latest, under the name S2I gives it: s2i_, tmp with every
// character outside [0-9A-Za-z] made _, then _ and 8 hex digits.
func buildContainers(t *testing.T, tmp, marker string) int {
	t.Helper()
	list, err := docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "s2i_")})
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^/s2i_` + regexp.QuoteMeta(s2iSanitize(tmp)) + `_[0-9a-f]{8}$`)
	n := 0
	for _, c := range list.Items {
		in, err := docker.ContainerInspect(context.Background(), c.ID, client.ContainerInspectOptions{})
		if err != nil || in.Container.Config == nil {
			continue // removed meanwhile
		}
		if slices.Contains(in.Container.Config.Env, "E2E_BUILD="+marker) ||
			name.MatchString(in.Container.Name) && in.Container.Config.Image == tmp+":latest" {
			n++
		}
	}
	return n
}

// s2iSanitize is what S2I does to an image name to name a container after it.
func s2iSanitize(image string) string {
	return strings.Map(func(r rune) rune {
		if ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') {
			return r
		}
		return '_'
	}, image)
}

func names2(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Base(e.Name()))
	}
	return out
}
