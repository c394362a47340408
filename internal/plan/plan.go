// Package plan is one build worked out once, before anything runs: the names of
// its images, the logins for its registries, the cargo environment, what the CI's
// environment says about the commit, and the source, local or git, with its
// workspace read. The composition root makes the Plan from a validated
// config.Config and the process environment; the pipeline's stages read the Plan
// and never the environment, and nothing is worked out twice.
package plan

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/crate"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// Plan is a build, resolved.
type Plan struct {
	Binary   string
	Image    string   // the final image's first name
	Tags     []string // every name of the final image, Image first
	TmpImage string   // the -tmp image, which carries the build state

	Builder string
	// BuildBuilder: the builder is the published default, which is built from the
	// embedded s2i/ files when it can be neither found nor pulled.
	BuildBuilder bool
	RuntimeImage string
	Target       string // "" is the builder's own
	PullAlways   bool   // pull the builder and runtime images even when the daemon has them
	Logins       registry.Logins

	// Platforms are the platforms of a multi-platform build, in the order asked
	// for: each is cross-compiled for its own target in one cargo run, and the
	// final image is one image index (internal/index). Empty is the
	// single-platform build of Target, as before platforms existed.
	Platforms []platform.Platform
	// OCIOutput is a directory to write the final image to as an OCI image
	// layout, besides the daemon and the registry; "" writes none.
	OCIOutput string

	Env       []string // the user's KEY=VALUE, for the build
	CargoEnv  []string // the cargo options as assemble reads them (config.Config.CargoEnv)
	SecretEnv []string // NAME=VALUE, resolved
	Network   string
	Labels    []string // the user's KEY=VALUE labels of the final image, as given
	Clean     bool
	Push      bool

	CacheKeyPrefix string
	CacheSave      bool // false restores only
	// CacheSelfScoped: the cache service keeps each repository's entries, and each
	// branch's, apart itself (the Actions cache), so keys need not name the source
	// and the ref; a local directory or a bucket may be shared by many.
	CacheSelfScoped bool

	// Ref is the git ref the CI builds, which scopes the -tmp image and the cache.
	Ref Ref

	// Annotate turns compile errors into GitHub annotations, naming files with
	// SourcePrefix, the source directory relative to the workspace.
	Annotate     bool
	SourcePrefix string

	Source Source
	// Created is the images' time when SOURCE_DATE_EPOCH sets it; zero otherwise.
	Created time.Time

	// Naming names settings in errors as the front end does.
	Naming config.Naming

	// Supply chain (docs/supply-chain.md): embed the crate list in the binary,
	// write and attach the SBOM, attach the provenance.
	Auditable, SBOM, Provenance bool
	// SBOMDir is where the SBOM files go: RUNNER_TEMP, else the system's
	// temporary directory. Nothing written into them depends on it.
	SBOMDir string
	// ToolVersion is this program's version, a creator of the SBOM and part of
	// the provenance's builder id.
	ToolVersion string
	// Cargo are the cargo options as given, for the crate list (the features the
	// resolve must have) and the provenance (the settings the build used).
	Cargo Cargo
}

// Cargo are the build's cargo options (config.Config's).
type Cargo struct {
	Features          []string // split, as cargo reads --features
	AllFeatures       bool
	NoDefaultFeatures bool
	Profile           string
	Locked            bool
}

// Source is where the build's source comes from, and what is known of it before
// the build.
type Source struct {
	Location string // the directory or git URL, as given
	Git      bool   // a git URL, cloned by S2I; else a local directory, copied
	// Workspace is the local source's crate or workspace, read once; nil for a git
	// URL, or with WorkspaceErr when it cannot be read.
	Workspace    *crate.Workspace
	WorkspaceErr error
	// Identity names the source for tmpimage.LabelSource: the CI's repository or
	// the git URL, else a local directory's origin remote, else its absolute path.
	Identity string
	// URL is where the source lives, for the OCI source label: the CI's repository
	// URL, else the git URL; "" when neither is known.
	URL string
	// Commit is the local directory's HEAD, else the CI's commit. A git URL's own
	// commit is known only once S2I has cloned it (see ImageLabels).
	Commit source.Commit
}

