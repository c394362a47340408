package config

import (
	"errors"
	"fmt"

	"github.com/distribution/reference"
)

// ZstdSuffix is what a builder's tag gets for its variant of zstd layers:
// `builder --push REF` pushes gzip layers to REF, which every engine pulls, and
// zstd ones to REF's tag with this suffix (ghcr.io/o/builder:stable-zstd), which
// Docker Engine 23 and later pull; the build pulls the default builder's zstd
// variant when its engine can take it.
const ZstdSuffix = "-zstd"

// ZstdVariant is the reference of ref's zstd variant: its tag (latest when it
// names none) with ZstdSuffix. A reference by digest has none: the digest is of
// the gzip variant's manifest, which no tag can be derived from.
func ZstdVariant(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	if _, ok := named.(reference.Digested); ok {
		return "", errors.New("names a digest; a tag is needed, to push the zstd variant under the tag with " + ZstdSuffix)
	}
	tagged := reference.TagNameOnly(named).(reference.Tagged)
	z, err := reference.WithTag(reference.TrimNamed(named), tagged.Tag()+ZstdSuffix)
	if err != nil {
		return "", fmt.Errorf("has a tag too long to add %s to: %w", ZstdSuffix, err)
	}
	return reference.FamiliarString(z), nil
}
