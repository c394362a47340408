package pipeline

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/moby/moby/client"

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