// Options are what the plan takes from the front end rather than the settings.
type Options struct {
	Getenv   func(string) string // the process environment, read here and nowhere below
	Annotate bool                // the front end is GitHub Actions
	Naming   config.Naming       // nil: flags
	// Version is this program's version, for the SBOM and the provenance.
	Version string
}

// New resolves the build of cfg, which must be valid. It reads the CI's variables
// through o.Getenv and, for a local source, the directory's git HEAD and remote and
// its Cargo.toml files.
func New(ctx context.Context, cfg config.Config, o Options) (*Plan, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	p := &Plan{
		Binary: cfg.Binary, Image: cfg.FinalImage(), Tags: cfg.Names(), TmpImage: cfg.IncrementalImage(),
		Builder: cfg.Builder, BuildBuilder: cfg.Builder == config.DefaultBuilder,
		RuntimeImage: cfg.RuntimeImage, Target: cfg.Target, PullAlways: cfg.Pull == "always",
		Platforms: slices.Clone(cfg.Platforms), OCIOutput: cfg.OCIOutput,
		Logins: registry.Logins{
			PerRegistry: cfg.Registry.Auth,
			Default:     registry.Auth{Username: cfg.Registry.Username, Password: string(cfg.Registry.Password)},
			PushNames:   cfg.Names(), // username/password serve these registries only
			ConfigDir:   engine.ConfigDir(getenv),
		},
		Env: cfg.Env, CargoEnv: cfg.CargoEnv(), SecretEnv: cfg.SecretEnv, Network: cfg.Network,
		Labels: cfg.Labels, Clean: cfg.Clean, Push: cfg.Push,
		CacheKeyPrefix: cfg.Cache.KeyPrefix, CacheSave: cfg.Cache.Save,
		Annotate: o.Annotate, Naming: o.Naming,
		Auditable: cfg.Auditable, SBOM: cfg.SBOM, Provenance: cfg.Provenance,
		SBOMDir: cmp.Or(getenv("RUNNER_TEMP"), os.TempDir()), ToolVersion: o.Version,
		Cargo: Cargo{
			Features: cfg.FeatureList(), AllFeatures: cfg.AllFeatures, NoDefaultFeatures: cfg.NoDefaultFeatures,
			Profile: cmp.Or(cfg.Profile, config.DefaultProfile), Locked: cfg.Locked,
		},
	}
	if p.Naming == nil {
		p.Naming = config.FlagNaming
	}
	var err error
	if p.Created, err = sourceDateEpoch(getenv("SOURCE_DATE_EPOCH")); err != nil {
		return nil, err
	}
	p.Source = newSource(ctx, cfg.Source, getenv)
	p.Ref = ciRef(getenv)
	p.TmpImage = tmpName(p.TmpImage, cfg.TmpImage != "", p.Ref)
	p.CacheSelfScoped = cfg.Cache.Backend == config.CacheGHA
	if p.Annotate {
		p.SourcePrefix = sourcePrefix(p.Source, getenv("GITHUB_WORKSPACE"))
	}
	return p, nil
}

// MultiPlatform reports whether the build makes an image index: platforms were
// given, even just one. A single-platform build (none given) makes one image in
// the daemon, as it always has.
func (p *Plan) MultiPlatform() bool { return len(p.Platforms) > 0 }

// Targets are the Rust targets of the Platforms, in their order: the first is the
// primary one, which the scripts' RUST_TARGET names. nil for a single-platform
// build, whose target the prepare stage finds (the setting, else the builder's).
func (p *Plan) Targets() []string {
	var targets []string
	for _, pf := range p.Platforms {
		targets = append(targets, pf.Target)
	}
	return targets
}

