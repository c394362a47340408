package pipeline

import (
	"context"
	"strings"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/crate"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// toolchain names the builder by what it is (builder.Identity), for cache keys
// and the final image's inputs label, which must not change from one runner to the
// next as the builder's image ID does.
type toolchain struct {
	release string // the compiler's version, such as 1.85.0
	key     string // builder.Identity.Key
}

// toolchain identifies the builder. The previous -tmp image remembers the answer
// for the builder it was made with, so the common case reads two labels; otherwise
// the builder is read once (a container that never starts). A builder that cannot
// be identified is named by its image ID: its state is then kept per runner only.
func (p *Pipeline) toolchain(ctx context.Context, ref, builderID string, prev client.ImageInspectResult) toolchain {
	if prev.Config != nil && prev.Config.Labels[tmpimage.LabelBuilder] == builderID {
		l := prev.Config.Labels
		if l[tmpimage.LabelRustc] != "" && l[tmpimage.LabelToolchain] != "" {
			return toolchain{release: l[tmpimage.LabelRustc], key: l[tmpimage.LabelToolchain]}
		}
	}
	id, err := builder.Identify(ctx, p.Engine, ref)
	if err != nil {
		p.Report.Warn("naming the builder by its image ID, which a rebuilt builder changes: %v", err)
		short := strings.TrimPrefix(builderID, "sha256:")
		return toolchain{release: "rustc", key: short[:min(12, len(short))]}
	}
	return toolchain{release: id.Release(), key: id.Key()}
}

// keyParts names the cache entries of this build. The settings hash reads the
// source's manifests, so it is only computed when a cache is in use.
func (p *Pipeline) keyParts(cfg config.Config, target string, tc toolchain) cache.KeyParts {
	remote := config.IsGitURL(cfg.Source)
	parts := cache.KeyParts{
		Prefix: cfg.Cache.KeyPrefix, Binary: cfg.Binary, Target: target,
		Rustc: tc.release, Toolchain: tc.key, Lock: cache.LockHash(cfg.Source, remote),
	}
	if p.Cache == nil {
		return parts
	}
	var settings []string
	for _, e := range cfg.Env {
		settings = append(settings, "env "+e)
	}
	for _, e := range cfg.CargoEnv() { // features and profile decide what target/ holds
		settings = append(settings, "cargo "+e)
	}
	var manifests []string
	if !remote {
		var err error
		if manifests, err = crate.Manifests(cfg.Source); err != nil {
			p.Report.Warn("keying target/ by the root Cargo.toml only: %v", err)
			manifests = []string{"Cargo.toml"}
		}
	}
	parts.Settings = cache.SettingsHash(cfg.Source, remote, manifests, settings)
	return parts
}
