package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// State is what the build found out about its images: the prepare stage fills it
// in, the check adds the inputs' digest, and a restore the -tmp image it made.
type State struct {
	BuilderID string
	// BuilderDigest is the builder's repo digest, else its ID: what the
	// provenance names it by.
	BuilderDigest string
	// BuilderLayers is how many layers the builder has: a -tmp image grows above
	// them by the builds stacked on it (tmpimage.CanStack).
	BuilderLayers int
	Target        string // the triple to build for: with platforms, the first one's
	// Targets are every platform's target, Target first; nil for a
	// single-platform build.
	Targets   []string
	RuntimeID string // with platforms, the bases' digests (basesID)
	// Bases are each platform's runtime base, read from its registry; nil for a
	// single-platform build, whose base is in the daemon.
	Bases     []v1.Image
	Toolchain Toolchain
	Digest    string // of a local source's inputs; "" when unknown
	// CLibs are the C libraries the builder brings built for musl (its
	// io.rust-s2i.clibs label): what the binaries may link, and what the hint
	// after a failed -sys build script names.
	CLibs clibs.Set
	// fetches say how the builder and the runtime image(s) came to be there,
	// for the log and the job summary.
	fetches []fetch
	// The Docker Engine's stages' own, which the BuildKit stages leave zero (no
	// image outlives a build there): prev is the -tmp image to build on, zero
	// when none is usable; foreign the ID of another source's -tmp image under
	// this name.
	prev    client.ImageInspectResult
	foreign string
}

// prepareEngine is the part of the Docker client the prepare stage uses.
type prepareEngine interface {
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
	// ClientVersion is the Engine API version the client negotiated with the
	// daemon: whether it takes zstd layers (builderPullRef).
	ClientVersion() string
	// ImageTag names the default builder's zstd variant, once pulled, as the
	// default builder (pullAs).
	ImageTag(ctx context.Context, options client.ImageTagOptions) (client.ImageTagResult, error)
	registry.Puller
	builder.Engine
	builder.IdentifyEngine
	reapEngine
}

// prepareStage makes sure the builder and runtime images are there, and finds the
// previous -tmp image, used only when it belongs to this source.
type prepareStage struct {
	logs
	e     prepareEngine
	bases baseReader // nil is index.Bases
}

// Prepare implements Preparer.
func (s *prepareStage) Prepare(ctx context.Context, pl *plan.Plan) (st State, err error) {
	// After the phase has ended, as its parts must be; deferred first, run last.
	defer func() { reportFetches(s.Report, st.fetches) }()
	defer s.Report.Phase("prepare images")()
	// What dead builds left goes first thing, beside the image checks: a few list
	// calls, and nothing this build makes depends on them.
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		s.reap(ctx)
	}()
	defer func() { <-reaped }()
	b, f, err := s.ensureBuilder(ctx, pl)
	if err != nil {
		return st, err
	}
	st.fetches = append(st.fetches, f)
	if err := checkProtocol(pl, b); err != nil {
		return st, err
	}
	st.BuilderID, st.BuilderLayers = b.ID, len(b.RootFS.Layers)
	st.BuilderDigest = imageDigest(pl.Builder, b.RepoDigests, b.ID)
	st.CLibs = tmpimage.BuilderCLibs(b)
	if pl.MultiPlatform() {
		err = s.preparePlatforms(ctx, pl, b, &st)
	} else {
		err = s.prepareTarget(ctx, pl, b, &st)
	}
	if err != nil {
		return st, err
	}
	st.prev, _ = s.e.ImageInspect(ctx, pl.TmpImage)
	if owner, own := tmpimage.Owner(st.prev), tmpimage.OwnerName(pl.Source.Identity, pl.Ref.Own()); owner != "" && owner != own {
		fmt.Fprintf(s.Log, "%s was built from %s, not from %s: building without it, and replacing it\n", pl.TmpImage, owner, own)
		st.foreign, st.prev = st.prev.ID, client.ImageInspectResult{}
	}
	st.Toolchain = s.toolchain(ctx, pl.Builder, st.BuilderID, st.prev)
	return st, nil
}

