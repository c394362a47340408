package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/sbom"
)

// twoPlatforms is an index of two random images, for linux/amd64 and linux/arm64.
func twoPlatforms(t *testing.T, mt types.MediaType) (v1.ImageIndex, []v1.Hash) {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, mt)
	var digests []v1.Hash
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests = append(digests, d)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx, digests
}

// statementsFor makes the SBOM (SPDX of the cratedeps fixture) and provenance
// statements of the image with digest d.
func statementsFor(t *testing.T, d v1.Hash, target string) []intoto.Statement {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join("..", "cratedeps", "testdata", "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := cratedeps.Resolve(meta, nil, cratedeps.Options{Binary: "app", Target: target})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.SPDX(g, sbom.Info{Name: "app", ToolVersion: "test", Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := intoto.DigestSubject("registry.example/app", d.String())
	if err != nil {
		t.Fatal(err)
	}
	sbomSt, err := intoto.New(sbom.PredicateType, doc, sub)
	if err != nil {
		t.Fatal(err)
	}
	provSt, err := provenance.Statement(provenance.Build{
		Source:   provenance.Source{URI: "https://github.com/example/app", Commit: "0123456789abcdef0123456789abcdef01234567"},
		Settings: provenance.Settings{Binary: "app", Profile: "release", Targets: []string{target}},
	}, sub)
	if err != nil {
		t.Fatal(err)
	}
	return []intoto.Statement{sbomSt, provSt}
}

func TestAttachPushAndReadBack(t *testing.T) {
	t.Parallel()
	host := testenv.Registry(t)
	ref, err := name.ParseReference(host+"/test/app:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}

	idx, digests := twoPlatforms(t, types.DockerManifestList)
	sts := map[v1.Hash][]intoto.Statement{
		digests[0]: statementsFor(t, digests[0], "x86_64-unknown-linux-musl"),
		digests[1]: statementsFor(t, digests[1], "aarch64-unknown-linux-musl"),
	}
	out, err := Attach(idx, sts)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, out); err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := out.Digest()
	if got, _ := pulled.Digest(); got != want {
		t.Fatalf("pulled index %s, pushed %s", got, want)
	}
	checkLayout(t, pulled, digests, sts)
}

// checkLayout checks BuildKit's layout: the images first, then one attestation
// manifest per image, each pointing at its image, whose layers are the statements.
func checkLayout(t *testing.T, idx v1.ImageIndex, digests []v1.Hash, sts map[v1.Hash][]intoto.Statement) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2*len(digests) {
		t.Fatalf("index %s with %d manifests", im.MediaType, len(im.Manifests))
	}
	for i, d := range digests {
		if im.Manifests[i].Digest != d {
			t.Errorf("manifest %d is %s, want image %s", i, im.Manifests[i].Digest, d)
		}
		desc := im.Manifests[len(digests)+i]
		if desc.Annotations[RefTypeAnnotation] != AttestationManifestType || desc.Annotations[RefDigestAnnotation] != d.String() ||
			desc.Platform == nil || desc.Platform.OS != "unknown" || desc.Platform.Architecture != "unknown" ||
			desc.MediaType != types.OCIManifestSchema1 {
			t.Errorf("attestation descriptor %d: %+v", i, desc)
		}
		att, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		checkAttestation(t, att, sts[d])
	}
}

func checkAttestation(t *testing.T, att v1.Image, sts []intoto.Statement) {
	t.Helper()
	m, err := att.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := att.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "unknown" || cf.Architecture != "unknown" || len(cf.History) != 0 || len(cf.RootFS.DiffIDs) != len(sts) {
		t.Errorf("attestation config: %+v", cf)
	}
	layers, err := att.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != len(sts) || len(layers) != len(sts) {
		t.Fatalf("%d layers, want %d", len(m.Layers), len(sts))
	}
	for i, st := range sts {
		if m.Layers[i].MediaType != InTotoMediaType || m.Layers[i].Annotations[PredicateTypeAnnotation] != st.PredicateType {
			t.Errorf("layer %d: %+v", i, m.Layers[i])
		}
		rc, err := layers[i].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, _ := st.Marshal()
		if !bytes.Equal(got, want) {
			t.Errorf("layer %d is not statement %d", i, i)
		}
		var back intoto.Statement
		if err := json.Unmarshal(got, &back); err != nil || back.Type != intoto.StatementType {
			t.Errorf("layer %d: %v %q", i, err, back.Type)
		}
	}
	if m.Layers[0].Annotations[PredicateTypeAnnotation] != "https://spdx.dev/Document" ||
		m.Layers[1].Annotations[PredicateTypeAnnotation] != "https://slsa.dev/provenance/v1" {
		t.Errorf("predicate types %+v", m.Layers)
	}
}

func TestAttachDeterministic(t *testing.T) {
	t.Parallel()
	idx, digests := twoPlatforms(t, types.OCIImageIndex)
	sts := map[v1.Hash][]intoto.Statement{}
	for _, d := range digests {
		sts[d] = statementsFor(t, d, "x86_64-unknown-linux-musl")
	}
	var first v1.Hash
	for i := range 5 { // map iteration order differs between runs; the digest must not
		out, err := Attach(idx, sts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := out.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d
		} else if d != first {
			t.Fatalf("Attach gave %s, then %s", first, d)
		}
	}
}

func TestAttachRefuses(t *testing.T) {
	t.Parallel()
	idx, digests := twoPlatforms(t, types.OCIImageIndex)
	good := statementsFor(t, digests[0], "x86_64-unknown-linux-musl")
	attached, err := Attach(idx, map[v1.Hash][]intoto.Statement{digests[0]: good})
	if err != nil {
		t.Fatal(err)
	}
	stranger := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}
	tests := []struct {
		name string
		idx  v1.ImageIndex
		sts  map[v1.Hash][]intoto.Statement
		want string
		is   error
	}{
		{"statement about another image", idx, map[v1.Hash][]intoto.Statement{digests[1]: good}, "is not about", nil},
		{"digest not in the index", idx, map[v1.Hash][]intoto.Statement{stranger: statementsFor(t, stranger, "x86_64-unknown-linux-musl")}, "does not hold", nil},
		{"attached already", attached, map[v1.Hash][]intoto.Statement{digests[0]: good}, "already", ErrAttached},
	}
	for _, tt := range tests {
		_, err := Attach(tt.idx, tt.sts)
		if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestAttachImage(t *testing.T) {
	t.Parallel()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "arm64", Variant: "v8", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	// ConfigFile dropped the layer's diff id: put it back so the image is whole.
	img, err = mutate.AppendLayers(img)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	sts := statementsFor(t, d, "aarch64-unknown-linux-musl")
	idx, err := AttachImage(img, nil, sts)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if p := im.Manifests[0].Platform; p == nil || p.OS != "linux" || p.Architecture != "arm64" || p.Variant != "v8" {
		t.Errorf("image platform %+v", p)
	}
	checkLayout(t, idx, []v1.Hash{d}, map[v1.Hash][]intoto.Statement{d: sts})
}
