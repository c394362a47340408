package pipeline

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// The cargo options decide what target/ holds and what the image is made of: each
// one changes the cache key's settings hash and the unchanged-input digest, and the
// same options give the same key and digest.
func TestCargoOptionsInKeyAndDigest(t *testing.T) {
	t.Parallel()
	store, err := local.New(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := &cacheStage{logs: logs{Report: &memReport{}}, store: store}
	base := config.Defaults()
	base.Binary, base.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
	key := func(c config.Config) string {
		return s.keyParts(testPlan(t, c), "x86_64-unknown-linux-musl", Toolchain{}).Settings
	}
	digest := func(c config.Config) string {
		d, err := inputsDigest(testPlan(t, c), "x86_64-unknown-linux-musl", "tc", "runtime", time.Unix(0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	k0, d0 := key(base), digest(base)
	if key(base) != k0 || digest(base) != d0 {
		t.Fatal("the same settings give another key or digest")
	}
	for name, change := range map[string]func(*config.Config){
		"features":            func(c *config.Config) { c.Features = []string{"loud"} },
		"all-features":        func(c *config.Config) { c.AllFeatures = true },
		"no-default-features": func(c *config.Config) { c.NoDefaultFeatures = true },
		"profile":             func(c *config.Config) { c.Profile = "small" },
		"locked":              func(c *config.Config) { c.Locked = false },
	} {
		c := base
		change(&c)
		if key(c) == k0 {
			t.Errorf("%s leaves the cache key's settings hash as it was", name)
		}
		if digest(c) == d0 {
			t.Errorf("%s leaves the unchanged-input digest as it was", name)
		}
	}
}

// testPlan is the plan of c in an empty environment.
func testPlan(t *testing.T, c config.Config) *plan.Plan {
	t.Helper()
	pl, err := plan.New(t.Context(), c, plan.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return pl
}
