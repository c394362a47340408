package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// sourceScriptMarker is what the crate's own S2I scripts print, should one run.
const sourceScriptMarker = "THE-SOURCE-S2I-SCRIPT-RAN"

// hostileS2ISource adds S2I's source conventions to the crate at src, each set to
// do harm on the host if S2I honoured it: .s2i/bin/assemble and save-artifacts that
// print sourceScriptMarker (save-artifacts then streams a tar whose symlink
// cargo/esc points at plantDir, followed by cargo/esc/planted), .s2i/environment
// a symbolic link to a host file holding secretLine, and a .s2iignore that names
// canary, outside the source.
func hostileS2ISource(t *testing.T, src, plantDir, secretLine, canary string) {
	t.Helper()
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	for _, h := range []*tar.Header{
		{Name: "cargo/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "cargo/esc", Typeflag: tar.TypeSymlink, Linkname: plantDir},
		{Name: "cargo/esc/planted", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(sourceScriptMarker))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, sourceScriptMarker)
		}
	}
	tw.Close()
	hostEnv := filepath.Join(t.TempDir(), "credentials")
	files := map[string]string{
		".s2i/bin/assemble":       "#!/bin/sh\necho " + sourceScriptMarker + "\nexit 0\n",
		".s2i/bin/save-artifacts": "#!/bin/sh\necho " + sourceScriptMarker + " >&2\necho '" + base64.StdEncoding.EncodeToString(evil.Bytes()) + "' | base64 -d\n",
		".s2iignore":              strings.Repeat("../", 20) + strings.TrimPrefix(canary, "/") + "\n",
		hostEnv:                   secretLine + "\n",
		canary:                    "still here\n",
	}
	for name, data := range files {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(src, name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(hostEnv, filepath.Join(src, ".s2i", "environment")); err != nil {
		t.Fatal(err)
	}
}

// otherBuilder is the test builder under a new image ID, as after a toolchain
// update: the next build starts over from it with the old state, the path that
// was S2I's save-artifacts.
func otherBuilder(t *testing.T) string {
	t.Helper()
	other := "rust-s2i-e2e-builder-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+builderImage+"\nLABEL rebuilt="+other+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := command("docker", "build", "-q", "-t", other, dir); err != nil {
		t.Fatalf("making another builder: %v\n%s", err, out)
	}
	t.Cleanup(func() { command("docker", "rmi", "-f", other) })
	return other
}

