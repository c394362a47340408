package layers

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is the set's layers in compression c with what the original image's
// config (base) says about running it: its environment, labels, user, working
// directory, command, entrypoint, ports and volumes, and its platform. Created,
// and every layer's history entry, is Epoch, so the same parts give the same
// image, digest and all.
//
// gzip is a Docker schema 2 image, which every engine pulls. zstd is an OCI image
// with zstd layers (application/vnd.oci.image.layer.v1.tar+zstd), which Docker
// Engine 23 and later pull (the layers decompress faster and are smaller); an
// older one fails on them ("archive/tar: invalid tar header"). Both have the same
// diff IDs, so the same config.
func (s *Set) Image(base v1.ConfigFile, c compression.Compression) (v1.Image, error) {
	img := empty.Image
	blob, mt := func(l Layer) Blob { return l.Gzip }, types.DockerLayer
	switch c {
	case compression.GZip:
	case compression.ZStd:
		img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
		blob, mt = func(l Layer) Blob { return l.Zstd }, types.OCILayerZStd
	default:
		return nil, fmt.Errorf("no layers compressed with %s", c)
	}
	adds := make([]mutate.Addendum, len(s.Layers))
	for i, l := range s.Layers {
		layer, err := partial.CompressedToLayer(fileLayer{Blob: blob(l), diffID: l.DiffID, mediaType: mt})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Part, err)
		}
		adds[i] = mutate.Addendum{Layer: layer, History: v1.History{
			Created:   v1.Time{Time: Epoch()},
			CreatedBy: "rust-s2i-musl builder: part " + l.Part,
		}}
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("assembling the image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assembling the image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: Epoch()}
	cf.OS, cf.Architecture, cf.Variant = base.OS, base.Architecture, base.Variant
	cf.Config = carried(base.Config)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assembling the image: %w", err)
	}
	return img, nil
}

// carried is what the image keeps of the original image's config: what running
// the builder depends on. The rest (the build's healthcheck, onbuild, shell, the
// hostname a build set) means nothing to an S2I builder.
func carried(c v1.Config) v1.Config {
	return v1.Config{
		Env:          slices.Clone(c.Env),
		Labels:       maps.Clone(c.Labels),
		User:         c.User,
		WorkingDir:   c.WorkingDir,
		Cmd:          slices.Clone(c.Cmd),
		Entrypoint:   slices.Clone(c.Entrypoint),
		ExposedPorts: maps.Clone(c.ExposedPorts),
		Volumes:      maps.Clone(c.Volumes),
		StopSignal:   c.StopSignal,
	}
}

// fileLayer is a compressed blob whose digests Split took as it wrote the files:
// go-containerregistry needs nothing else to push it, and reads the file only to
// upload it, where a tarball layer would read it again to digest it and
// decompress it to learn its diff ID, once per compression.
type fileLayer struct {
	Blob
	diffID    v1.Hash
	mediaType types.MediaType
}

func (l fileLayer) Digest() (v1.Hash, error)            { return l.Blob.Digest, nil }
func (l fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l fileLayer) Size() (int64, error)                { return l.Blob.Size, nil }
func (l fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.Path) }
