package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// carryEngine is an in-memory daemon for the build stage's carrying of state: the
// previous image has no state directories, commits fail with commitErr, and
// removed images are listed. Any other method panics (the nil buildEngine).
type carryEngine struct {
	buildEngine
	commitErr error
	removed   []string
}

func (e *carryEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if ref == "builder:2" {
		return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: "sha256:b2"}}, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound
}

func (e *carryEngine) ContainerCreate(_ context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	return client.ContainerCreateResult{ID: "c-" + opts.Image}, nil
}

func (e *carryEngine) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	return client.ContainerRemoveResult{}, nil
}

func (e *carryEngine) CopyFromContainer(context.Context, string, client.CopyFromContainerOptions) (client.CopyFromContainerResult, error) {
	return client.CopyFromContainerResult{}, cerrdefs.ErrNotFound
}

func (e *carryEngine) CopyToContainer(_ context.Context, _ string, opts client.CopyToContainerOptions) (client.CopyToContainerResult, error) {
	_, err := io.Copy(io.Discard, opts.Content)
	return client.CopyToContainerResult{}, err
}

func (e *carryEngine) ContainerCommit(context.Context, string, client.ContainerCommitOptions) (client.ContainerCommitResult, error) {
	if e.commitErr != nil {
		return client.ContainerCommitResult{}, e.commitErr
	}
	return client.ContainerCommitResult{ID: "sha256:carried"}, nil
}

func (e *carryEngine) ImageRemove(_ context.Context, id string, _ client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	e.removed = append(e.removed, id)
	return client.ImageRemoveResult{}, nil
}

// The build stage never asks S2I for its incremental path. With the same builder it
// stacks on the previous -tmp image and keeps it (the new one's parent); with
// another builder it carries the state over into an image of the new builder and
// stacks on that, or, when that fails, warns and builds without the state; either
// way the previous image is removed.
func TestBuildCarriesStateWithoutS2I(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.Builder = "hello", t.TempDir(), "builder:2"
	pl := testPlan(t, cfg)
	prev := fakeImage("sha256:prev", "amd64", map[string]string{tmpimage.LabelBuilder: "sha256:b1"})
	tests := []struct {
		name        string
		builderID   string
		commitErr   error
		wantBuilder string
		wantLog     string
		wantWarn    string
		wantRemoved bool
	}{
		{"same builder: stack", "sha256:b1", nil, pl.TmpImage, "building on top of", "", false},
		{"new builder: carry", "sha256:b2", nil, pl.TmpImage, "building from builder:2 with the state of " + pl.TmpImage, "", true},
		{"new builder: carry fails", "sha256:b2", errors.New("disk full"), pl.Builder, "building from builder:2", "not carried over, building without it", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &carryEngine{commitErr: tc.commitErr}
			var log bytes.Buffer
			rep := &memReport{}
			var got s2i.Request
			s := &buildStage{logs: logs{Report: rep, Log: &log}, e: e, s2i: func(_ context.Context, req s2i.Request) (s2i.Result, error) {
				got = req
				return s2i.Result{ImageID: "sha256:new"}, nil
			}}
			b, err := s.Build(context.Background(), pl, State{BuilderID: tc.builderID, prev: prev}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Builder != tc.wantBuilder {
				t.Errorf("S2I built from %q, want %q", got.Builder, tc.wantBuilder)
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q lacks %q", log.String(), tc.wantLog)
			}
			if tc.wantWarn != "" && (len(rep.warns) != 1 || !strings.Contains(rep.warns[0], tc.wantWarn)) {
				t.Errorf("warnings %q, want one saying %q", rep.warns, tc.wantWarn)
			}
			if removed := slices.Contains(e.removed, "sha256:prev"); removed != tc.wantRemoved {
				t.Errorf("previous image removed: %v, want %v (removed %q)", removed, tc.wantRemoved, e.removed)
			}
			if b.Incremental != (tc.commitErr == nil) {
				t.Errorf("Incremental = %v", b.Incremental)
			}
		})
	}
}
