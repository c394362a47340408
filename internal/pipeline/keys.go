package pipeline

import (
	"slices"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
)

// cacheTarget is what the target/ entry's key names as its target: the target of
// a single-platform build, and the set of targets of a multi-platform one, sorted
// and joined with "+" (aarch64-unknown-linux-musl+x86_64-unknown-linux-musl), since
// its target/ holds the state of each. One platform is keyed as its target alone:
// the same state as a single-platform build of that target, which finds it.
func cacheTarget(st State) string {
	if len(st.Targets) < 2 {
		return st.Target
	}
	return strings.Join(slices.Sorted(slices.Values(st.Targets)), "+")
}

// keyParts names the cache entries of this build and whose they are. The settings
// hash reads the source's manifests: the workspace's own, as the plan read them.
func (s *cacheStage) keyParts(pl *plan.Plan, target string, tc Toolchain) cache.KeyParts {
	src := pl.Source
	parts := cache.KeyParts{
		Prefix: pl.CacheKeyPrefix, Binary: pl.Binary, Target: target,
		Rustc: tc.Release, Toolchain: tc.Key, Lock: cache.LockHash(src.Location, src.Git),
	}
	// A local directory or a bucket may serve many repositories and refs: each
	// build reads and writes only its own source's entries, and of those only the
	// ones its ref may see (plan.Ref.Scopes).
	if !pl.CacheSelfScoped {
		for _, ref := range pl.Ref.Scopes() {
			parts.Scopes = append(parts.Scopes, cache.Scope(pl.Source.Identity, ref))
		}
	}
	var settings []string
	for _, e := range pl.Env {
		settings = append(settings, "env "+e)
	}
	for _, e := range pl.CargoEnv { // features and profile decide what target/ holds
		settings = append(settings, "cargo "+e)
	}
	var manifests []string
	if !src.Git {
		err := src.WorkspaceErr
		if err == nil {
			manifests, err = src.Workspace.Manifests()
		}
		if err != nil {
			s.Report.Warn("keying target/ by the root Cargo.toml only: %v", err)
			manifests = []string{"Cargo.toml"}
		}
	}
	parts.Settings = cache.SettingsHash(src.Location, src.Git, manifests, settings)
	return parts
}
