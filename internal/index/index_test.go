package index

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
)

var (
	amd64 = mustLookup("linux/amd64")
	arm64 = mustLookup("linux/arm64")
	both  = []platform.Platform{amd64, arm64}

	created = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	binX86  = platformtest.Binary(elf.EM_X86_64, "the x86_64 app")
	binArm  = platformtest.Binary(elf.EM_AARCH64, "the aarch64 app")
)

func mustLookup(s string) platform.Platform {
	p, err := platform.Lookup(s)
	if err != nil {
		panic(err)
	}
	return p
}

// world is an in-memory registry holding runtime bases as Docker Hub holds
// alpine:3: a two-platform Docker manifest list of Docker schema 2 images, arm64
// listed as linux/arm64/v8. It also has a base without arm64 (an index and a
// single image).
type world struct {
	host                    string // 127.0.0.1:PORT, which go-containerregistry reaches over http
	base, amd64Only, single string // references
	baseImages              map[string]v1.Image
}

func newWorld(t *testing.T) world {
	t.Helper()
	host := testenv.Registry(t)
	w := world{host: host, baseImages: map[string]v1.Image{}}
	w.base, w.amd64Only, w.single = w.host+"/library/base:3", w.host+"/library/amd64-only:1", w.host+"/library/single:1"
	plats := map[string]v1.Platform{
		"amd64": {OS: "linux", Architecture: "amd64"},
		"arm64": {OS: "linux", Architecture: "arm64", Variant: "v8"},
	}
	var all, amd64Only []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		p := plats[arch]
		img := baseImage(t, p)
		w.baseImages[arch] = img
		add := mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}}
		all = append(all, add)
		if arch == "amd64" {
			amd64Only = append(amd64Only, add)
		}
	}
	push := func(ref string, t remote.Taggable) {
		r, err := name.ParseReference(ref)
		if err == nil {
			switch x := t.(type) {
			case v1.ImageIndex:
				err = remote.WriteIndex(r, x)
			case v1.Image:
				err = remote.Write(r, x)
			}
		}
		if err != nil {
			panic(err)
		}
	}
	list := func(adds []mutate.IndexAddendum) v1.ImageIndex {
		return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
	}
	push(w.base, list(all))
	push(w.amd64Only, list(amd64Only))
	push(w.single, w.baseImages["amd64"])
	return w
}

// baseImage is a small Docker schema 2 image for p: one layer with /etc/os-release,
// a label and an environment variable.
func baseImage(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	content := []byte("ID=fake\nARCH=" + p.Architecture + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "etc/os-release", Mode: 0o644, Size: int64(len(content)), ModTime: created}); err != nil {
		t.Fatal(err)
	}
	tw.Write(content)
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil },
		tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.DockerManifestSchema2), layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Env = []string{"PATH=/usr/bin:/bin"}
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.Labels = map[string]string{"base.label": p.Architecture, "overridden": "by the base"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func spec(base string) Spec {
	return Spec{
		Binary: "app", Base: base, Created: created,
		Labels:     map[string]string{"org.opencontainers.image.revision": "abc123"},
		UserLabels: map[string]string{"overridden": "by the user"},
	}
}

// build reads the bases of both platforms from the world and builds the index of
// the two fake binaries.
func (w world) build(t *testing.T, s Spec) *Index {
	t.Helper()
	bases, err := Bases(context.Background(), w.base, both, BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Build(s, []Part{{amd64, bases[0], binX86}, {arm64, bases[1], binArm}})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// The index pushed under several names is what each name holds: one image per
// platform, each the base plus the binary, saying the binary's platform.
func TestBuildAndPush(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ix := w.build(t, spec(w.base))
	names := []string{w.host + "/o/app:1", w.host + "/o/app:latest", w.host + "/other/app"}
	if err := Push(context.Background(), ix, names, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		ref, err := name.ParseReference(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Index(ref)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if d, _ := got.Digest(); d != ix.Digest {
			t.Errorf("%s is %s, want the index %s", n, d, ix.Digest)
		}
		checkIndex(t, w, ix, got)
	}
}

// checkIndex checks an index read back, got, against the bases and binaries
// and against what Build said of its images, ix.
func checkIndex(t *testing.T, w world, ix *Index, got v1.ImageIndex) {
	t.Helper()
	im, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("index %s with %d manifests, want an OCI index of 2", im.MediaType, len(im.Manifests))
	}
	tests := []struct {
		arch string
		bin  []byte
	}{{"amd64", binX86}, {"arm64", binArm}}
	for i, tc := range tests {
		desc := im.Manifests[i]
		want := v1.Platform{OS: "linux", Architecture: tc.arch}
		if desc.Platform == nil || !desc.Platform.Equals(want) || desc.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d: %s %v, want an OCI manifest for %v", i, desc.MediaType, desc.Platform, want)
		}
		if desc.Digest != ix.Images[i].Digest {
			t.Errorf("manifest %d is %s, Images[%d] says %s", i, desc.Digest, i, ix.Images[i].Digest)
		}
		img, err := got.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, img, w.baseImages[tc.arch], want, tc.bin)
	}
}

func checkImage(t *testing.T, img, base v1.Image, want v1.Platform, bin []byte) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := base.Digest()
	if cf.OS != want.OS || cf.Architecture != want.Architecture || cf.Variant != want.Variant {
		t.Errorf("config platform %s/%s/%s, want %v", cf.OS, cf.Architecture, cf.Variant, want)
	}
	labels := cf.Config.Labels
	for k, v := range map[string]string{
		"org.opencontainers.image.title":       "app",
		"org.opencontainers.image.revision":    "abc123",
		"org.opencontainers.image.created":     "2024-05-06T07:08:09Z",
		"org.opencontainers.image.base.digest": baseDigest.String(),
		"base.label":                           want.Architecture,
		"overridden":                           "by the user",
	} {
		if labels[k] != v {
			t.Errorf("%s: label %s = %q, want %q", want.Architecture, k, labels[k], v)
		}
	}
	if !strings.HasSuffix(labels["org.opencontainers.image.base.name"], "/library/base:3") {
		t.Errorf("base.name label %q", labels["org.opencontainers.image.base.name"])
	}
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/app" || cf.Config.User != "65534:65534" || cf.Config.Cmd != nil {
		t.Errorf("entrypoint %q, cmd %q, user %q", got, cf.Config.Cmd, cf.Config.User)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created %v, want %v", cf.Created, created)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Fatalf("%d layers, want the base's one and the binary's", len(layers))
	}
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("layer media type %s, want %s", mt, types.OCILayer)
		}
	}
	if got := layerFile(t, layers[1], "usr/local/bin/app"); !bytes.Equal(got, bin) {
		t.Errorf("the binary's layer holds %q, want the %s binary", got, want.Architecture)
	}
}