// prepareTarget fills in st for a single-platform build: the target, and the
// runtime image, in the daemon.
func (s *prepareStage) prepareTarget(ctx context.Context, pl *plan.Plan, b client.ImageInspectResult, st *State) error {
	var err error
	if st.Target, err = s.target(ctx, pl, b); err != nil {
		return err
	}
	id, f, err := s.ensureRuntime(ctx, pl, st.Target)
	if err != nil {
		return err
	}
	st.RuntimeID, st.fetches = id, append(st.fetches, f)
	return nil
}

// reap removes the secrets volumes and build containers that builds killed before
// their cleanup left on the daemon (reapDeadBuilds). Failing to costs a warning.
func (s *prepareStage) reap(ctx context.Context) {
	n, err := reapDeadBuilds(ctx, s.e, time.Now())
	if n > 0 {
		fmt.Fprintf(s.Log, "removed %d secrets volume(s), with their build containers, that stopped builds left\n", n)
	}
	if err != nil && ctx.Err() == nil {
		s.Report.Warn("removing what stopped builds left: %v", err)
	}
}

// ensureBuilder makes sure the builder image is in the daemon. The default
// builder is pulled in zstd layers when the engine takes them (builderPullRef),
// and is built from the embedded s2i/ files when it cannot be pulled.
//
// Whichever variant was pulled, the daemon has it under pl.Builder's name, and
// that name is the one the rest of the build sees (the -tmp image's builder, the
// provenance, the log and the hints): the variant is how the layers travel, not
// another builder, and its name would change from one engine to the next.
func (s *prepareStage) ensureBuilder(ctx context.Context, pl *plan.Plan) (client.ImageInspectResult, fetch, error) {
	start := time.Now()
	from := builderPullRef(pl.Builder, pl.BuildBuilder, s.e.ClientVersion())
	in, f, err := s.ensureImage(ctx, pl, pl.Builder, from, "builder image")
	if err == nil || !pl.BuildBuilder {
		return in, f, err
	}
	s.Report.Warn("%v; building it from the embedded s2i/ files", err)
	o := builder.Options{Tag: pl.Builder, Target: pl.Target}
	if o.Target == "" {
		o.Target = builder.DefaultTarget(s.daemonArch(ctx))
	}
	if err := builder.Build(ctx, s.e, o, s.Log); err != nil {
		return in, f, err
	}
	if in, err = s.e.ImageInspect(ctx, pl.Builder); err != nil {
		return in, f, fmt.Errorf("inspecting builder image %s: %w", pl.Builder, err)
	}
	return in, fetch{what: "builder image", ref: pl.Builder, how: gotBuilt, took: time.Since(start)}, nil
}

// target is the triple to build for: the setting, else the builder's label, else
// the default for the daemon's architecture.
func (s *prepareStage) target(ctx context.Context, pl *plan.Plan, b client.ImageInspectResult) (string, error) {
	if pl.Target != "" {
		return pl.Target, nil
	}
	if t := tmpimage.Label(b, tmpimage.LabelTarget); t != "" {
		return t, nil
	}
	if t := builder.DefaultTarget(s.daemonArch(ctx)); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("builder image %s has no %s label: pass --target", pl.Builder, tmpimage.LabelTarget)
}

// daemonArch is the daemon's architecture (x86_64, aarch64), or "" when it does
// not say.
func (s *prepareStage) daemonArch(ctx context.Context) string {
	info, err := s.e.Info(ctx, client.InfoOptions{})
	if err != nil {
		return ""
	}
	return info.Info.Architecture
}

// ensureRuntime makes sure the runtime image is in the daemon and can run the
// target's binaries: a base of another architecture is bad input, refused before
// anything is built, rather than an image that fails with "exec format error".
func (s *prepareStage) ensureRuntime(ctx context.Context, pl *plan.Plan, target string) (string, fetch, error) {
	in, f, err := s.ensureImage(ctx, pl, pl.RuntimeImage, pl.RuntimeImage, "runtime image")
	if err != nil {
		return "", f, err
	}
	want := image.TargetArch(target)
	if want != "" && in.Architecture != "" && in.Architecture != want {
		return "", f, &config.InputError{Name: pl.Naming("runtime-image"), Problem: fmt.Sprintf(
			"%s is %s/%s but the target %s builds %s binaries: pick a runtime image for %s (or another target)",
			pl.RuntimeImage, in.Os, in.Architecture, target, want, want)}
	}
	return in.ID, f, nil
}

