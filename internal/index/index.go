// Package index assembles the final image of a multi-platform build: one OCI
// image index holding exactly one image per platform, each the runtime base for
// that platform plus one layer with that platform's binary (image.Compose), its
// platform read from the binary's ELF header. It picks each platform's base out of
// a multi-arch runtime image (Bases), pushes the index under every name (Push),
// writes it as an OCI image layout (WriteLayout), and says what was made in the
// outputs' terms (Metadata, Rows).
//
// Nothing here talks to the Docker daemon: the images go from registry to
// registry, or to a directory.
package index

import (
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// Spec is what every platform's image has in common, as image.Spec has it for
// the single-platform image.
type Spec struct {
	Binary     string            // the binary's name in the images: /usr/local/bin/NAME
	Base       string            // the runtime image as the user named it, for the base.name label
	Created    time.Time         // the one time in the images (SOURCE_DATE_EPOCH, the commit's)
	Labels     map[string]string // source and revision; the rest is filled in as image.Package does
	UserLabels map[string]string // the user's, over all of the above
}

// Part is one platform's input: its base and its binary.
type Part struct {
	Platform platform.Platform // the platform asked for; the binary must be for it
	Base     v1.Image          // that platform's runtime base (see Bases)
	Binary   []byte
}

// Index is the assembled index and what each of its images is.
type Index struct {
	Index  v1.ImageIndex
	Digest v1.Hash // the index's: the digest output
	Size   int64   // of the index manifest
	Images []Image // one per platform, in the order asked for
}

// Image is one platform's image in an Index.
type Image struct {
	Platform     platform.Platform
	Image        v1.Image
	Digest       v1.Hash // the image manifest's, as the index names it
	ConfigDigest v1.Hash // the config's: the image ID a daemon would give it
	BinarySize   int64
}

// Build assembles the index of parts, one image per platform in the order given.
// A binary whose ELF header names another platform than its part's, or none this
// program supports, is an error: an arm64 image holding an x86_64 binary fails
// only when run, on another machine.
func Build(s Spec, parts []Part) (*Index, error) {
	if len(parts) == 0 {
		return nil, errors.New("an image index needs at least one platform")
	}
	ix := &Index{}
	adds := make([]mutate.IndexAddendum, 0, len(parts))
	for i, part := range parts {
		for _, earlier := range parts[:i] {
			if earlier.Platform == part.Platform {
				return nil, fmt.Errorf("platform %s is asked for twice: an index holds one image per platform", part.Platform)
			}
		}
		img, err := Compose(s, part)
		if err != nil {
			return nil, err
		}
		plat := img.Platform.OCI()
		adds = append(adds, mutate.IndexAddendum{Add: img.Image, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Platform:  &plat,
		}})
		ix.Images = append(ix.Images, img)
	}
	ix.Index = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	var err error
	if ix.Digest, err = ix.Index.Digest(); err != nil {
		return nil, fmt.Errorf("computing the image index's digest: %w", err)
	}
	if ix.Size, err = ix.Index.Size(); err != nil {
		return nil, fmt.Errorf("computing the image index's size: %w", err)
	}
	return ix, nil
}

// Compose is one part's image, its platform checked against its binary: the
// image of a single-platform build that is composed rather than loaded (BuildKit).
func Compose(s Spec, part Part) (Image, error) {
	got, err := platform.FromELF(part.Binary)
	if err != nil {
		return Image{}, fmt.Errorf("the %s binary for %s: %w", s.Binary, part.Platform, err)
	}
	if got != part.Platform {
		return Image{}, fmt.Errorf("the %s binary built for %s is a %s binary (its ELF header says %v): the build used the wrong target or linker",
			s.Binary, part.Platform, got, got.Machine)
	}
	if part.Base == nil {
		return Image{}, fmt.Errorf("no runtime image for %s", part.Platform)
	}
	img, err := image.Compose(part.Base, image.Spec{
		Binary: s.Binary, Base: s.Base, Created: s.Created, Labels: s.Labels, UserLabels: s.UserLabels,
	}, part.Binary, got.OCI())
	if err != nil {
		return Image{}, fmt.Errorf("the %s image: %w", part.Platform, err)
	}
	out := Image{Platform: got, Image: img, BinarySize: int64(len(part.Binary))}
	if out.Digest, err = img.Digest(); err != nil {
		return Image{}, fmt.Errorf("the %s image's digest: %w", part.Platform, err)
	}
	if out.ConfigDigest, err = img.ConfigName(); err != nil {
		return Image{}, fmt.Errorf("the %s image's config digest: %w", part.Platform, err)
	}
	return out, nil
}

// For is the image of platform p, for loading the daemon's own platform into the
// daemon when nothing is pushed; false when the index has none.
func (ix *Index) For(p platform.Platform) (Image, bool) {
	for _, img := range ix.Images {
		if img.Platform == p {
			return img, true
		}
	}
	return Image{}, false
}

// Replace makes idx the index's manifest, in place of the one Build made: the
// same images with more beside them (their attestation manifests, see
// internal/attest), so that Digest, Size and what is pushed or written are
// idx's. Images stay as they are.
func (ix *Index) Replace(idx v1.ImageIndex) error {
	d, err := idx.Digest()
	if err != nil {
		return fmt.Errorf("computing the image index's digest: %w", err)
	}
	size, err := idx.Size()
	if err != nil {
		return fmt.Errorf("computing the image index's size: %w", err)
	}
	ix.Index, ix.Digest, ix.Size = idx, d, size
	return nil
}
