package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	ws := t.TempDir()
	src := filepath.Join(ws, "service")
	if err := os.Rename(copyTree(t, crate("hello")), src); err != nil {
		t.Fatal(err)
	}
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
	ws := t.TempDir()
	src := filepath.Join(ws, "svc")
	if err := os.Rename(copyTree(t, crate("hello")), src); err != nil {
		t.Fatal(err)
	}
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
