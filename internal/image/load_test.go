package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// loader is a daemon that takes a `docker save` archive and remembers its
// manifest.json and the files it held.
type loader struct {
	manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	files []string
	reply string // the daemon's message stream
}

func (l *loader) ImageLoad(_ context.Context, r io.Reader, _ ...client.ImageLoadOption) (client.ImageLoadResult, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		l.files = append(l.files, h.Name)
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&l.manifest); err != nil {
				return nil, err
			}
		}
	}
	return io.NopCloser(strings.NewReader(l.reply)), nil
}

func (l *loader) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if len(l.manifest) == 0 || !slices.Contains(l.manifest[0].RepoTags, ref) {
		return client.ImageInspectResult{}, errors.New("no such image")
	}
	return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: strings.TrimSuffix(l.manifest[0].Config, ".json")}}, nil
}

// Load sends the whole image, every layer, under every name at once, and answers
// what the daemon has under the first; an error in the daemon's stream is the
// load's.
func TestLoad(t *testing.T) {
	t.Parallel()
	img, err := random.Image(256, 3)
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{reply: `{"stream":"Loaded image: app:1\n"}`}
	tags := []string{"app:1", "127.0.0.1:5000/o/app:latest"}
	in, err := Load(t.Context(), l, img, tags)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	if in.ID != id.String() {
		t.Errorf("loaded %s, want the image's config digest %s", in.ID, id)
	}
	if len(l.manifest) != 1 || !slices.Equal(slices.Sorted(slices.Values(l.manifest[0].RepoTags)), slices.Sorted(slices.Values(tags))) ||
		len(l.manifest[0].Layers) != 3 {
		t.Errorf("manifest.json %+v, want one image of 3 layers under %q", l.manifest, tags)
	}

	bad := &loader{reply: `{"errorDetail":{"message":"no space left"},"error":"no space left"}`}
	if _, err := Load(t.Context(), bad, img, tags); err == nil || !strings.Contains(err.Error(), "loading image app:1: no space left") {
		t.Errorf("Load with a failing daemon = %v", err)
	}
	if _, err := Load(t.Context(), l, img, nil); err == nil {
		t.Error("Load with no names succeeded")
	}
}
