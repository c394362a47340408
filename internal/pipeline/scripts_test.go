package pipeline

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// userScriptEnv are the variables the scripts read that a user may set with env,
// and that nothing else sets: each has a default in the scripts.
var userScriptEnv = []string{"RUST_S2I_LINKER"}

// Every variable the S2I scripts read is set: by the builder's Dockerfile (ENV), by
// the build's request (an annotated build's, which sets the most), or by the
// script itself; or it is one a user may set (userScriptEnv).
func TestScriptVariablesAreSet(t *testing.T) {
	t.Parallel()
	dockerfile, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	inEnv := false
	name := regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=`)
	for _, line := range strings.Split(string(dockerfile), "\n") {
		trimmed := strings.TrimSpace(line)
		if inEnv = inEnv || strings.HasPrefix(trimmed, "ENV "); inEnv {
			for _, m := range name.FindAllStringSubmatch(strings.TrimPrefix(trimmed, "ENV "), -1) {
				set[m[1]] = true
			}
			inEnv = strings.HasSuffix(trimmed, `\`)
		}
	}
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
	pl := testPlan(t, cfg)
	pl.Annotate = true
	for _, kv := range (&buildStage{}).request(pl, State{Target: "x86_64-unknown-linux-musl"}, false).Env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}

	use := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	assign := regexp.MustCompile(`(?:^|[\s;{(])([A-Za-z_][A-Za-z0-9_]*)=|read -r ([A-Za-z_][A-Za-z0-9_]*)|for ([A-Za-z_][A-Za-z0-9_]*) in`)
	scripts, err := fs.ReadDir(builderimage.Files, "bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		raw, err := fs.ReadFile(builderimage.Files, "bin/"+s.Name())
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				code = append(code, line)
			}
		}
		own := map[string]bool{}
		for _, m := range assign.FindAllStringSubmatch(strings.Join(code, "\n"), -1) {
			own[m[1]+m[2]+m[3]] = true
		}
		for _, m := range use.FindAllStringSubmatch(strings.Join(code, "\n"), -1) {
			v := m[1]
			if !set[v] && !own[v] && !slices.Contains(userScriptEnv, v) {
				t.Errorf("s2i/bin/%s reads $%s, which neither s2i/Dockerfile, the build's request nor the script sets", s.Name(), v)
			}
		}
	}
}
