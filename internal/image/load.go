package image

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// Loader is the part of the Docker client Load uses.
type Loader interface {
	ImageLoad(ctx context.Context, input io.Reader, _ ...client.ImageLoadOption) (client.ImageLoadResult, error)
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
}

// Load loads img, an image composed without the daemon (Compose: one platform of
// an index), into the daemon under every name of tags, and returns what the
// daemon then has under the first. It goes as `docker load` of a `docker save`
// archive, the one form every Engine API version takes (1.41 included) whatever
// the daemon's image store; the archive streams, the base's layers read from
// their registry as it is written.
func Load(ctx context.Context, e Loader, img v1.Image, tags []string) (client.ImageInspectResult, error) {
	if len(tags) == 0 {
		return client.ImageInspectResult{}, errors.New("no name to load the image under")
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return client.ImageInspectResult{}, fmt.Errorf("image name %q: %w", t, err)
		}
		refs[tag] = img
	}
	pr, pw := io.Pipe()
	// Closing the reader ends the writer too, when the daemon stops reading early.
	defer pr.Close()
	go func() { _ = pw.CloseWithError(tarball.MultiRefWrite(refs, pw)) }()
	res, err := e.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err != nil {
		return client.ImageInspectResult{}, fmt.Errorf("loading image %s: %w", tags[0], err)
	}
	defer res.Close()
	if err := engine.ReadMessages(res, nil); err != nil {
		return client.ImageInspectResult{}, fmt.Errorf("loading image %s: %w", tags[0], err)
	}
	in, err := e.ImageInspect(ctx, tags[0])
	if err != nil {
		return in, fmt.Errorf("inspecting image %s after loading it: %w", tags[0], err)
	}
	return in, nil
}
