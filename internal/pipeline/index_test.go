package pipeline

import (
	"context"
	"debug/elf"
	"errors"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// loadEngine is a daemon of arch for the publish stage: it takes loads, and
// answers an inspect of the name it loaded.
type loadEngine struct {
	publishEngine
	arch   string
	loaded []string // the names inspected after a load
	bytes  int64    // of the last load's archive
}

func (e *loadEngine) Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error) {
	return client.SystemInfoResult{Info: system.Info{Architecture: e.arch, OSType: "linux"}}, nil
}

func (e *loadEngine) ImageLoad(_ context.Context, r io.Reader, _ ...client.ImageLoadOption) (client.ImageLoadResult, error) {
	n, err := io.Copy(io.Discard, r)
	e.bytes = n
	return io.NopCloser(strings.NewReader(`{"stream":"Loaded"}`)), err
}

func (e *loadEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if e.bytes == 0 {
		return client.ImageInspectResult{}, errors.New("no such image")
	}
	e.loaded = append(e.loaded, ref)
	return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: "sha256:loaded", Size: 4242}}, nil
}

// indexWorld is a two-platform build, arm64 first, just built: its binaries
// collected, its bases read, pushing to an in-memory registry, on an amd64 daemon.
type indexWorld struct {
	pl     *plan.Plan
	pkg    *packageStage
	pub    *publishStage
	e      *loadEngine
	logged *strings.Builder
	built  Built
	st     State
	res    *Result
}

func newIndexWorld(t *testing.T, push bool, ociOutput string) indexWorld {
	t.Helper()
	host := testenv.Registry(t)
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.RuntimeImage = "hello", t.TempDir(), "example.org/base:1"
	cfg.Image, cfg.Tags, cfg.Push, cfg.OCIOutput = host+"/o/hello:1", []string{host + "/o/hello:latest"}, push, ociOutput
	cfg.Platforms = []platform.Platform{lookup(t, "linux/arm64"), lookup(t, "linux/amd64")}
	pl := testPlan(t, cfg)
	var bases []v1.Image
	for range 2 {
		b, err := random.Image(128, 1)
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, b)
	}
	st := State{Target: armTarget, Targets: []string{armTarget, x86Target}, Bases: bases, Digest: "sha256:inputs"}
	arm, x86 := platformtest.Binary(elf.EM_AARCH64, "arm"), platformtest.Binary(elf.EM_X86_64, "x86")
	built := Built{Result: s2i.Result{Collected: map[string][]byte{
		"hello": arm, tmpimage.TargetBinary(armTarget, "hello"): arm, tmpimage.TargetBinary(x86Target, "hello"): x86,
	}}}
	logged := &strings.Builder{}
	say := logs{Report: &memReport{}, Log: logged}
	e := &loadEngine{arch: "x86_64"}
	return indexWorld{pl: pl, pkg: &packageStage{logs: say}, pub: &publishStage{logs: say, e: e}, e: e, logged: logged,
		built: built, st: st, res: &Result{Image: pl.Image, Tags: pl.Tags}}
}

// With platforms, the package stage assembles the index from the collected
// binaries, arm64 first as asked, with the inputs label the single-platform
// image has; the publish stage pushes it under every name and writes the OCI
// output, and the digest is the index's.
func TestIndexPushed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "oci")
	w := newIndexWorld(t, true, dir)
	pkg, pub, e, built, st, res, pl := w.pkg, w.pub, w.e, w.built, w.st, w.res, w.pl
	out, err := pkg.Package(t.Context(), pl, st, nil, built)
	if err != nil {
		t.Fatal(err)
	}
	ix := out.Index
	if ix == nil || len(ix.Images) != 2 || ix.Images[0].Platform.Architecture != "arm64" || out.ID != ix.Images[0].ConfigDigest.String() {
		t.Fatalf("packaged %+v, want an index of arm64 then amd64, the result its first image", out)
	}
	cf, err := ix.Images[1].Image.ConfigFile()
	if err != nil || cf.Config.Labels[tmpimage.LabelInputs] != "sha256:inputs" {
		t.Errorf("the amd64 image's labels %v (%v), want the inputs digest", cf.Config.Labels, err)
	}
	res.Index = ix
	if err := pub.Publish(t.Context(), pl, res); err != nil {
		t.Fatal(err)
	}
	if res.Digest != ix.Digest.String() || len(e.loaded) != 0 {
		t.Errorf("digest %q, loaded %q; want the index %s pushed, nothing loaded", res.Digest, e.loaded, ix.Digest)
	}
	for _, n := range res.Tags {
		ref, err := name.ParseReference(n)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := remote.Index(ref); err != nil {
			t.Errorf("%s: %v", n, err)
		} else if d, _ := got.Digest(); d != ix.Digest {
			t.Errorf("%s is %s, want %s", n, d, ix.Digest)
		}
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("no OCI layout in %s: %v", dir, err)
	}
	if top, err := lp.ImageIndex(); err != nil {
		t.Error(err)
	} else if im, _ := top.IndexManifest(); len(im.Manifests) != 1 || im.Manifests[0].Digest != ix.Digest {
		t.Errorf("the layout's index.json %+v, want the index %s", im, ix.Digest)
	}
}

// Without push, the daemon's own platform's image is loaded under every name,
// the outputs say what it is, and a line says the other platform was not kept
// and how to keep it; nothing is pushed.
func TestIndexLoaded(t *testing.T) {
	t.Parallel()
	w := newIndexWorld(t, false, "")
	pkg, pub, e, logged, built, st, res, pl := w.pkg, w.pub, w.e, w.logged, w.built, w.st, w.res, w.pl
	out, err := pkg.Package(t.Context(), pl, st, nil, built)
	if err != nil {
		t.Fatal(err)
	}
	res.Index = out.Index
	if err := pub.Publish(t.Context(), pl, res); err != nil {
		t.Fatal(err)
	}
	amd64, _ := res.Index.For(lookup(t, "linux/amd64"))
	if res.ImageID != "sha256:loaded" || res.ImageSize != 4242 || res.BinarySize != amd64.BinarySize || res.Digest != "" {
		t.Errorf("result %+v, want the loaded amd64 image's, no digest", res)
	}
	if len(e.loaded) != 1 || e.loaded[0] != res.Tags[0] {
		t.Errorf("inspected %q after the load, want %s", e.loaded, res.Tags[0])
	}
	for _, want := range []string{"loaded the linux/amd64 image into the daemon as " + strings.Join(res.Tags, ", "),
		"the linux/arm64 image was not kept", "set --oci-output", "or --push"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	if ref, _ := name.ParseReference(res.Tags[0]); ref != nil {
		if _, err := remote.Index(ref); err == nil {
			t.Errorf("%s was pushed without push", res.Tags[0])
		}
	}
	if _, err := os.Stat(pl.OCIOutput); pl.OCIOutput != "" || err == nil {
		t.Errorf("an OCI output was written without the setting")
	}
}
