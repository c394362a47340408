package index

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The layout holds the index as its one entry, named, with every blob: read back
// it is the same index, and it pushes from there as crane push does.
func TestWriteLayout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ix := w.build(t, spec(w.base))
	dir := filepath.Join(t.TempDir(), "oci")
	for range 2 { // a second run replaces the first's index.json
		if err := WriteLayout(dir, ix, w.host+"/o/app:1.2"); err != nil {
			t.Fatal(err)
		}
	}
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := outer.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want the image index alone", len(im.Manifests))
	}
	entry := im.Manifests[0]
	if entry.Digest != ix.Digest || entry.MediaType != types.OCIImageIndex {
		t.Errorf("index.json names %s %s, want the index %s", entry.MediaType, entry.Digest, ix.Digest)
	}
	if got := entry.Annotations[annotationRefName]; got != "1.2" {
		t.Errorf("ref.name %q, want the tag 1.2", got)
	}
	inner, err := outer.ImageIndex(entry.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := inner.Digest(); d != ix.Digest {
		t.Errorf("the layout's index is %s, want %s", d, ix.Digest)
	}
	checkIndex(t, w, ix, inner)

	later, err := name.ParseReference(w.host + "/later/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(later, inner); err != nil {
		t.Fatalf("pushing from the layout: %v", err)
	}
	pushed, err := remote.Index(later)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := pushed.Digest(); d != ix.Digest {
		t.Errorf("pushed from the layout: %s, want %s", d, ix.Digest)
	}
}

// One image (a single-platform build's) is the layout's one entry, as it is.
func TestWriteImageLayout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	img := w.baseImages["amd64"]
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteImageLayout(dir, img, "app:1"); err != nil {
		t.Fatal(err)
	}
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := outer.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != want || im.Manifests[0].MediaType != types.DockerManifestSchema2 ||
		im.Manifests[0].Annotations[annotationRefName] != "1" {
		t.Fatalf("index.json %+v, want the image %s alone, tagged 1", im.Manifests, want)
	}
	if _, err := outer.Image(want); err != nil {
		t.Errorf("the image is not in the layout: %v", err)
	}
}

func TestLayoutRefusesBadName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ix := w.build(t, spec(w.base))
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, ix, "Not A Name"); err == nil {
		t.Error("a bad name was taken")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the layout was written under a bad name")
	}
}

func TestMetadataAndRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ix := w.build(t, spec(w.base))
	raw, err := ix.Metadata([]string{"ghcr.io/o/app:1", "ghcr.io/o/app:latest"})
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Digest     string `json:"containerimage.digest"`
		Descriptor struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"containerimage.descriptor"`
		Name      string                    `json:"image.name"`
		Platforms map[string]map[string]any `json:"rust-s2i.platforms"`
		Config    *string                   `json:"containerimage.config.digest"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Digest != ix.Digest.String() || meta.Descriptor.Digest != meta.Digest ||
		meta.Descriptor.MediaType != string(types.OCIImageIndex) || meta.Descriptor.Size != ix.Size {
		t.Errorf("metadata %s, want the index %s", raw, ix.Digest)
	}
	if meta.Name != "ghcr.io/o/app:1,ghcr.io/o/app:latest" || meta.Config != nil {
		t.Errorf("image.name %q, config digest %v", meta.Name, meta.Config)
	}
	for _, img := range ix.Images {
		got := meta.Platforms[img.Platform.String()]
		if got["containerimage.digest"] != img.Digest.String() || got["containerimage.config.digest"] != img.ConfigDigest.String() ||
			got["binary.size"] != float64(img.BinarySize) {
			t.Errorf("%s: %v, want %s", img.Platform, got, img.Digest)
		}
	}
	if again, _ := ix.Metadata([]string{"ghcr.io/o/app:1", "ghcr.io/o/app:latest"}); string(again) != string(raw) {
		t.Error("the metadata text differs between calls")
	}

	rows := ix.Rows()
	want := []Row{
		{"linux/amd64", int64(len(binX86)), ix.Images[0].Digest.String()},
		{"linux/arm64", int64(len(binArm)), ix.Images[1].Digest.String()},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
}

// Every name is read before anything is pushed: a bad one leaves the registry
// as it was.
func TestPushRefusesBadNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ix := w.build(t, spec(w.base))
	for _, names := range [][]string{nil, {w.host + "/o/app:1", "Bad Name"}} {
		if err := Push(context.Background(), ix, names, nil); err == nil {
			t.Errorf("Push to %q: no error", names)
		}
	}
	good, err := name.ParseReference(w.host + "/o/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Index(good); err == nil {
		t.Error("the good name was pushed before the bad one was refused")
	}
}

func TestLogins(t *testing.T) {
	t.Parallel()
	l := Logins{
		"ghcr.io":        {"octo", "ghp_secret"},
		"docker.io":      {"hubuser", "hub-secret"},
		"localhost:5000": {"local", "pw"},
		"not a registry": {"x", "y"},
	}
	tests := []struct {
		ref, user string
	}{
		{"ghcr.io/o/app:1", "octo"},
		{"alpine:3", "hubuser"}, // docker.io, as index.docker.io
		{"index.docker.io/library/alpine:3", "hubuser"},
		{"localhost:5000/app", "local"},
		{"quay.io/o/app", ""},
	}
	for _, tc := range tests {
		ref, err := name.ParseReference(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.Resolve(ref.Context())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != tc.user || (tc.user == "" && a != authn.Anonymous) {
			t.Errorf("%s: user %q, want %q", tc.ref, cfg.Username, tc.user)
		}
	}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v"} {
		for _, v := range []any{l, l["ghcr.io"]} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, "secret") || strings.Contains(s, "pw") {
				t.Errorf("%s shows a password: %s", verb, s)
			}
		}
	}
}
