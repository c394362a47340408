package index

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MetadataPlatforms is the metadata key of the per-platform entries. BuildKit's
// metadata has none (moby/buildkit#4080 asks for one), so the key is this
// program's own, out of the containerimage.* names BuildKit may yet take.
const MetadataPlatforms = "rust-s2i.platforms"

// Metadata is the metadata output of a multi-platform build, in
// docker/build-push-action's keys where it has them, for multi-platform builds:
//
//	containerimage.digest      the index's digest (as buildx gives it)
//	containerimage.descriptor  the index's descriptor: mediaType, digest, size
//	image.name                 the names, comma-separated
//	rust-s2i.platforms         by platform (linux/arm64): that image's
//	                           containerimage.digest, containerimage.config.digest
//	                           and binary.size
//
// containerimage.config.digest is not at the top: an index has no config, and
// buildx leaves it out of a multi-platform build's metadata too. A map by platform
// reads well in a workflow expression:
// fromJSON(steps.build.outputs.metadata)['rust-s2i.platforms']['linux/arm64']['containerimage.digest'].
// encoding/json writes map keys sorted, so the same index gives the same text.
func (ix *Index) Metadata(names []string) ([]byte, error) {
	type platformEntry struct {
		Digest       string `json:"containerimage.digest"`
		ConfigDigest string `json:"containerimage.config.digest"`
		BinarySize   int64  `json:"binary.size"`
	}
	perPlatform := map[string]platformEntry{}
	for _, img := range ix.Images {
		perPlatform[img.Platform.String()] = platformEntry{
			Digest: img.Digest.String(), ConfigDigest: img.ConfigDigest.String(), BinarySize: img.BinarySize,
		}
	}
	mt, err := ix.Index.MediaType()
	if err != nil {
		return nil, fmt.Errorf("the image index's media type: %w", err)
	}
	return json.Marshal(map[string]any{
		"containerimage.digest":     ix.Digest.String(),
		"containerimage.descriptor": v1.Descriptor{MediaType: mt, Digest: ix.Digest, Size: ix.Size},
		"image.name":                strings.Join(names, ","),
		MetadataPlatforms:           perPlatform,
	})
}

// Row is one platform's line of the job summary, as plain data for internal/ci to
// render: the platform, its binary's size and its image's manifest digest.
type Row struct {
	Platform   string // linux/arm64
	BinarySize int64  // bytes
	Digest     string // the image manifest's, sha256:...
}

// Rows are the summary's lines, one per platform in the order built.
func (ix *Index) Rows() []Row {
	rows := make([]Row, len(ix.Images))
	for i, img := range ix.Images {
		rows[i] = Row{Platform: img.Platform.String(), BinarySize: img.BinarySize, Digest: img.Digest.String()}
	}
	return rows
}

func sortedKeys[M ~map[string]V, V any](m M) []string { return slices.Sorted(maps.Keys(m)) }