// layerFile is the content of file in the layer, failing unless it is the
// layer's only file.
func layerFile(t *testing.T, l v1.Layer, file string) []byte {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var data []byte
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != file || n > 0 || h.Mode != 0o755 {
			t.Errorf("layer entry %s (mode %o), want only %s, 0755", h.Name, h.Mode, file)
		}
		data, _ = io.ReadAll(tr)
	}
	return data
}

// The same inputs give the same index, read afresh from the registry; a change
// of any input gives another.
func TestBuildIsReproducible(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	first, second := w.build(t, spec(w.base)), w.build(t, spec(w.base))
	if first.Digest != second.Digest {
		t.Errorf("the same inputs gave %s and %s", first.Digest, second.Digest)
	}
	later := spec(w.base)
	later.Created = created.Add(time.Second)
	if w.build(t, later).Digest == first.Digest {
		t.Error("another created time gave the same index")
	}
}

func TestBuildRefusesWrongBinaries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bases, err := Bases(context.Background(), w.base, both, BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		parts []Part
		want  string
	}{
		{"none", nil, "at least one platform"},
		{"x86_64 binary for arm64", []Part{{amd64, bases[0], binX86}, {arm64, bases[1], binX86}},
			"the app binary built for linux/arm64 is a linux/amd64 binary"},
		{"a script", []Part{{amd64, bases[0], []byte("#!/bin/sh\n")}}, "not an ELF executable"},
		{"a machine no row has", []Part{{amd64, bases[0], platformtest.Binary(elf.EM_RISCV, "")}}, "EM_RISCV"},
		{"a platform twice", []Part{{amd64, bases[0], binX86}, {amd64, bases[0], binX86}}, "asked for twice"},
		{"no base", []Part{{amd64, nil, binX86}}, "no runtime image for linux/amd64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(spec(w.base), tc.parts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build: %v, want %q", err, tc.want)
			}
		})
	}
}

// A base without a platform asked for is bad input, in the front end's words,
// naming the base and the platform.
func TestBasesMissingPlatform(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name   string
		ref    string
		ps     []platform.Platform
		naming config.Naming
		want   string // "" means found
	}{
		{"an index with both", w.base, both, nil, ""},
		{"arm64 alone, listed as arm64/v8", w.base, []platform.Platform{arm64}, nil, ""},
		{"an index without arm64", w.amd64Only, both, nil,
			"runtime-image: " + w.amd64Only + " has no image for linux/arm64 (it has linux/amd64)"},
		{"in the plugin's words", w.amd64Only, []platform.Platform{arm64}, config.PluginNaming, "runtime_image: "},
		{"a single image for its own platform", w.single, []platform.Platform{amd64}, nil, ""},
		{"a single image for another", w.single, both, nil, w.single + " has no image for linux/arm64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bases, err := Bases(context.Background(), tc.ref, tc.ps, BaseOptions{Naming: tc.naming})
			if tc.want == "" {
				if err != nil || len(bases) != len(tc.ps) {
					t.Fatalf("Bases: %d, %v", len(bases), err)
				}
				for i, b := range bases {
					cf, err := b.ConfigFile()
					if err != nil || cf.Architecture != tc.ps[i].Architecture {
						t.Errorf("base %d is %v, want %s (%v)", i, cf.Architecture, tc.ps[i], err)
					}
				}
				return
			}
			var ie *config.InputError
			var me *MissingPlatformError
			if !errors.As(err, &ie) || !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Bases: %v, want an input error with %q", err, tc.want)
			}
		})
	}
}
