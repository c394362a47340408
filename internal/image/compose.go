package image

import (
	"bytes"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Compose is the final image built without a daemon, for a registry or an OCI
// layout (one platform of a multi-platform index): base's layers as they are, and
// one more holding bin, under the config Package writes (finalConfig: the same
// labels, entrypoint, user and history), in OCI media types. Of the Spec it reads
// Binary, Base (the base's name, for its label), Created, Labels and UserLabels.
//
// plat is what the config says the image runs on: the caller reads it from the
// binary's ELF header (platform.FromELF), as Package does, so that the image says
// what its binary is. The base's manifest digest is its base.digest label.
//
// The result depends on nothing but its inputs: the same base, binary and Spec
// give the same manifest digest on any machine running the same version of this
// program (the layer's gzip stream is Go's, which is deterministic).
func Compose(base v1.Image, s Spec, bin []byte, plat v1.Platform) (v1.Image, error) {
	baseCF, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of runtime image %s: %w", s.Base, err)
	}
	baseDigest, err := base.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading the digest of runtime image %s: %w", s.Base, err)
	}
	top, err := binaryLayer(s.Binary, bin, s.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(top.raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("compressing the binary's layer: %w", err)
	}
	adds, err := ociLayers(base, s.Base)
	if err != nil {
		return nil, err
	}
	adds = append(adds, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})

	cf := finalConfig(baseCF, s, plat.Architecture, top.diffID, baseDigest.String())
	cf.OS, cf.Variant = plat.OS, plat.Variant
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, fmt.Errorf("adding the layers of runtime image %s: %w", s.Base, err)
	}
	// The config replaces the one Append made: its diff IDs are the same layers'.
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("writing the image config: %w", err)
	}
	return img, nil
}

// ociLayers are base's layers to append in an OCI manifest: the same blobs, their
// Docker media types named as OCI's (the bytes are the same; a manifest that
// mixes the two is one some registries refuse).
func ociLayers(base v1.Image, name string) ([]mutate.Addendum, error) {
	layers, err := base.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the layers of runtime image %s: %w", name, err)
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("reading the layers of runtime image %s: %w", name, err)
		}
		switch mt {
		case types.DockerLayer:
			mt = types.OCILayer
		case types.DockerUncompressedLayer:
			mt = types.OCIUncompressedLayer
		case types.DockerForeignLayer:
			mt = types.OCIRestrictedLayer
		}
		adds[i] = mutate.Addendum{Layer: l, MediaType: mt}
	}
	return adds, nil
}
