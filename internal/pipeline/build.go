package pipeline

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// buildEngine is the part of the Docker client the build stage uses.
type buildEngine interface {
	engine.Containers
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageRemove(ctx context.Context, image string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
	CopyToContainer(ctx context.Context, containerID string, options client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	CopyFromContainer(ctx context.Context, containerID string, options client.CopyFromContainerOptions) (client.CopyFromContainerResult, error)
	ContainerCommit(ctx context.Context, containerID string, options client.ContainerCommitOptions) (client.ContainerCommitResult, error)
	VolumeRemove(ctx context.Context, volumeID string, options client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
	ContainerAttach(ctx context.Context, containerID string, options client.ContainerAttachOptions) (client.ContainerAttachResult, error)
	ContainerStart(ctx context.Context, containerID string, options client.ContainerStartOptions) (client.ContainerStartResult, error)
}

// buildStage runs the S2I build of the -tmp image.
type buildStage struct {
	logs
	e    buildEngine
	host string // the daemon's address, for S2I
	s2i  S2I
}

// Built is what the build stage made.
type Built struct {
	s2i.Result
	Incremental bool // built with the previous -tmp image's state
}

// carriedStage is the Stages name of the time spent carrying the previous -tmp
// image's state over to a new builder (the name S2I's save-artifacts step had).
const carriedStage = "artifacts out"

// Build implements Builder.
func (s *buildStage) Build(ctx context.Context, pl *plan.Plan, st State, collected func(map[string][]byte)) (Built, error) {
	b := Built{Incremental: st.prev.ID != "" && !pl.Clean}
	end := s.Report.Phase("s2i build")
	defer end()
	// onPrev: the build runs on top of the previous -tmp image itself, which is
	// then the new one's parent and stays; any other previous image is replaced.
	onPrev := b.Incremental && tmpimage.CanStack(st.prev, st.BuilderID, st.BuilderLayers)
	var carried time.Duration
	if b.Incremental && !onPrev {
		var err error
		if carried, err = s.carryState(ctx, pl, st); err != nil {
			if ctx.Err() != nil {
				return b, err
			}
			s.Report.Warn("the state of %s was not carried over, building without it: %v", pl.TmpImage, err)
			b.Incremental = false
		}
	}
	req := s.request(pl, st, b.Incremental)
	req.OnCollected = collected
	if len(pl.SecretEnv) > 0 {
		bind, remove, err := s.secretsVolume(ctx, pl.Builder, pl.SecretEnv)
		if err != nil {
			return b, err
		}
		defer remove()
		req.Volumes = append(req.Volumes, bind)
	}
	var err error
	b.Result, err = s.runS2I(ctx, req)
	if err != nil {
		return b, withCLibsHint(err, pl.Builder, st.CLibs)
	}
	if carried > 0 {
		if b.Stages == nil {
			b.Stages = map[string]time.Duration{}
		}
		b.Stages[carriedStage] = carried
	}
	for _, old := range []string{st.prev.ID, st.foreign} {
		if old != "" && old != b.ImageID && !(onPrev && old == st.prev.ID) {
			// Replaced by this build; best effort, since a container may still use it.
			_, _ = s.e.ImageRemove(ctx, old, client.ImageRemoveOptions{})
		}
	}
	return b, nil
}

// carryState starts over from the builder with the state of the previous -tmp
// image: when the builder changed, or the -tmp image has stacked too many layers.
// The state goes from a container of the previous image into one of the builder,
// committed as the -tmp image (tmpimage.FromImage, under internal/archive's
// rules), and the build then runs on top of it. This replaces S2I's incremental
// path, whose save-artifacts output S2I untars on the host with lexical checks
// only. The image carries the builder's labels but not the inputs' digest: it is
// no build's result, only its state.
func (s *buildStage) carryState(ctx context.Context, pl *plan.Plan, st State) (time.Duration, error) {
	fmt.Fprintf(s.Log, "building from %s with the state of %s\n", pl.Builder, pl.TmpImage)
	start := time.Now()
	labels := tmpimage.BuildLabels(st.BuilderID, st.Toolchain.Release, st.Toolchain.Key, pl.Source.Identity, pl.Ref.Own())
	if _, err := tmpimage.FromImage(ctx, s.e, st.prev.ID, pl.Builder, pl.TmpImage, labels); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// request is the S2I build of the -tmp image. With state (incremental), the
// build runs in a container of the -tmp image, whose state is already in place:
// the previous one when it can stack on it, else the one carryState just made.
func (s *buildStage) request(pl *plan.Plan, st State, incremental bool) s2i.Request {
	env := buildEnv(pl, st)
	req := s2i.Request{
		Source:   pl.Source.Location,
		Copy:     !pl.Source.Git, // a local checkout's uncommitted files count
		Builder:  pl.Builder,
		Tag:      pl.TmpImage,
		Env:      env,
		Network:  pl.Network,
		Endpoint: s.host,
		Labels:   tmpimage.BuildLabels(st.BuilderID, st.Toolchain.Release, st.Toolchain.Key, pl.Source.Identity, pl.Ref.Own()),
	}
	maps.Copy(req.Labels, digestLabel(st.Digest))
	// The binary and the timings (and with platforms each target's binary), read from the build container while S2I commits it.
	req.CollectDir, req.Collect = tmpimage.BinDir, tmpimage.CollectedFiles(pl.Binary, st.Targets...)
	if incremental {
		req.Builder = pl.TmpImage
		fmt.Fprintf(s.Log, "building on top of %s\n", pl.TmpImage)
	}
	return req
}

// buildEnv is the environment the builder's assemble runs with, on either engine.
func buildEnv(pl *plan.Plan, st State) []string {
	env := append([]string{"BINARY=" + pl.Binary, "RUST_TARGET=" + st.Target}, pl.Env...)
	env = append(env, pl.CargoEnv...) // after env: the settings win over a stray RUST_S2I_PROFILE
	// One cargo run for every platform's target; RUST_TARGET, the first, stays the
	// primary one for the scripts' other uses. Set on every build, empty ones too:
	// S2I commits a build's environment into the -tmp image, and a build on top of it
	// would otherwise inherit the last one's targets and annotation settings.
	annotate, prefix := "", ""
	if pl.Annotate {
		annotate, prefix = "github", pl.SourcePrefix
	}
	return append(env, "RUST_S2I_TARGETS="+strings.Join(st.Targets, " "),
		"RUST_S2I_ANNOTATE="+annotate, "RUST_S2I_SOURCE_PREFIX="+prefix)
}
