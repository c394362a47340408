package pipeline

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
)

// publishEngine is the part of the Docker client the publish stage uses.
type publishEngine interface {
	ImageTag(ctx context.Context, options client.ImageTagOptions) (client.ImageTagResult, error)
	registry.Engine
	image.Loader  // an image index's daemon platform, without push
	daemon.Client // reading the final image back for the OCI output
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
}

// publishStage names the final image and pushes it.
type publishStage struct {
	logs
	e publishEngine
}

// Publish implements Publisher. The first name is the package stage's. An image
// index has no image in the daemon yet: publishIndex.
func (s *publishStage) Publish(ctx context.Context, pl *plan.Plan, res *Result) error {
	if res.Index != nil {
		return s.publishIndex(ctx, pl, res)
	}
	for _, name := range res.Tags[1:] {
		if _, err := s.e.ImageTag(ctx, client.ImageTagOptions{Source: res.ImageID, Target: name}); err != nil {
			return fmt.Errorf("tagging %s: %w", name, err)
		}
	}
	if pl.OCIOutput != "" {
		if err := s.writeOCI(ctx, pl, res); err != nil {
			return err
		}
	}
	if pl.Push {
		return s.push(ctx, pl, res)
	}
	return nil
}

// writeOCI writes the final image, read back from the daemon, to the OCI output:
// oci-output without platforms keeps the one image there, as it keeps an index.
func (s *publishStage) writeOCI(ctx context.Context, pl *plan.Plan, res *Result) error {
	tag, err := name.NewTag(res.Image)
	if err != nil {
		return fmt.Errorf("image name %q: %w", res.Image, err)
	}
	img, err := daemon.Image(tag, daemon.WithClient(s.e), daemon.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("reading %s from the daemon for %s: %w", res.Image, pl.Naming("oci-output"), err)
	}
	if err := index.WriteImageLayout(pl.OCIOutput, img, res.Image); err != nil {
		return err
	}
	fmt.Fprintf(s.Log, "wrote %s to %s as an OCI image layout\n", res.Image, pl.OCIOutput)
	return nil
}

// push sends the final image to its registries and records the digest. Never the
// -tmp image: it holds the source.
func (s *publishStage) push(ctx context.Context, pl *plan.Plan, res *Result) error {
	defer s.Report.Phase("push")()
	for _, name := range res.Tags {
		auth, err := pl.Logins.For(name)
		if err != nil {
			return err
		}
		digest, err := registry.Push(ctx, s.e, name, auth, s.Log)
		if err != nil {
			return err
		}
		if digest, err = s.attachPushed(ctx, pl, res, name, digest); err != nil {
			return err
		}
		switch {
		case res.Digest == "":
			res.Digest = digest
		case digest != res.Digest:
			// Two registries may store one image differently (compressed anew).
			s.Report.Warn("%s has the digest %s, %s has %s", res.Tags[0], res.Digest, name, digest)
		}
	}
	return nil
}

// attachPushed gives the image the daemon just pushed as ref (manifest digest
// digest) its attestations, as BuildKit pushes a single-platform image with them:
// an OCI index of the image and its attestation manifest goes under ref, and its
// digest, returned, is the digest output. The image itself stays the daemon's
// push, byte for byte; the index only names it. Without statements (sbom and
// provenance off, or neither could be made) ref keeps the image and digest is
// returned as it came.
func (s *publishStage) attachPushed(ctx context.Context, pl *plan.Plan, res *Result, ref, digest string) (string, error) {
	if res.Supply == nil || len(res.Supply.Parts) != 1 {
		return digest, nil
	}
	d, err := v1.NewHash(digest)
	if err != nil {
		return "", fmt.Errorf("the digest %q of %s: %w", digest, ref, err)
	}
	sts, problem := res.Supply.Statements(pl, 0, d)
	if problem != nil && res.Digest == "" { // once, at the first name
		s.Report.Warn("%v", problem)
	}
	if len(sts) == 0 {
		return digest, nil
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", fmt.Errorf("image name %q: %w", ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(pl.Logins.Keychain())}
	img, err := remote.Image(tag.Context().Digest(digest), opts...)
	if err != nil {
		return "", withLoginHint(fmt.Errorf("reading back %s@%s to attach its attestations: %w", tag.Context(), digest, err))
	}
	idx, err := attest.AttachImage(img, nil, sts)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(tag, idx, opts...); err != nil {
		return "", withLoginHint(fmt.Errorf("pushing the attestations of %s: %w", ref, err))
	}
	id, err := idx.Digest()
	if err != nil {
		return "", fmt.Errorf("the digest of the index of %s: %w", ref, err)
	}
	fmt.Fprintf(s.Log, "pushed %s as an index %s of the image %s and its attestations\n", ref, id, digest)
	return id.String(), nil
}
