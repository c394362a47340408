package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// These tests push through the real Docker daemon to a real registry
// (distribution, started by hack/registry.sh on a free loopback port). Outside
// -short mode a missing daemon or a registry that cannot start is a failure.

const baseImage = "rust-s2i-test/busybox:latest"

func connect(t *testing.T) *client.Client {
	t.Helper()
	c, err := engine.Connect(t.Context(), os.Getenv)
	if err != nil {
		t.Fatalf("this test needs the Docker daemon (hack/docker-up.sh starts one): %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.ImageInspect(t.Context(), baseImage); err != nil {
		t.Fatalf("this test needs %s (hack/test-images.sh builds it): %v", baseImage, err)
	}
	return c
}

// startRegistry runs a registry that accepts only user/pass and returns its
// host:port. The password goes through the environment, not the command line.
func startRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	script, err := filepath.Abs("../../hack/registry.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := strconv.Itoa(testenv.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the first run may apt-get install
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", script, "start", dir, port, user, "-")
	cmd.Env = append(os.Environ(), "REGISTRY_PASSWORD="+pass)
	out, err := cmd.CombinedOutput()
	// Stop even after a failed start: the script may have left a process behind.
	t.Cleanup(func() {
		if out, err := exec.Command("bash", script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("stopping the registry: %v\n%s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("starting the registry with hack/registry.sh: %v\n%s", err, out)
	}
	t.Logf("registry on 127.0.0.1:%s up in %s", port, time.Since(start).Round(time.Millisecond))
	return "127.0.0.1:" + port
}

// tagForPush gives the base image a unique name in the registry at host, and
// removes that name (not the image) at the end.
func tagForPush(t *testing.T, c *client.Client, host string) (ref, repo, tag string) {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	repo, tag = "rs2i-push-test", "t"+hex.EncodeToString(b)
	ref = host + "/" + repo + ":" + tag
	if _, err := c.ImageTag(t.Context(), client.ImageTagOptions{Source: baseImage, Target: ref}); err != nil {
		t.Fatalf("tagging %s: %v", ref, err)
	}
	t.Cleanup(func() {
		c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{})
	})
	return ref, repo, tag
}

// manifestDigest asks the registry itself which digest repo:tag has.
func manifestDigest(t *testing.T, host, repo, tag, user, pass string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("asking the registry for the manifest: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest %s:%s: %s: %s", repo, tag, resp.Status, body)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// runImage runs `echo ok` in ref and returns what it printed.
func runImage(t *testing.T, c *client.Client, ref string) string {
	t.Helper()
	ctx := t.Context()
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: ref, Cmd: []string{"echo", "ok"}},
	})
	if err != nil {
		t.Fatalf("creating a container from %s: %v", ref, err)
	}
	t.Cleanup(func() {
		c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("starting %s: %v", ref, err)
	}
	select {
	case r := <-wait.Result:
		if r.StatusCode != 0 {
			t.Fatalf("echo ok in %s exited %d", ref, r.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatalf("waiting for %s: %v", ref, err)
	}
	logs, err := c.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	return stdout.String() + stderr.String()
}

func TestPushRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes through the Docker daemon to a registry")
	}
	t.Parallel()
	c := connect(t)
	const user, pass = "pusher", "correct horse: battery staple"
	host := startRegistry(t, user, pass)
	ref, repo, tag := tagForPush(t, c, host)
	auth := Auth{Username: user, Password: pass}

	var progress bytes.Buffer
	start := time.Now()
	digest, err := Push(t.Context(), c, ref, auth, &progress)
	if err != nil {
		t.Fatalf("Push: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("pushed %s in %s as %s; progress:\n%s", ref, time.Since(start).Round(time.Millisecond), digest, progress.String())
	if !strings.HasPrefix(digest, "sha256:") || len(digest) != len("sha256:")+64 {
		t.Errorf("digest = %q, want sha256:<64 hex>", digest)
	}
	if want := manifestDigest(t, host, repo, tag, user, pass); digest != want {
		t.Errorf("Push returned %s, the registry serves %s:%s as %s", digest, repo, tag, want)
	}
	if !strings.Contains(progress.String(), "digest: "+digest) {
		t.Errorf("progress does not show the digest:\n%s", progress.String())
	}
	if strings.Contains(progress.String(), pass) {
		t.Errorf("progress contains the password")
	}

	// Back through the daemon: drop the local name, pull it with the same
	// credentials, and run it.
	if _, err := c.ImageRemove(t.Context(), ref, client.ImageRemoveOptions{}); err != nil {
		t.Fatalf("removing the local tag %s: %v", ref, err)
	}
	enc, err := encodeAuth(ref, auth)
	if err != nil {
		t.Fatal(err)
	}
	pull, err := c.ImagePull(t.Context(), ref, client.ImagePullOptions{RegistryAuth: enc})
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if err := pull.Wait(t.Context()); err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	pulled, err := c.ImageInspect(t.Context(), ref)
	if err != nil {
		t.Fatalf("inspecting the pulled %s: %v", ref, err)
	}
	if want := host + "/" + repo + "@" + digest; !slices.Contains(pulled.RepoDigests, want) {
		t.Errorf("pulled image's RepoDigests = %v, want %s among them", pulled.RepoDigests, want)
	}
	base, err := c.ImageInspect(t.Context(), baseImage)
	if err != nil {
		t.Fatal(err)
	}
	if pulled.ID != base.ID {
		t.Errorf("pulled image ID %s, pushed %s", pulled.ID, base.ID)
	}
	if out := runImage(t, c, ref); out != "ok\n" {
		t.Errorf("echo ok in the pulled image printed %q", out)
	}
}

func TestPushRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes through the Docker daemon to a registry")
	}
	t.Parallel()
	c := connect(t)
	const user, pass = "pusher", "the-right-password-4c1d"
	host := startRegistry(t, user, pass)
	ref, repo, _ := tagForPush(t, c, host)

	for _, tc := range []struct {
		name string
		auth Auth
		want string
	}{
		{"wrong password", Auth{Username: user, Password: "wr0ng-pa55word-9f8e"}, `pushing ` + ref + `: the registry refused the credentials for user "pusher": `},
		{"unknown user", Auth{Username: "mallory", Password: pass}, `the registry refused the credentials for user "mallory": `},
		{"anonymous", Auth{}, `pushing ` + ref + `: the registry wants credentials and none were given`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var progress bytes.Buffer
			start := time.Now()
			digest, err := Push(t.Context(), c, ref, tc.auth, &progress)
			if err == nil {
				t.Fatalf("Push = %s, want an error", digest)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("error does not match ErrUnauthorized: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
			for _, secret := range []string{tc.auth.Password, pass} {
				if secret == "" {
					continue
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error contains a password: %v", err)
				}
				if strings.Contains(progress.String(), secret) {
					t.Errorf("progress contains a password:\n%s", progress.String())
				}
			}
		})
	}
	// Nothing landed.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+host+"/v2/"+repo+"/tags/list", nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("tags of %s after refused pushes: %s, want 404", repo, resp.Status)
	}
}

func TestPushMissingImage(t *testing.T) {
	if testing.Short() {
		t.Skip("talks to the Docker daemon")
	}
	t.Parallel()
	c := connect(t)
	ref := fmt.Sprintf("127.0.0.1:%d/rs2i-push-test:does-not-exist", testenv.FreePort(t))
	_, err := Push(t.Context(), c, ref, Auth{Username: "u", Password: "pw-never-shown"}, nil)
	if err == nil {
		t.Fatal("Push of a missing image succeeded")
	}
	if !strings.HasPrefix(err.Error(), "pushing "+ref+": ") || strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("error = %v", err)
	}
	if errors.Is(err, ErrUnauthorized) {
		t.Errorf("a missing image is not an authentication failure: %v", err)
	}
}
