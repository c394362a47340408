package pipeline

import (
	"slices"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"

	"path/filepath"
)

// A single-platform build on top of a multi-platform -tmp image must not inherit
// its targets: S2I commits each build's environment into the image, so every
// request names the scripts' per-build variables, empty ones included.
func TestRequestSetsPerBuildVariables(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
	pl := testPlan(t, cfg)
	env := (&buildStage{}).request(pl, State{Target: "x86_64-unknown-linux-musl"}, false).Env
	for _, want := range []string{"RUST_S2I_TARGETS=", "RUST_S2I_ANNOTATE=", "RUST_S2I_SOURCE_PREFIX="} {
		if !slices.Contains(env, want) {
			t.Errorf("a single-platform request's env lacks %q: %q", want, env)
		}
	}
}
