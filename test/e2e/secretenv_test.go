package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
)

// A secret-env value reaches cargo (the build needs it) and nothing else: not the
// log (but for the runner's mask command), the outputs, the job summary, the image
// configs and labels, any layer of the final or the -tmp image, or the cache. The
// crate secret only reads it in its build script; envsecret has cargo and rustc
// record it in target/ (rerun-if-env-changed in its build script, env! and
// option_env!), which the build must scrub before the state is kept.
func TestSecretEnvReachesOnlyCargo(t *testing.T) {
	needDocker(t)
	t.Parallel()
	for _, name := range []string{"secret", "envsecret"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			secretEnvReachesOnlyCargo(t, name)
		})
	}
}

// secretEnvReachesOnlyCargo builds the crate name, whose binary is name too.
func secretEnvReachesOnlyCargo(t *testing.T, name string) {
	ws, src := inWorkspace(t, name, "secret")
	final, tmp := names(t)
	cacheDir := t.TempDir()

	// Without it, the build fails: the build really uses the secret.
	r := runCmd(t, nil, buildArgs(src, name, final, tmp)...)
	if r.code != 1 || !strings.Contains(r.stderr, "the build needs RUST_S2I_TEST_SECRET") {
		t.Fatalf("a build without the secret: exit %d, want 1 and the build's message:\n%s", r.code, r)
	}

	b := make([]byte, 16)
	rand.Read(b)
	secret := "s2i-secret-" + hex.EncodeToString(b)
	env, outputFile, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": name, "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "local", "cache-dir": cacheDir,
		"secret-env": "RUST_S2I_TEST_SECRET=" + secret, "env": "PLAIN=visible",
	})
	r = runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build with the secret failed:\n%s", r)
	}
	if got := runImage(t, final); !strings.Contains(got, "built with a secret") || strings.Contains(got, "false") {
		t.Errorf("image printed %q", got)
	}

	where := map[string]int{}
	count := func(place string, data []byte) { where[place] += strings.Count(string(data), secret) }
	count("log", []byte(r.stdout+r.stderr))
	if where["log"] != 1 || !strings.Contains(r.stderr, "::add-mask::"+secret) {
		t.Errorf("the secret appears %d times in the log; only the add-mask command may carry it", where["log"])
	}
	delete(where, "log")
	for _, f := range []string{outputFile, summaryFile} {
		data, _ := os.ReadFile(f)
		count(filepath.Base(f)+" file", data)
	}
	for _, img := range []string{final, tmp} {
		in, err := docker.ImageInspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := json.Marshal(in)
		count(img+" config and labels", cfg)
		if img == tmp && !strings.Contains(string(cfg), "PLAIN=visible") {
			t.Error("a plain env value is not in the -tmp image's config, as the README says it is")
		}
		save := exec.Command("docker", "save", img)
		out, err := save.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := save.Start(); err != nil {
			t.Fatal(err)
		}
		where[img+" layers"] += countIn(t, out, secret)
		if err := save.Wait(); err != nil {
			t.Fatalf("docker save %s: %v", img, err)
		}
	}
	countInCache(t, cacheDir, r.stderr, secret, where)
	for place, n := range where {
		if n != 0 {
			t.Errorf("the secret is in %s (%d times)", place, n)
		}
	}
	t.Logf("looked for the secret in the log, %d places: %v", len(where), keys(where))
	// Builds at the same time have volumes of their own: none may hold this secret.
	if held := volumesHolding(t, secret); len(held) != 0 {
		t.Errorf("secrets volumes left behind with the secret: %v", held)
	}
}

// countInCache adds to where how often secret is in each entry of the local cache
// in cacheDir that the build whose log is stderr saved, decompressed.
func countInCache(t *testing.T, cacheDir, stderr, secret string, where map[string]int) {
	t.Helper()
	store, err := local.New(cacheDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range []string{"registry", "target"} {
		key, content, err := store.Load(context.Background(), []string{savedKey(t, stderr, entry)})
		if err != nil {
			t.Fatalf("cache entry %s: %v", entry, err)
		}
		zr, err := archive.Decompress(content)
		if err != nil {
			t.Fatal(err)
		}
		where["cache entry "+key] += countIn(t, zr, secret)
		zr.Close()
		content.Close()
	}
}

// volumesHolding returns the secrets volumes on the daemon whose secrets file holds
// secret, read through a container that never starts.
func volumesHolding(t *testing.T, secret string) []string {
	t.Helper()
	vols, err := docker.VolumeList(context.Background(), client.VolumeListOptions{Filters: make(client.Filters).Add("label", "io.rust-s2i.secrets")})
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, v := range vols.Items {
		c, err := docker.ContainerCreate(context.Background(), client.ContainerCreateOptions{
			Image:      runtimeImage,
			Config:     &container.Config{Entrypoint: []string{"/nonexistent"}},
			HostConfig: &container.HostConfig{Binds: []string{v.Name + ":/probe:ro"}},
		})
		if err != nil {
			continue // removed meanwhile
		}
		res, err := docker.CopyFromContainer(context.Background(), c.ID, client.CopyFromContainerOptions{SourcePath: "/probe"})
		if err == nil {
			if countIn(t, res.Content, secret) > 0 {
				held = append(held, v.Name)
			}
			res.Content.Close()
		}
		_, _ = docker.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	}
	return held
}

// countIn counts s in a stream, across the boundaries of the reads.
func countIn(t *testing.T, r io.Reader, s string) int {
	t.Helper()
	buf := make([]byte, 1<<20)
	carry, n := "", 0
	for {
		k, err := r.Read(buf)
		chunk := carry + string(buf[:k])
		n += strings.Count(chunk, s)
		if len(chunk) >= len(s) {
			carry = chunk[len(chunk)-len(s)+1:]
		} else {
			carry = chunk
		}
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
