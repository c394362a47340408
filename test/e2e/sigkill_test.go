package e2e

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// Woodpecker cancels a step with SIGKILL of its container, whose PID 1 is the
// plugin: nothing of the build's own cleanup runs, and its S2I child dies with it.
// The secrets file is gone within seconds all the same (the build's lease wipes it
// when the killed process's attach connection closes), and the next build on the
// daemon removes, as it starts, the secrets volume and the build containers the
// killed one left, its assemble still running (with the secret in cargo's
// environment) included.
func TestSigkillOfPID1LeavesNoSecrets(t *testing.T) {
	needDocker(t)
	t.Parallel()
	img := actionImage(t)
	ws := t.TempDir()
	if err := os.Rename(copyTree(t, crate("slow")), filepath.Join(ws, "repo")); err != nil {
		t.Fatal(err)
	}
	ownBack(t, ws)
	final, tmp := names(t)
	b := make([]byte, 8)
	rand.Read(b)
	step := "rust-s2i-e2e-sigkill-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, _ = docker.ContainerRemove(context.Background(), step, client.ContainerRemoveOptions{Force: true})
	})
	// E2E_BUILD marks the killed build's assemble container (see buildContainers).
	run := exec.Command("docker", "run", "-d", "--name", step,
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", ws+":/woodpecker/src", "-w", "/woodpecker/src/repo",
		"-e", "CI=woodpecker", "-e", "PLUGIN_BINARY=slow", "-e", "PLUGIN_CACHE=none",
		"-e", "PLUGIN_BUILDER="+builderImage, "-e", "PLUGIN_RUNTIME_IMAGE="+runtimeImage,
		"-e", "PLUGIN_IMAGE="+final, "-e", "PLUGIN_TMP_IMAGE="+tmp,
		"-e", `PLUGIN_ENV={"SLOW_BUILD_SECONDS":"600","E2E_BUILD":"`+tmp+`"}`,
		"-e", `PLUGIN_SECRET_ENV={"SLOW_SECRET":"s2i-sigkill-`+hex.EncodeToString(b)+`"}`, img)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("starting the plugin: %v\n%s", err, out)
	}
	log := waitForLine(t, step, "Compiling slow")
	time.Sleep(time.Second) // the build script is sleeping now

	vol := secretsVolumeOf(t, tmp)
	probe := probeVolume(t, vol)
	if !holdsSecretsFile(t, probe) {
		t.Fatalf("the running build's secrets volume %s holds no secrets file:\n%s", vol, log)
	}
	if out, err := exec.Command("docker", "kill", "--signal", "KILL", step).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	killed := time.Now()
	for holdsSecretsFile(t, probe) {
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("the secrets file is still in %s 15 s after the SIGKILL", vol)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the secrets file was gone %v after the SIGKILL", time.Since(killed).Round(time.Millisecond))
	if buildContainers(t, tmp, tmp) == 0 {
		// Another test's build, started meanwhile, reaped it: as it should.
		t.Log("the killed build's assemble container is gone already")
	}

	// The next build on the daemon, of any source, reaps them as it starts.
	next := mustBuild(t, copyTree(t, crate("slow")), "slow", final+"-next", tmp+"-next")
	t.Cleanup(func() {
		for _, i := range []string{final + "-next", tmp + "-next"} {
			_, _ = docker.ImageRemove(context.Background(), i, client.ImageRemoveOptions{Force: true})
		}
	})
	if _, err := docker.VolumeInspect(context.Background(), vol, client.VolumeInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("the killed build's secrets volume %s is still there after the next build (%v):\n%s", vol, err, next.stderr)
	}
	if n := buildContainers(t, tmp, tmp); n != 0 {
		t.Errorf("%d build containers of the killed build are still there after the next build", n)
	}
}

// waitForLine follows the logs of container name until a line holds want, and
// returns them; it fails the test after three minutes.
func waitForLine(t *testing.T, name, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := exec.CommandContext(ctx, "docker", "logs", "-f", name)
	pr, pw := io.Pipe()
	logs.Stdout, logs.Stderr = pw, pw
	if err := logs.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pw.CloseWithError(logs.Wait()) }()
	var seen strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), want) {
			cancel()
			go io.Copy(io.Discard, pr)
			return seen.String()
		}
	}
	t.Fatalf("no line with %q:\n%s", want, seen.String())
	return ""
}

// secretsVolumeOf is the secrets volume mounted by the assemble container that
// E2E_BUILD=marker marks.
func secretsVolumeOf(t *testing.T, marker string) string {
	t.Helper()
	list, err := docker.ContainerList(context.Background(), client.ContainerListOptions{Filters: make(client.Filters).Add("name", "s2i_")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.Items {
		in, err := docker.ContainerInspect(context.Background(), c.ID, client.ContainerInspectOptions{})
		if err != nil || in.Container.Config == nil || !slices.Contains(in.Container.Config.Env, "E2E_BUILD="+marker) {
			continue
		}
		for _, m := range in.Container.Mounts {
			if m.Destination == tmpimage.SecretsDir && m.Name != "" {
				return m.Name
			}
		}
	}
	t.Fatalf("no running assemble container of %s mounts a secrets volume", marker)
	return ""
}

// probeVolume is a container that is never started and mounts vol, through which
// the test reads vol without creating it anew should it be gone: a reaper removes
// the probe with the volume.
func probeVolume(t *testing.T, vol string) string {
	t.Helper()
	c, err := docker.ContainerCreate(context.Background(), client.ContainerCreateOptions{
		Image:      runtimeImage,
		Config:     &container.Config{Entrypoint: []string{"/nonexistent"}},
		HostConfig: &container.HostConfig{Binds: []string{vol + ":/probe:ro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = docker.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	})
	return c.ID
}

// holdsSecretsFile says whether the volume the probe mounts still holds the secrets
// file; false once the probe is gone.
func holdsSecretsFile(t *testing.T, probe string) bool {
	t.Helper()
	res, err := docker.CopyFromContainer(context.Background(), probe, client.CopyFromContainerOptions{SourcePath: "/probe"})
	if cerrdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Content.Close()
	found := false
	err = archive.EachEntry(res.Content, func(hdr *tar.Header, _ io.Reader) error {
		found = found || path.Base(hdr.Name) == tmpimage.SecretsFile
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