// newSource finds out what is known of the source at location before the build.
func newSource(ctx context.Context, location string, getenv func(string) string) Source {
	s := Source{Location: location, Git: config.IsGitURL(location), URL: ciRepoURL(getenv)}
	if s.Git {
		if s.URL == "" {
			s.URL = source.Redact(location)
		}
		s.Identity, s.Commit = s.URL, ciCommit(getenv)
		return s
	}
	s.Workspace, s.WorkspaceErr = crate.Open(location)
	if s.Commit = source.LocalCommit(ctx, location); s.Commit.Revision == "" {
		s.Commit = ciCommit(getenv)
	}
	s.Identity = s.URL
	if s.Identity == "" {
		s.Identity = source.Remote(ctx, location)
	}
	if s.Identity == "" {
		s.Identity = location
		if abs, err := filepath.Abs(location); err == nil {
			s.Identity = abs
		}
	}
	return s
}

// ciRepoURL is the CI's repository URL, or "".
func ciRepoURL(getenv func(string) string) string {
	if srv, repo := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"); srv != "" && repo != "" {
		return srv + "/" + repo
	}
	for _, k := range []string{"CI_REPO_URL", "DRONE_REPO_LINK"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// ciCommit is the commit the CI says it builds, with no time.
func ciCommit(getenv func(string) string) source.Commit {
	for _, k := range []string{"GITHUB_SHA", "CI_COMMIT_SHA", "DRONE_COMMIT_SHA"} {
		if v := getenv(k); v != "" {
			return source.Commit{Revision: v}
		}
	}
	return source.Commit{}
}

// sourceDateEpoch parses SOURCE_DATE_EPOCH; "" gives the zero time.
func sourceDateEpoch(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// sourcePrefix is a local source's directory relative to the workspace ws, with a
// trailing slash, which GitHub annotations name files by (cargo names them relative
// to the crate); "" outside the workspace.
func sourcePrefix(s Source, ws string) string {
	if ws == "" || s.Git {
		return ""
	}
	abs, err := filepath.Abs(s.Location)
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel) + "/"
}

// Labels S2I puts on the -tmp image of a cloned git URL, read by ImageLabels.
const (
	labelCommitID   = "io.openshift.s2i.build.commit.id"
	labelCommitDate = "io.openshift.s2i.build.commit.date"
	gitDateLayout   = "Mon Jan 2 15:04:05 2006 -0700"
)

// ImageLabels are the final image's source labels and its time. s2iLabels are the
// -tmp image's labels, which hold the commit of a cloned git URL (nil for a local
// source). The time is SOURCE_DATE_EPOCH, else the commit's, else the Unix epoch,
// so that the same source always gives the same image.
func (p *Plan) ImageLabels(s2iLabels map[string]string) (map[string]string, time.Time) {
	c := p.Source.Commit
	if rev := s2iLabels[labelCommitID]; p.Source.Git && rev != "" {
		c = source.Commit{Revision: rev}
		if t, err := time.Parse(gitDateLayout, s2iLabels[labelCommitDate]); err == nil {
			c.Time = t.UTC()
		}
	}
	labels := map[string]string{}
	if c.Revision != "" {
		labels[image.LabelRevision] = c.Revision
	}
	if p.Source.URL != "" {
		labels[image.LabelSource] = p.Source.URL
	}
	switch {
	case !p.Created.IsZero():
		return labels, p.Created
	case !c.Time.IsZero():
		return labels, c.Time
	}
	return labels, time.Unix(0, 0).UTC()
}

// UserLabels are the Labels as a map: the final image carries them over its own.
func (p *Plan) UserLabels() map[string]string {
	labels := map[string]string{}
	for _, kv := range p.Labels {
		k, v, _ := strings.Cut(kv, "=")
		labels[strings.TrimSpace(k)] = v
	}
	return labels
}
