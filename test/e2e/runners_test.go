package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/nektos/act/pkg/artifactcache"
)

// Two fresh GitHub-hosted runners in a row: between them every image the project
// made is removed and the builder is built again from the same base, so it gets a
// new image ID. Only the Actions cache is kept (nektos/act's cache server, protocol
// v1, on loopback). The second runner restores the state, compiles only the
// workspace's own crate, and gives the same final image as the first.
func TestTwoFreshRunners(t *testing.T) {
	needDocker(t)
	t.Parallel()
	ctx := context.Background()
	h, err := artifactcache.StartHandler(t.TempDir(), "", "127.0.0.1", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	env := []string{"ACTIONS_CACHE_URL=" + h.ExternalURL() + "/", "ACTIONS_RUNTIME_TOKEN=" + runtimeToken(t)}

	in, err := docker.ImageInspect(ctx, builderImage)
	if err != nil {
		t.Fatal(err)
	}
	target := in.Config.Labels["io.rust-s2i.target"]
	// A toolchain label of its own keeps this builder's layers apart from the shared
	// test builder's, so removing it really removes them.
	runnerBuilder := "rust-s2i-e2e-runner-builder:latest"
	makeBuilder := func() string {
		t.Helper()
		// No C libraries: this test is about runners, and their sources would be fetched.
		r := runCmd(t, nil, "builder", "--base", rustImage, "--target", target, "--toolchain", "beta", "--c-libs", "none", "--tag", runnerBuilder)
		if r.code != 0 {
			t.Fatalf("making the builder:\n%s", r)
		}
		return imageID(t, runnerBuilder)
	}
	src := withGitDep(t)
	final, tmp := names(t)
	t.Cleanup(func() { removeAll(t, runnerBuilder) })
	build := func() result {
		t.Helper()
		defer func(start time.Time) { t.Logf("build took %s", time.Since(start).Round(10*time.Millisecond)) }(time.Now())
		args := []string{"build", "--source", src, "--binary", "gitdep", "--builder", runnerBuilder,
			"--runtime-image", runtimeImage, "--image", final, "--tmp-image", tmp,
			"--cache", "gha", "--cache-protocol", "v1", "--network", "none"}
		r := runCmd(t, env, args...)
		if r.code != 0 {
			t.Fatalf("build failed:\n%s", r)
		}
		return r
	}

	builder1 := makeBuilder()
	r := build()
	if !strings.Contains(r.stderr, "Compiling greet") {
		t.Fatalf("the first runner did not compile the dependency:\n%s", r.stderr)
	}
	first := imageID(t, final)

	removeAll(t, final, tmp, runnerBuilder)
	builder2 := makeBuilder()
	if builder2 == builder1 {
		t.Fatalf("the builder made again has the same ID %s: the test shows nothing", builder1)
	}
	r = build()
	if strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("the second runner compiled the dependency again: target/ was not restored\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Compiling gitdep") {
		t.Errorf("the second runner did not compile the workspace's own crate:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "cache-hit=true") {
		t.Errorf("the second runner missed the cache:\n%s", r.stdout)
	}
	if second := imageID(t, final); second != first {
		t.Errorf("the same commit gave %s on the first runner and %s on the second", first, second)
	}

	// A one-line change on the second runner compiles the own crate only.
	appendLine(t, filepath.Join(src, "src", "main.rs"), "// a one-line change")
	r = build()
	if strings.Contains(r.stderr, "Compiling greet") || !strings.Contains(r.stderr, "Compiling gitdep") {
		t.Errorf("a one-line change should compile gitdep and not greet:\n%s", r.stderr)
	}
}

// A change of RUSTFLAGS saves a new target/ entry under a new key, and a restore
// after it brings back that one, as an exact hit.
func TestRustflagsChangeSavesNewEntry(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	src := copyTree(t, crate("hello"))
	cacheDir := t.TempDir()
	mustBuild(t, src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	before := targetEntries(t, cacheDir)
	if len(before) != 1 {
		t.Fatalf("target entries after the first build: %q, want one", before)
	}
	flags := []string{"--cache", "local", "--cache-dir", cacheDir, "--env", "RUSTFLAGS=-C opt-level=2"}
	mustBuild(t, src, "hello", final, tmp, flags...)
	after := targetEntries(t, cacheDir)
	if len(after) != 2 {
		t.Fatalf("target entries after the RUSTFLAGS change: %q, want a second one", after)
	}
	var added string
	for _, k := range after {
		if k != before[0] {
			added = k
		}
	}
	removeAll(t, tmp)
	r := mustBuild(t, src, "hello", final, tmp, flags...)
	if !strings.Contains(r.stdout, "cache-matched-key="+added+"\n") || !strings.Contains(r.stdout, "cache-hit=true") {
		t.Errorf("the restore after the change should match %s exactly:\n%s", added, r.stdout)
	}
}

// cache-save false restores only: nothing is written to the cache.
func TestCacheSaveFalse(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	cacheDir := t.TempDir()
	r := mustBuild(t, crate("hello"), "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir, "--cache-save=false")
	if !strings.Contains(r.stderr, "restore only") {
		t.Errorf("the log does not say the cache was restore-only:\n%s", r.stderr)
	}
	left, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "k-") {
			t.Errorf("cache-save false saved %s", e.Name())
		}
	}
}

// The final image says what its binary is; a runtime base of another architecture
// is bad input, refused before anything is built.
func TestArchitecture(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	mustBuild(t, crate("hello"), "hello", final, tmp)
	img, err := docker.ImageInspect(context.Background(), final)
	if err != nil {
		t.Fatal(err)
	}
	if img.Architecture != runtime.GOARCH || img.Os != "linux" {
		t.Errorf("final image is %s/%s, want linux/%s like its binary", img.Os, img.Architecture, runtime.GOARCH)
	}

	other := "rust-s2i-e2e-other-arch:latest"
	otherArch := map[string]string{"amd64": "arm64"}[runtime.GOARCH]
	if otherArch == "" {
		otherArch = "amd64"
	}
	loadImage(t, other, otherArch)
	t.Cleanup(func() { removeAll(t, other) })
	final2, tmp2 := final+"-other", tmp+"-other"
	r := runCmd(t, nil, "build", "--source", crate("hello"), "--binary", "hello", "--builder", builderImage,
		"--runtime-image", other, "--image", final2, "--tmp-image", tmp2)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", r.code, r)
	}
	if !regexp.MustCompile(`--runtime-image: .*` + otherArch + `.*` + runtime.GOARCH).MatchString(r.stderr) {
		t.Errorf("the error should name --runtime-image and both architectures:\n%s", r.stderr)
	}
	if imageID(t, final2) != "" || imageID(t, tmp2) != "" {
		t.Error("an image was built despite the bad runtime image")
	}
}

// targetEntries lists the target/ entries' keys in a local cache directory.
func targetEntries(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "k-*-target-*"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		keys = append(keys, strings.TrimPrefix(filepath.Base(f), "k-"))
	}
	return keys
}

