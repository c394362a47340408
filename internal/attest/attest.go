// Package attest attaches in-toto statements (SBOM, provenance) to images in
// BuildKit's attestation layout, the one `docker buildx imagetools inspect`,
// Docker Scout and build-push-action's users read: next to each image manifest in
// the index, an attestation manifest whose layers are the statements, marked so
// that no runtime pulls it as an image.
//
// The layout, from BuildKit's docs/attestations/attestation-storage.md:
//   - the attestation manifest is an OCI image manifest; its config is a minimal
//     image config (os and architecture "unknown") kept for compatibility only;
//   - each layer is one statement, media type application/vnd.in-toto+json, with
//     the annotation in-toto.io/predicate-type;
//   - its descriptor in the index comes after the runnable manifests, with
//     platform unknown/unknown and the annotations vnd.docker.reference.type =
//     attestation-manifest and vnd.docker.reference.digest = the image's digest.
package attest

import (
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
)

// The names BuildKit's layout uses.
const (
	InTotoMediaType         types.MediaType = "application/vnd.in-toto+json"
	PredicateTypeAnnotation                 = "in-toto.io/predicate-type"
	RefTypeAnnotation                       = "vnd.docker.reference.type"
	RefDigestAnnotation                     = "vnd.docker.reference.digest"
	AttestationManifestType                 = "attestation-manifest"
)

// ErrAttached means the index already holds an attestation manifest for an image
// the caller gives statements for: a second one would leave readers to pick.
var ErrAttached = errors.New("attest: image already has an attestation manifest")

// unknownPlatform keeps runtimes from selecting the attestation manifest.
func unknownPlatform() *v1.Platform { return &v1.Platform{OS: "unknown", Architecture: "unknown"} }

// Attach returns idx with an attestation manifest for each image digest that has
// statements, in the order of the images in idx (not map order), so the same
// input gives the same index digest. Every statement must have the image's
// digest among its subjects. A Docker manifest list becomes an OCI index, since
// the attestation manifests are OCI manifests.
func Attach(idx v1.ImageIndex, statements map[v1.Hash][]intoto.Statement) (v1.ImageIndex, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	var images []v1.Hash
	attached := map[string]bool{}
	for _, d := range im.Manifests {
		if d.Annotations[RefTypeAnnotation] == AttestationManifestType {
			attached[d.Annotations[RefDigestAnnotation]] = true
		} else if !slices.Contains(images, d.Digest) {
			images = append(images, d.Digest)
		}
	}
	if err := checkTargets(images, statements); err != nil {
		return nil, err
	}
	var adds []mutate.IndexAddendum
	for _, d := range images {
		sts := statements[d]
		if len(sts) == 0 {
			continue
		}
		if attached[d.String()] {
			return nil, fmt.Errorf("%w: %s", ErrAttached, d)
		}
		add, err := addendum(d, sts)
		if err != nil {
			return nil, err
		}
		adds = append(adds, add)
	}
	out := mutate.AppendManifests(idx, adds...)
	if mt, err := idx.MediaType(); err == nil && mt == types.DockerManifestList {
		out = mutate.IndexMediaType(out, types.OCIImageIndex)
	}
	return out, nil
}

// checkTargets refuses statements for a digest that is no image of the index.
func checkTargets(images []v1.Hash, statements map[v1.Hash][]intoto.Statement) error {
	var missing []string
	for d := range statements {
		if !slices.Contains(images, d) {
			missing = append(missing, d.String())
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("attest: statements for %v, which the index does not hold", missing)
	}
	return nil
}

func addendum(d v1.Hash, sts []intoto.Statement) (mutate.IndexAddendum, error) {
	att, err := Manifest(d, sts)
	if err != nil {
		return mutate.IndexAddendum{}, err
	}
	return mutate.IndexAddendum{
		Add: att,
		Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Platform:  unknownPlatform(),
			Annotations: map[string]string{
				RefTypeAnnotation:   AttestationManifestType,
				RefDigestAnnotation: d.String(),
			},
		},
	}, nil
}

// Manifest returns the attestation manifest of the image with digest d: one
// in-toto layer per statement, in the order given.
func Manifest(d v1.Hash, sts []intoto.Statement) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	cfg := &v1.ConfigFile{Architecture: "unknown", OS: "unknown", RootFS: v1.RootFS{Type: "layers"}}
	var adds []mutate.Addendum
	for i, st := range sts {
		if !st.Covers(d.String()) {
			return nil, fmt.Errorf("attest: statement %d (%s) is not about %s", i, st.PredicateType, d)
		}
		body, err := st.Marshal()
		if err != nil {
			return nil, fmt.Errorf("attest: %w", err)
		}
		l := static.NewLayer(body, InTotoMediaType)
		diffID, err := l.DiffID()
		if err != nil {
			return nil, fmt.Errorf("attest: %w", err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		adds = append(adds, mutate.Addendum{Layer: l, Annotations: map[string]string{PredicateTypeAnnotation: st.PredicateType}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	// Set the config last: Append would add an empty history entry per layer,
	// which BuildKit's attestation configs do not have.
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	return img, nil
}

// AttachImage puts a single-platform image in an OCI index with its attestation
// manifest: a plain image manifest has no place for one. platform nil means the
// image config's.
func AttachImage(img v1.Image, platform *v1.Platform, sts []intoto.Statement) (v1.ImageIndex, error) {
	if platform == nil {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("attest: %w", err)
		}
		p := cf.Platform()
		if p == nil {
			return nil, errors.New("attest: image config names no platform")
		}
		platform = p
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform}})
	return Attach(idx, map[v1.Hash][]intoto.Statement{d: sts})
}
