package pipeline

import (
	"context"
	"fmt"
	"maps"

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

// Build implements Builder.
func (s *buildStage) Build(ctx context.Context, pl *plan.Plan, st State, collected func(map[string][]byte)) (Built, error) {
	b := Built{Incremental: st.Prev.ID != "" && !pl.Clean}
	req := s.request(pl, st, b.Incremental)
	req.OnCollected = collected
	end := s.Report.Phase("s2i build")
	if len(pl.SecretEnv) > 0 {
		bind, remove, err := s.secretsVolume(ctx, pl.Builder, pl.SecretEnv)
		if err != nil {
			end()
			return b, err
		}
		defer remove()
		req.Volumes = append(req.Volumes, bind)
	}
	var err error
	b.Result, err = s.runS2I(ctx, req)
	end()
	if err != nil {
		return b, err
	}
	for _, old := range []string{st.Prev.ID, st.Foreign} {
		if old != "" && old != b.ImageID && !(b.Incremental && old == st.Prev.ID) {
			// A clean build replaced the tag; S2I only removes the old image itself
			// when it built incrementally from it.
			_, _ = s.e.ImageRemove(ctx, old, client.ImageRemoveOptions{})
		}
	}
	return b, nil
}

// request is the S2I build of the -tmp image. Stacked, the build runs in a
// container of the previous -tmp image, whose state is already in place: no tar
// round trip of target/. S2I's incremental path (save-artifacts) is kept to start
// over from the builder, which also squashes the layers that stacking adds.
func (s *buildStage) request(pl *plan.Plan, st State, incremental bool) s2i.Request {
	env := append([]string{"BINARY=" + pl.Binary, "RUST_TARGET=" + st.Target}, pl.Env...)
	env = append(env, pl.CargoEnv...) // after env: the settings win over a stray RUST_S2I_PROFILE
	if pl.Annotate {
		env = append(env, "RUST_S2I_ANNOTATE=github", "RUST_S2I_SOURCE_PREFIX="+pl.SourcePrefix)
	}
	req := s2i.Request{
		Source:   pl.Source.Location,
		Copy:     !pl.Source.Git, // a local checkout's uncommitted files count
		Builder:  pl.Builder,
		Tag:      pl.TmpImage,
		Env:      env,
		Network:  pl.Network,
		Endpoint: s.host,
		Labels:   tmpimage.BuildLabels(st.BuilderID, st.Toolchain.Release, st.Toolchain.Key, pl.Source.Identity),
	}
	maps.Copy(req.Labels, digestLabel(st.Digest))
	// The binary and the timings, read from the build container while S2I commits it.
	req.CollectDir, req.Collect = tmpimage.BinDir, tmpimage.CollectedFiles(pl.Binary)
	switch {
	case !incremental:
	case tmpimage.CanStack(st.Prev, st.BuilderID, st.BuilderLayers):
		req.Builder = pl.TmpImage
		fmt.Fprintf(s.Log, "building on top of %s\n", pl.TmpImage)
	default:
		req.Incremental = true
		fmt.Fprintf(s.Log, "building from %s with the state of %s\n", pl.Builder, pl.TmpImage)
	}
	return req
}
