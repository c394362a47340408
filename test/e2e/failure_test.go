package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A build that fails in Actions still writes the outputs it has and a job summary
// that names the failed phase and its error: that is where a user looks first.
func TestFailedBuildReports(t *testing.T) {
	needDocker(t)
	t.Parallel()
	ws, src := inWorkspace(t, "hello", "service")
	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    let x: u32 = \"not a number\";\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	final, tmp := names(t)
	env, outputFile, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "none",
	})
	r := runCmd(t, env, "build")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r)
	}
	out, _ := os.ReadFile(outputFile)
	for _, want := range []string{"image<<", final, "tmp-image<<", tmp} {
		if !strings.Contains(string(out), want) {
			t.Errorf("$GITHUB_OUTPUT of the failed build lacks %q:\n%s", want, out)
		}
	}
	summary, _ := os.ReadFile(summaryFile)
	for _, want := range []string{"Failed in phase `s2i build`", "assemble failed", "| prepare images |"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("job summary of the failed build lacks %q:\n%s", want, summary)
		}
	}
}
