package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/auditable"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// TestS2IStep swaps the pipeline's S2I step, as the composition root would, for
// one that records each request and then runs the real build in-process on the
// real engine. It shows what the pipeline asks of S2I: a cold build copies the
// local source and excludes nothing; the next build after a change stacks on the
// -tmp image; an unchanged rebuild asks nothing; and a failing step fails the
// build and leaves the earlier images as they were.
func TestS2IStep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/hello on the Docker engine; skipped with -short")
	}
	ctx := t.Context()
	c, err := engine.Connect(ctx, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	src := filepath.Join(t.TempDir(), "hello")
	if err := testenv.CopyTree(filepath.Join(testenv.RepoRoot(), "examples", "hello"), src); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", src
	cfg.Builder, cfg.RuntimeImage = testenv.BuilderImage, testenv.RuntimeImage
	cfg.Image, cfg.TmpImage = "rust-s2i-pipeline-test", "rust-s2i-pipeline-test-tmp"
	remove := func() {
		for _, img := range []string{cfg.Image, cfg.TmpImage} {
			_, _ = c.ImageRemove(context.WithoutCancel(ctx), img, client.ImageRemoveOptions{Force: true})
		}
	}
	remove()
	t.Cleanup(remove)

	var reqs []s2i.Request
	var results []s2i.Result
	step := func(ctx context.Context, req s2i.Request) (s2i.Result, error) {
		reqs = append(reqs, req)
		res, err := s2i.InProcess{Engine: c}.Build(ctx, req)
		results = append(results, res)
		return res, err
	}
	p := New(Deps{
		Engine: c, Host: c.DaemonHost(), Report: &memReport{}, Log: testWriter{t},
		S2I: func(ctx context.Context, req s2i.Request) (s2i.Result, error) { return step(ctx, req) },
	})
	pl := testPlan(t, cfg)
	first, err := p.Run(ctx, pl)
	if err != nil {
		t.Fatal(err)
	}
	builder, err := c.ImageInspect(ctx, cfg.Builder)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Fatalf("cold build: %d S2I requests, want 1", len(reqs))
	}
	r := reqs[0]
	switch {
	case !r.Copy || r.Source != src:
		t.Errorf("cold build: source %q copy %v, want %q copied as it is", r.Source, r.Copy, src)
	case r.Exclude != "":
		t.Errorf("cold build: exclude %q, want nothing excluded", r.Exclude)
	case r.Builder != cfg.Builder || r.Tag != cfg.TmpImage:
		t.Errorf("cold build: builder %q tag %q", r.Builder, r.Tag)
	case !slices.Contains(r.Env, "BINARY=hello"):
		t.Errorf("cold build: env %q lacks BINARY=hello", r.Env)
	case r.Labels[tmpimage.LabelBuilder] != builder.ID:
		t.Errorf("cold build: labels %v, want %s=%s", r.Labels, tmpimage.LabelBuilder, builder.ID)
	case r.CollectDir != tmpimage.BinDir || !slices.Contains(r.Collect, "hello") || r.OnCollected == nil:
		t.Errorf("cold build: collects %v from %q (callback %v), want the binary from %s, and the final image written meanwhile",
			r.Collect, r.CollectDir, r.OnCollected != nil, tmpimage.BinDir)
	}

	if _, err := p.Run(ctx, pl); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Errorf("unchanged rebuild asked S2I for a build: %+v", reqs[1:])
	}

	f, err := os.OpenFile(filepath.Join(src, "src", "main.rs"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("// a one-line change\n")
	f.Close()
	if _, err := p.Run(ctx, pl); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[1].Builder != cfg.TmpImage {
		t.Errorf("after a change: requests %+v, want a second build on top of %s", reqs, cfg.TmpImage)
	}
	// The binary came on the build container's stdout, before the container stopped.
	if got := results[len(results)-1]; got.Times[s2i.MarkCollected].IsZero() || len(got.Collected["hello"]) == 0 {
		t.Errorf("after a change: times %v, %d bytes of binary collected: want them sent by assemble on stdout",
			got.Times, len(got.Collected["hello"]))
	}
	// The final image was written from the binary collected during the build: it is
	// the binary the -tmp image holds.
	inTmp, err := image.ReadFile(ctx, c, cfg.TmpImage, tmpimage.BinaryPath("hello"))
	if err != nil {
		t.Fatal(err)
	}
	inFinal, err := image.ReadFile(ctx, c, cfg.Image, image.BinDir+"/hello")
	if err != nil {
		t.Fatal(err)
	}
	// With the crate list embedded (auditable, the default), it is the -tmp image's
	// binary plus the list's section, and nothing else.
	want := inTmp
	if pl.Auditable {
		file := filepath.Join(t.TempDir(), "hello")
		if err := os.WriteFile(file, inFinal, 0o755); err != nil {
			t.Fatal(err)
		}
		list, err := auditable.Read(file)
		if err != nil {
			t.Fatalf("the final image's binary has no crate list: %v", err)
		}
		if want, err = auditable.Embed(inTmp, list); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(want, inFinal) {
		t.Errorf("the final image's binary (%d bytes) is not the -tmp image's (%d bytes, %d with the crate list)", len(inFinal), len(inTmp), len(want))
	}

	before, err := c.ImageInspect(ctx, cfg.Image)
	if err != nil {
		t.Fatal(err)
	}
	tmpBefore, err := c.ImageInspect(ctx, cfg.TmpImage)
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("assemble exploded")
	step = func(context.Context, s2i.Request) (s2i.Result, error) { return s2i.Result{}, broken }
	f, _ = os.OpenFile(filepath.Join(src, "src", "main.rs"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("// another change\n")
	f.Close()
	if _, err := p.Run(ctx, pl); !errors.Is(err, broken) {
		t.Errorf("Run with a failing S2I step = %v, want %v", err, broken)
	}
	after, _ := c.ImageInspect(ctx, cfg.Image)
	tmpAfter, _ := c.ImageInspect(ctx, cfg.TmpImage)
	if after.ID != before.ID || tmpAfter.ID != tmpBefore.ID {
		t.Errorf("a failed build changed the images: final %s -> %s, -tmp %s -> %s", before.ID, after.ID, tmpBefore.ID, tmpAfter.ID)
	}

	// A build that fails after its binary was collected (its commit failed, say):
	// the final image written meanwhile goes again, and the name stays where it was.
	var inputs string
	step = func(ctx context.Context, req s2i.Request) (s2i.Result, error) {
		inputs = req.Labels["io.rust-s2i.inputs"]
		req.Tag = cfg.TmpImage + "-failing" // the real build, but not over the -tmp image
		if _, err := (s2i.InProcess{Engine: c}).Build(ctx, req); err != nil {
			return s2i.Result{}, err
		}
		return s2i.Result{}, broken
	}
	t.Cleanup(func() {
		_, _ = c.ImageRemove(context.WithoutCancel(ctx), cfg.TmpImage+"-failing", client.ImageRemoveOptions{Force: true})
	})
	f, _ = os.OpenFile(filepath.Join(src, "src", "main.rs"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("fn unused() {}\n")
	f.Close()
	if _, err := p.Run(ctx, pl); !errors.Is(err, broken) {
		t.Errorf("Run with a commit that fails = %v, want %v", err, broken)
	}
	if after, _ := c.ImageInspect(ctx, cfg.Image); after.ID != before.ID {
		t.Errorf("a build that failed in its commit moved %s: %s -> %s", cfg.Image, before.ID, after.ID)
	}
	left, err := c.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).
		Add("label", "io.rust-s2i.inputs="+inputs).Add("label", image.LabelTitle+"=hello")})
	if err != nil {
		t.Fatal(err)
	}
	if inputs == "" || len(left.Items) != 0 {
		t.Errorf("inputs label %q: %d final images of the failed build left behind, want none", inputs, len(left.Items))
	}
	if first.ImageID == "" || first.BinarySize == 0 {
		t.Errorf("first result %+v lacks the image ID or the binary size", first)
	}
}

// testWriter sends the pipeline's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}