// ensureImage pulls ref when the daemon does not have it (or always, with pull
// always), from the reference from (see pullAs), with the login for its
// registry, and returns what the daemon then has and how it got it. With pull
// always, a pull that fails costs a warning when the daemon has the image, which
// is then used.
func (s *prepareStage) ensureImage(ctx context.Context, pl *plan.Plan, ref, from, what string) (client.ImageInspectResult, fetch, error) {
	start := time.Now()
	f := fetch{what: what, ref: ref, how: gotHad}
	in, err := s.e.ImageInspect(ctx, ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return in, f, fmt.Errorf("inspecting %s %s: %w", what, ref, err)
	}
	have := err == nil
	if !needsPull(have, pl.PullAlways) {
		f.took = time.Since(start)
		return in, f, nil
	}
	if from == ref {
		fmt.Fprintf(s.Log, "pulling %s %s\n", what, ref)
	} else {
		fmt.Fprintf(s.Log, "pulling %s %s as %s, its zstd layers, which this engine takes\n", what, ref, from)
	}
	f.download, err = s.pullAs(ctx, pl, ref, from)
	if err != nil {
		if !have {
			return in, f, registry.PullError(ref, what, err)
		}
		s.Report.Warn("%s", pullFailedWarning(ref, what, err))
	}
	f.how = pulled(have, err)
	if in, err = s.e.ImageInspect(ctx, ref); err != nil {
		return in, f, fmt.Errorf("inspecting %s %s: %w", what, ref, err)
	}
	f.took = time.Since(start)
	return in, f, nil
}

// pullFailedWarning says that a pull failed and the image the daemon has is used,
// and how to give credentials when the registry refused them.
func pullFailedWarning(ref, what string, err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	w := fmt.Sprintf("pulling %s %s failed, so the image the daemon has is used: %s", what, ref, msg)
	if errors.Is(err, registry.ErrUnauthorized) {
		w += " (" + registry.Hint + ")"
	}
	return w
}

// pullAs pulls from, another tag of the image ref (the default builder's zstd
// variant), and names what it pulled ref. A registry may lack the variant (one
// that serves builders published before it, a mirror): then ref itself is pulled.
func (s *prepareStage) pullAs(ctx context.Context, pl *plan.Plan, ref, from string) (registry.Download, error) {
	if from == ref {
		return s.pull(ctx, pl, ref)
	}
	d, err := s.pull(ctx, pl, from)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		fmt.Fprintf(s.Log, "pulling %s failed (%s): pulling %s\n", from, msg, ref)
		return s.pull(ctx, pl, ref)
	}
	if _, err := s.e.ImageTag(ctx, client.ImageTagOptions{Source: from, Target: ref}); err != nil {
		return d, fmt.Errorf("tagging %s as %s: %w", from, ref, err)
	}
	return d, nil
}

// pull pulls ref with the login for its registry, and returns what it downloaded.
func (s *prepareStage) pull(ctx context.Context, pl *plan.Plan, ref string) (registry.Download, error) {
	auth, err := pl.Logins.For(ref)
	if err != nil {
		return registry.Download{}, err
	}
	return registry.Pull(ctx, s.e, ref, auth)
}

// Toolchain names the builder by what it is (builder.Identity), for cache keys
// and the final image's inputs label, which must not change from one runner to the
// next as the builder's image ID does.
type Toolchain struct {
	Release string // the compiler's version, such as 1.85.0
	Key     string // builder.Identity.Key
}

// toolchain identifies the builder. The previous -tmp image remembers the answer
// for the builder it was made with, so the common case reads two labels; otherwise
// the builder is read once (a container that never starts). A builder that cannot
// be identified is named by its image ID: its state is then kept per runner only.
func (s *prepareStage) toolchain(ctx context.Context, ref, builderID string, prev client.ImageInspectResult) Toolchain {
	if release, key := tmpimage.Toolchain(prev, builderID); key != "" {
		return Toolchain{Release: release, Key: key}
	}
	id, err := builder.Identify(ctx, s.e, ref)
	if err != nil {
		s.Report.Warn("naming the builder by its image ID, which a rebuilt builder changes: %v", err)
		short := strings.TrimPrefix(builderID, "sha256:")
		return Toolchain{Release: "rustc", Key: short[:min(12, len(short))]}
	}
	return Toolchain{Release: id.Release(), Key: id.Key()}
}
