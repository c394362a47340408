package index

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotation keys of the layout's index.json entry, as BuildKit's oci exporter
// writes them: the tag, which skopeo (oci:DIR:TAG) and oras look a manifest up
// by, and the full name, containerd's.
const (
	annotationRefName   = "org.opencontainers.image.ref.name"
	annotationImageName = "io.containerd.image.name"
)

// WriteLayout writes the index to dir as an OCI image layout: the blobs of every
// platform's image, and an index.json with one entry, the image index, named by
// the image's name ref (NAME[:TAG]). That is the shape BuildKit's oci exporter
// writes and the one the common tools push from as it is: `skopeo copy --all
// oci:DIR docker://REF`, `crane push DIR REF`, `oras cp --from-oci-layout DIR REF`.
// An earlier layout in dir has its index.json replaced; blobs it shares stay.
func WriteLayout(dir string, ix *Index, ref string) error {
	return writeLayout(dir, mutate.IndexAddendum{Add: ix.Index, Descriptor: v1.Descriptor{MediaType: types.OCIImageIndex}}, ref)
}

// WriteImageLayout writes one image to dir as WriteLayout writes an index: the
// final image of a single-platform build, with oci-output set, named by ref.
func WriteImageLayout(dir string, img v1.Image, ref string) error {
	mt, err := img.MediaType()
	if err != nil {
		return fmt.Errorf("reading image %s: %w", ref, err)
	}
	return writeLayout(dir, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: mt}}, ref)
}

// writeLayout writes add, an image index or an image, to dir as the one entry of
// its index.json, annotated with ref's name and tag.
func writeLayout(dir string, add mutate.IndexAddendum, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image name %q: %w", ref, err)
	}
	add.Descriptor.Annotations = map[string]string{
		annotationRefName:   tag.TagStr(),
		annotationImageName: tag.Name(),
	}
	top := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), add)
	if _, err := layout.Write(dir, top); err != nil {
		return fmt.Errorf("writing the OCI image layout %s: %w", dir, err)
	}
	return nil
}