func removeAll(t *testing.T, images ...string) {
	t.Helper()
	for _, img := range images {
		_, _ = docker.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	}
}

func appendLine(t *testing.T, file, line string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// loadImage loads a one-file image whose config says it is for arch, as a pull of
// another platform's image would leave it: nothing here can pull one.
func loadImage(t *testing.T, tag, arch string) {
	t.Helper()
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	lw.WriteHeader(&tar.Header{Name: "etc/os-release", Mode: 0o644, Size: 3})
	lw.Write([]byte("x=1"))
	lw.Close()
	sum := sha256.Sum256(layer.Bytes())
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	config, _ := json.Marshal(map[string]any{
		"architecture": arch, "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	csum := sha256.Sum256(config)
	manifest, _ := json.Marshal([]map[string]any{{
		"Config": hex.EncodeToString(csum[:]) + ".json", "RepoTags": []string{tag}, "Layers": []string{"layer.tar"},
	}})
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for name, data := range map[string][]byte{hex.EncodeToString(csum[:]) + ".json": config, "layer.tar": layer.Bytes(), "manifest.json": manifest} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	tw.Close()
	res, err := docker.ImageLoad(context.Background(), &archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	out := new(bytes.Buffer)
	out.ReadFrom(res)
	if strings.Contains(out.String(), `"error"`) {
		t.Fatalf("loading %s: %s", tag, out)
	}
}
