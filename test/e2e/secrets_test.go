package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/nektos/act/pkg/artifactcache"
)

// A full build with a registry password and a cache token: neither reaches stdout,
// stderr, $GITHUB_OUTPUT, the job summary, any image label or any layer of the
// final or -tmp image. Only the ::add-mask:: commands, which the runner strips,
// may carry them.
func TestSecretsNeverLeak(t *testing.T) {
	needDocker(t)
	t.Parallel()
	cacheServer, err := artifactcache.StartHandler(t.TempDir(), "", "127.0.0.1", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cacheServer.Close() })
	const user, pass = "pusher", "Sup3r-S3cret-Registry-Pass"
	reg := startRegistry(t, user, pass)
	token := runtimeToken(t)

	ws, src := inWorkspace(t, "hello", "hello")
	_, tmp := names(t)
	final := reg + "/rs2i/secrets:e2e"
	t.Cleanup(func() { command("docker", "rmi", "-f", final) })
	env, outputFile, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "gha", "push": "true", "username": user, "password": pass,
	})
	env = append(env, "ACTIONS_CACHE_URL="+cacheServer.ExternalURL(), "ACTIONS_RUNTIME_TOKEN="+token,
		"GITHUB_SERVER_URL=https://ghes.invalid", "RUNNER_TEMP="+t.TempDir())
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build failed:\n%s", r)
	}
	if !strings.Contains(r.stderr, "cache: saved") {
		t.Errorf("the build did not use the cache, so the token was not exercised:\n%s", r.stderr)
	}

	secrets := []string{pass, token}
	places := map[string][]byte{"stdout": []byte(r.stdout), "stderr": []byte(r.stderr)}
	for name, f := range map[string]string{"$GITHUB_OUTPUT": outputFile, "job summary": summaryFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		places[name] = data
	}
	ctx := context.Background()
	for _, img := range []string{final, tmp} {
		in, err := docker.ImageInspect(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		labels, _ := json.Marshal(in.Config)
		places["config of "+img] = labels
	}
	for where, data := range places {
		for _, s := range secrets {
			n := bytes.Count(data, []byte(s)) - bytes.Count(data, []byte("::add-mask::"+s))
			if n != 0 {
				t.Errorf("a secret appears %d times in %s", n, where)
			}
		}
	}
	// The scan must see into layers: the binary's own greeting is in the final image.
	if imageContains(t, final, []string{"from a static Rust binary"}) == "" {
		t.Fatal("the layer scan does not find what is there")
	}
	for _, img := range []string{final, tmp} {
		if found := imageContains(t, img, secrets); found != "" {
			t.Errorf("a layer of %s holds a secret (%d bytes of it)", img, len(found))
		}
	}
}

// imageContains streams `docker save` of img (layers uncompressed) and returns the
// first of needles found in it.
func imageContains(t *testing.T, img string, needles []string) string {
	t.Helper()
	res, err := docker.ImageSave(context.Background(), []string{img})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	longest := 0
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	buf := make([]byte, 1<<20)
	carry := []byte{}
	for {
		n, err := res.Read(buf)
		chunk := append(carry, buf[:n]...)
		for _, s := range needles {
			if bytes.Contains(chunk, []byte(s)) {
				return s
			}
		}
		if len(chunk) > longest {
			carry = append([]byte{}, chunk[len(chunk)-longest:]...)
		} else {
			carry = chunk
		}
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