// A crate's own .s2i/, .sti/ and .s2iignore have no effect, on a cold build and
// on the build that starts over from a new builder with the old state (S2I's
// incremental path before): the crate's scripts never run, the builder's do, the
// host file behind .s2i/environment reaches no image config or layer, nothing is
// planted outside, and the file .s2iignore names outside the source stays.
func TestSourceS2IConventionsHaveNoEffect(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	host := t.TempDir()
	plantDir, canary := filepath.Join(host, "plant"), filepath.Join(host, "canary")
	if err := os.Mkdir(plantDir, 0o755); err != nil {
		t.Fatal(err)
	}
	secretLine := "RUST_S2I_E2E_HOST_SECRET=" + strings.ReplaceAll(t.Name(), "/", "-") + "-d41d8cd98f00b204"
	hostileS2ISource(t, src, plantDir, secretLine, canary)
	final, tmp := names(t)

	cold := mustBuild(t, src, "hello", final, tmp)
	other := otherBuilder(t)
	// A change, or the up-to-date check stops the build first: the other builder has
	// the same toolchain and scripts.
	appendLine(t, filepath.Join(src, "src", "main.rs"), "// the next build")
	r := runCmd(t, nil, "build", "--source", src, "--binary", "hello", "--builder", other,
		"--runtime-image", runtimeImage, "--image", final, "--tmp-image", tmp)
	if r.code != 0 {
		t.Fatalf("the build from another builder failed:\n%s", r)
	}
	if !strings.Contains(r.stderr, "building from "+other+" with the state of "+tmp) {
		t.Errorf("the second build did not carry the state over to the new builder:\n%s", r.stderr)
	}
	for i, run := range []result{cold, r} {
		if strings.Contains(run.stdout+run.stderr, sourceScriptMarker) {
			t.Errorf("build %d ran the crate's own S2I script:\n%s", i+1, run)
		}
	}
	if !strings.Contains(cold.stderr, "Compiling hello") {
		t.Errorf("the builder's assemble did not build the crate:\n%s", cold.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "Hello, world!") {
		t.Errorf("image printed %q", got)
	}
	if left, _ := os.ReadDir(plantDir); len(left) != 0 {
		t.Errorf("files planted outside: %v", left)
	}
	if _, err := os.Stat(canary); err != nil {
		t.Errorf("the file .s2iignore names outside the source is gone: %v", err)
	}
	for _, img := range []string{tmp, final} {
		in, err := docker.ImageInspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		config, _ := json.Marshal(in.Config)
		if bytes.Contains(config, []byte(secretLine)) {
			t.Errorf("the config of %s holds the host file's line (env or label)", img)
		}
		if imageContains(t, img, []string{secretLine}) != "" {
			t.Errorf("a layer of %s holds the host file's line", img)
		}
	}
	if ls := dockerRun(t, "--entrypoint", "ls", tmp, "-a", "/opt/app-root/src"); strings.Contains(ls, ".s2i") {
		t.Errorf("the -tmp image's source holds S2I's conventions:\n%s", ls)
	}
}

// e2eToken stands for a CI token in TestCredentialsNeverInImages.
const e2eToken = "SECRETTOKEN-e2e-7f3a9c"

// A token in the source's git credentials reaches no image layer, label, cache
// entry or log: a checkout as actions/checkout leaves it (the token in
// .git/config's http.extraheader, and a remote URL with one), and a git URL with a
// token in it, cloned from a loopback server that wants that token.
func TestCredentialsNeverInImages(t *testing.T) {
	needDocker(t)
	t.Parallel()
	checkout := copyTree(t, crate("hello"))
	initRepo(t, checkout)
	git(t, checkout, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic "+e2eToken)
	git(t, checkout, "remote", "add", "origin", "https://x-access-token:"+e2eToken+"@github.com/o/hello.git")
	served := t.TempDir()
	git(t, served, "clone", "-q", "--bare", checkout, "hello.git")
	base := testenv.GitHTTPServer(t, served, "x-access-token", e2eToken)
	tests := []struct{ name, source string }{
		{"persisted-credential checkout", checkout},
		{"git URL with a token", base + "/hello.git"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			final, tmp := names(t)
			cacheDir := t.TempDir()
			r := mustBuild(t, tc.source, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
			if strings.Contains(r.stdout+r.stderr, e2eToken) {
				t.Errorf("the log holds the token:\n%s", r)
			}
			for _, img := range []string{tmp, final} {
				in, err := docker.ImageInspect(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				config, _ := json.Marshal(in.Config)
				if bytes.Contains(config, []byte(e2eToken)) {
					t.Errorf("the config of %s (labels, env) holds the token: %s", img, config)
				}
				if imageContains(t, img, []string{e2eToken}) != "" {
					t.Errorf("a layer of %s holds the token", img)
				}
			}
			if where := cacheHolds(t, cacheDir, e2eToken); where != "" {
				t.Errorf("the cache entry %s holds the token", where)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(checkout, ".git", "config")); !bytes.Contains(data, []byte(e2eToken)) {
		t.Error("the checkout's own .git/config was changed: only the build's copy may be scrubbed")
	}
}

// cacheHolds returns the name of the first file below dir whose content (a zstd
// cache entry decompressed, any other file as it is) holds s, or "".
func cacheHolds(t *testing.T, dir, s string) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if zr, err := archive.Decompress(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				data = append(data, plain...)
			}
			zr.Close()
		}
		if bytes.Contains(data, []byte(s)) {
			found = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
