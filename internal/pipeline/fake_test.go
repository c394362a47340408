package pipeline

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// fakeEngine is an in-memory daemon for the prepare stage: images by reference,
// and pulls that fail with pullErr, or bring the image of that reference in
// remote, saying pullMsgs; with onlyRemote, a pull of a reference remote lacks
// fails. It speaks the Engine API version apiVersion ("" when unset). Any other
// method panics (the nil Engine).
type fakeEngine struct {
	Engine
	images     map[string]client.ImageInspectResult
	remote     map[string]client.ImageInspectResult
	onlyRemote bool
	pullErr    error
	pullMsgs   []jsonstream.Message
	pulls      []string
	apiVersion string
	tags       []string // SOURCE>TARGET
}

func (f *fakeEngine) ClientVersion() string { return f.apiVersion }

func (f *fakeEngine) ImageTag(_ context.Context, o client.ImageTagOptions) (client.ImageTagResult, error) {
	img, ok := f.images[o.Source]
	if !ok {
		return client.ImageTagResult{}, cerrdefs.ErrNotFound
	}
	f.images[o.Target] = img
	f.tags = append(f.tags, o.Source+">"+o.Target)
	return client.ImageTagResult{}, nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if img, ok := f.images[ref]; ok {
		return img, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound
}

func (f *fakeEngine) ImagePull(_ context.Context, ref string, _ client.ImagePullOptions) (client.ImagePullResponse, error) {
	f.pulls = append(f.pulls, ref)
	if f.pullErr != nil {
		return nil, f.pullErr
	}
	img, ok := f.remote[ref]
	if ok {
		f.images[ref] = img
	} else if f.onlyRemote {
		return nil, errors.New("manifest unknown")
	}
	return pullStream(f.pullMsgs), nil
}

// pullStream is a pull's response: its progress messages.
type pullStream []jsonstream.Message

func (pullStream) Read([]byte) (int, error) { return 0, io.EOF }
func (pullStream) Close() error             { return nil }
func (p pullStream) JSONMessages(context.Context) iter.Seq2[jsonstream.Message, error] {
	return func(yield func(jsonstream.Message, error) bool) {
		for _, m := range p {
			if !yield(m, nil) {
				return
			}
		}
	}
}
func (pullStream) Wait(context.Context) error { return nil }

// fakeImage is an image with labels and an architecture.
func fakeImage(id, arch string, labels map[string]string) client.ImageInspectResult {
	cfg := &dockerspec.DockerOCIImageConfig{}
	cfg.Labels = labels
	return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: id, Architecture: arch, Config: cfg}}
}

// With pull always, a pull that fails while the daemon has the image warns that
// the pull failed and the daemon's image is used, and the build goes on with it;
// when the daemon lacks the image, the failed pull is the build's error.
func TestPullAlwaysFailureWarns(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.Pull = "hello", t.TempDir(), "always"
	cfg.Builder, cfg.RuntimeImage = "example.org/builder:1", "example.org/base:1"
	pl := testPlan(t, cfg)
	tests := []struct {
		name     string
		pullErr  error
		warning  string // "" for none
		notFound bool   // the daemon lacks the runtime image
		err      string
	}{
		{"unreachable", errors.New("dial tcp: connection refused"), "pulling runtime image example.org/base:1 failed, so the image the daemon has is used: dial tcp: connection refused", false, ""},
		{"refused", errors.New("unauthorized: authentication required"), "failed, so the image the daemon has is used: unauthorized: authentication required (" + registry.Hint + ")", false, ""},
		{"missing", errors.New("manifest unknown"), "", true, "runtime image example.org/base:1 is not in the daemon and could not be pulled: manifest unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &fakeEngine{pullErr: tc.pullErr, images: map[string]client.ImageInspectResult{
				cfg.Builder: fakeImage("sha256:b", "amd64", map[string]string{
					tmpimage.LabelTarget: "x86_64-unknown-linux-musl", tmpimage.LabelRustc: "1.85.0",
				}),
			}}
			if !tc.notFound {
				e.images[cfg.RuntimeImage] = fakeImage("sha256:r", "amd64", nil)
			}
			rep := &memReport{}
			s := &prepareStage{logs: logs{Report: rep, Log: &strings.Builder{}}, e: e}
			_, _, err := s.ensureRuntime(t.Context(), pl, "x86_64-unknown-linux-musl")
			switch {
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Errorf("ensureRuntime = %v, want %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Errorf("ensureRuntime = %v, want the daemon's image", err)
			}
			var warned string
			if len(rep.warns) > 0 {
				warned = rep.warns[0]
			}
			if (tc.warning == "") != (warned == "") || !strings.Contains(warned, tc.warning) || strings.Contains(warned, "is not in the daemon") {
				t.Errorf("warnings %q, want one with %q", rep.warns, tc.warning)
			}
			if len(e.pulls) != 1 {
				t.Errorf("pulls %q, want one", e.pulls)
			}
		})
	}
}
