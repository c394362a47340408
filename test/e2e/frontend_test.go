package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// actionsEnv is the environment the runner gives a container action.
func actionsEnv(t *testing.T, workspace string, inputs map[string]string) (env []string, outputFile, summaryFile string) {
	t.Helper()
	dir := t.TempDir()
	outputFile, summaryFile = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for _, f := range []string{outputFile, summaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{"GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + workspace,
		"GITHUB_OUTPUT=" + outputFile, "GITHUB_STEP_SUMMARY=" + summaryFile}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	return env, outputFile, summaryFile
}

// Inside GitHub Actions the command reads its inputs, groups its phases, masks the
// secrets, writes the step outputs and the job summary.
func TestActionsFrontEnd(t *testing.T) {
	needDocker(t)
	t.Parallel()
	ws, src := inWorkspace(t, "hello", "service")
	final, tmp := names(t)
	const password = "s3cr3t-Pa55word"
	env, outputFile, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "none", "username": "u", "password": password,
	})
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build failed:\n%s", r)
	}
	for _, want := range []string{"::group::s2i build", "::endgroup::", "::add-mask::" + password} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if n := strings.Count(r.stderr+r.stdout, password); n != 1 {
		t.Errorf("the password appears %d times in the log; only the add-mask command may carry it", n)
	}
	out, _ := os.ReadFile(outputFile)
	for _, want := range []string{"image<<", final, "image-id<<", "sha256:", "binary-size<<", "cache-hit<<"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("$GITHUB_OUTPUT lacks %q:\n%s", want, out)
		}
	}
	summary, _ := os.ReadFile(summaryFile)
	for _, want := range []string{"| s2i build |", "| package |", "| cache | miss |", "| binary |", "MiB"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("job summary lacks %q:\n%s", want, summary)
		}
	}
	for _, f := range [][]byte{out, summary} {
		if strings.Contains(string(f), password) {
			t.Error("the password reached an output file")
		}
	}
}

// A compile error inside Actions becomes an annotation on the source line, named
// relative to the workspace.
func TestActionsAnnotations(t *testing.T) {
	needDocker(t)
	t.Parallel()
	ws, src := inWorkspace(t, "hello", "svc")
	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    let x: u32 = \"nope\";\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	final, tmp := names(t)
	env, _, _ := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "none",
	})
	r := runCmd(t, env, "build")
	if r.code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	if !strings.Contains(r.stderr, "::error file=svc/src/main.rs,line=2,col=") || !strings.Contains(r.stderr, "mismatched types") {
		t.Errorf("no annotation for the compile error:\n%s", r.stderr)
	}
}

// Inside Actions, bad inputs are named as in action.yml, all at once.
func TestActionsBadInputs(t *testing.T) {
	needDocker(t)
	t.Parallel()
	env, _, _ := actionsEnv(t, t.TempDir(), map[string]string{"source": "/nope", "push": "maybe", "runtime-image": "Bad Ref"})
	r := runCmd(t, env, "build")
	if r.code != 2 {
		t.Fatalf("want exit 2\n%s", r)
	}
	for _, want := range []string{"push", "maybe", "binary", "source", "runtime-image"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "--") {
		t.Errorf("inputs named as flags:\n%s", r.stderr)
	}
}

var (
	actionOnce sync.Once
	actionErr  error
)

// actionImage is the action/plugin image built offline, once per test run.
func actionImage(t *testing.T) string {
	t.Helper()
	actionOnce.Do(func() { actionErr = testenv.BuildActionImage(binPath) })
	if actionErr != nil {
		t.Fatal(actionErr)
	}
	return testenv.ActionImage
}

// The plugin, run the way Woodpecker runs it: the image with PLUGIN_* settings, the
// Docker socket and the workspace mounted; the image is built and the outputs written.
func TestPluginLikeWoodpecker(t *testing.T) {
	needDocker(t)
	t.Parallel()
	img := actionImage(t)
	ws := t.TempDir()
	if err := os.Rename(copyTree(t, crate("workspace")), filepath.Join(ws, "repo")); err != nil {
		t.Fatal(err)
	}
	final, tmp := names(t)
	step := []string{"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", ws + ":/woodpecker/src",
		"-w", "/woodpecker/src/repo", "-e", "CI=woodpecker", "-e", "PLUGIN_BINARY=api",
		"-e", "PLUGIN_BUILDER=" + builderImage, "-e", "PLUGIN_RUNTIME_IMAGE=" + runtimeImage,
		"-e", "PLUGIN_IMAGE=" + final, "-e", "PLUGIN_TMP_IMAGE=" + tmp,
		"-e", "PLUGIN_CACHE_DIR=/woodpecker/src/.cache", "-e", `PLUGIN_ENV={"CARGO_PROFILE_RELEASE_DEBUG":"false"}`,
		img}
	out := dockerRun(t, step...)
	if got := runImage(t, final); !strings.Contains(got, "this is api") {
		t.Errorf("image printed %q\n%s", got, out)
	}
	outputs, err := os.ReadFile(filepath.Join(ws, "repo", "rust-s2i-musl.env"))
	if err != nil {
		t.Fatalf("no output file: %v\n%s", err, out)
	}
	for _, want := range []string{"RUST_S2I_MUSL_IMAGE='" + final + "'", "RUST_S2I_MUSL_IMAGE_ID='sha256:", "RUST_S2I_MUSL_TMP_IMAGE='" + tmp + "'"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("output file lacks %q:\n%s", want, outputs)
		}
	}
	// A later step sources it: the values come back whole, the metadata JSON's
	// quotes included.
	sourced, err := exec.Command("sh", "-c", `. "$1" && printf '%s|%s' "$RUST_S2I_MUSL_IMAGE" "$RUST_S2I_MUSL_METADATA"`, "sh",
		filepath.Join(ws, "repo", "rust-s2i-musl.env")).CombinedOutput()
	if err != nil {
		t.Fatalf("sourcing the output file: %v\n%s", err, sourced)
	}
	image, metadata, _ := strings.Cut(string(sourced), "|")
	var meta map[string]string
	if image != final || json.Unmarshal([]byte(metadata), &meta) != nil || meta["image.name"] != final {
		t.Errorf("sourced image %q and metadata %q, want %s and its JSON", image, metadata, final)
	}
	if m, _ := filepath.Glob(filepath.Join(ws, ".cache", "*target-api-*")); len(m) != 1 {
		t.Errorf("want the target entry in the plugin's cache dir, got %v\n%s", m, out)
	}

	// The next step, after a change, builds on top of the -tmp image from inside the
	// plugin's container too: no paths of the container's own reach the daemon.
	main := filepath.Join(ws, "repo", "crates", "api", "src", "main.rs")
	if err := os.WriteFile(main, []byte("fn main() {\n    println!(\"this is api, changed\");\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = dockerRun(t, step...)
	if !strings.Contains(out, "building on top of "+tmp) {
		t.Errorf("the second plugin run did not build on top of %s:\n%s", tmp, out)
	}
	if got := runImage(t, final); !strings.Contains(got, "this is api, changed") {
		t.Errorf("image printed %q after the change", got)
	}
}
