package tmpimage

import (
	"slices"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// A -tmp image is its builds' own when source and ref both match; the default
// branch's images carry no ref, as images from before the ref label, so those stay
// the default branch's.
func TestOwner(t *testing.T) {
	t.Parallel()
	const a, b = "https://example.com/a", "https://example.com/b"
	tests := []struct {
		name        string
		labels      map[string]string
		source, ref string
		own         bool
	}{
		{"the default branch's image, a default branch build", SourceLabels(a, ""), a, "", true},
		{"an image from before the ref label", map[string]string{LabelSource: a}, a, "", true},
		{"the default branch's image, a pull request", SourceLabels(a, ""), a, "refs/pull/1", false},
		{"a pull request's image, the default branch", SourceLabels(a, "refs/pull/1"), a, "", false},
		{"a pull request's image, another pull request", SourceLabels(a, "refs/pull/1"), a, "refs/pull/2", false},
		{"a pull request's image, the same pull request", BuildLabels("sha256:b", "1.85.0", "k", a, "refs/pull/1"), a, "refs/pull/1", true},
		{"another source's image", SourceLabels(b, ""), a, "", false},
	}
	for _, tc := range tests {
		cfg := &dockerspec.DockerOCIImageConfig{}
		cfg.Labels = tc.labels
		img := client.ImageInspectResult{InspectResponse: image.InspectResponse{Config: cfg}}
		if got := Owner(img) == OwnerName(tc.source, tc.ref); got != tc.own {
			t.Errorf("%s: owner %q, build %q: own %v, want %v", tc.name, Owner(img), OwnerName(tc.source, tc.ref), got, tc.own)
		}
	}
	if Owner(client.ImageInspectResult{}) != "" {
		t.Error("an image without labels has an owner")
	}
}

// A builder's targets are its targets label, else its one target, else none.
func TestBuilderTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"both labels", map[string]string{LabelTarget: "x", LabelTargets: " x  y\n"}, []string{"x", "y"}},
		{"a builder from before the targets label", map[string]string{LabelTarget: "x"}, []string{"x"}},
		{"a blank targets label", map[string]string{LabelTarget: "x", LabelTargets: " "}, []string{"x"}},
		{"neither", nil, nil},
	}
	for _, tc := range tests {
		cfg := &dockerspec.DockerOCIImageConfig{}
		cfg.Labels = tc.labels
		img := client.ImageInspectResult{InspectResponse: image.InspectResponse{Config: cfg}}
		if got := BuilderTargets(img); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := BuilderTargets(client.ImageInspectResult{}); got != nil {
		t.Errorf("an image without a config: %q", got)
	}
}

// A builder's C libraries are its clibs label's pairs; one without the label (made
// before builders brought any) or with an empty one brings none.
func TestBuilderCLibs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		labels map[string]string
		want   string // clibs.Set.String()
	}{
		{"the default builder", map[string]string{LabelCLibs: "openssl=3.0.17 libpq=15.14 zlib=1.3.1 sqlite=3.46.1"},
			"openssl=3.0.17 libpq=15.14 zlib=1.3.1 sqlite=3.46.1"},
		{"built with --c-libs none", map[string]string{LabelCLibs: ""}, ""},
		{"a builder from before the label", map[string]string{LabelTarget: "x"}, ""},
	}
	for _, tc := range tests {
		cfg := &dockerspec.DockerOCIImageConfig{}
		cfg.Labels = tc.labels
		img := client.ImageInspectResult{InspectResponse: image.InspectResponse{Config: cfg}}
		if got := BuilderCLibs(img).String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := BuilderCLibs(client.ImageInspectResult{}); len(got) != 0 {
		t.Errorf("an image without a config: %v", got)
	}
}
