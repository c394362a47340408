package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder/layers"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/human"
)

// PublishEngine is the part of the Docker client that publishing the builder
// needs: its config, and its filesystem through a container that never starts.
type PublishEngine interface {
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	engine.Containers
	ContainerExport(ctx context.Context, containerID string, options client.ContainerExportOptions) (client.ContainerExportResult, error)
}

// PublishOptions say which image to publish, and where.
type PublishOptions struct {
	Image string // the builder image in the daemon
	// Gzip and Zstd are the tags to push the image to with gzip layers and with
	// zstd layers.
	Gzip, Zstd string
	Keychain   authn.Keychain // each registry's login; nil is anonymous
	TempDir    string         // where the layers are written; "" is the system's
}

// Published is what Publish pushed: the layers, and each variant's reference and
// manifest digest, gzip first.
type Published struct {
	Layers []layers.Layer
	Pushed []Pushed
}

// Pushed is one variant pushed.
type Pushed struct {
	Ref         string
	Digest      string
	Compression compression.Compression
}

// Publish pushes the builder image, flattened and split into the layers of
// layers.Parts, twice: with gzip layers to o.Gzip, which every engine pulls, and
// with zstd layers to o.Zstd, which Docker Engine 23 and later pull. The daemon's
// layers are those of the Dockerfile's steps, of which a toolchain bump rebuilds
// nearly all; these change only with the files in them (see package layers).
// progress gets a line per step.
func Publish(ctx context.Context, e PublishEngine, o PublishOptions, progress io.Writer) (Published, error) {
	tags := map[compression.Compression]name.Tag{}
	for c, ref := range map[compression.Compression]string{compression.GZip: o.Gzip, compression.ZStd: o.Zstd} {
		t, err := name.NewTag(ref, name.StrictValidation)
		if err != nil {
			return Published{}, fmt.Errorf("publishing builder image: %q is not a tag: %w", ref, err)
		}
		tags[c] = t
	}
	in, err := e.ImageInspect(ctx, o.Image)
	if err != nil {
		return Published{}, fmt.Errorf("inspecting builder image %s: %w", o.Image, err)
	}
	start := time.Now()
	fmt.Fprintf(progress, "flattening %s and cutting it into layers\n", o.Image)
	set, err := flatten(ctx, e, o.Image, o.TempDir)
	if err != nil {
		return Published{}, err
	}
	defer set.Close()
	fmt.Fprintf(progress, "cut %s into %d layers in %s\n", o.Image, len(set.Layers), human.Duration(time.Since(start)))

	kc := o.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	out := Published{Layers: set.Layers}
	cfg := imageConfig(in)
	for _, c := range []compression.Compression{compression.GZip, compression.ZStd} {
		tag := tags[c]
		img, err := set.Image(cfg, c)
		if err != nil {
			return out, fmt.Errorf("assembling builder image %s: %w", tag, err)
		}
		start := time.Now()
		fmt.Fprintf(progress, "pushing %s (%s layers)\n", tag, c)
		if err := remote.Write(tag, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)); err != nil {
			return out, withLoginHint(fmt.Errorf("pushing builder image %s: %w", tag, err), tag)
		}
		d, err := img.Digest()
		if err != nil {
			return out, fmt.Errorf("digest of builder image %s: %w", tag, err)
		}
		fmt.Fprintf(progress, "pushed %s@%s in %s\n", tag, d, human.Duration(time.Since(start)))
		out.Pushed = append(out.Pushed, Pushed{Ref: tag.String(), Digest: d.String(), Compression: c})
	}
	return out, nil
}

// flatten exports the image's filesystem, one tar with no whiteouts, through a
// container that is created and never started, and splits it into layers.
func flatten(ctx context.Context, e PublishEngine, image, tmp string) (*layers.Set, error) {
	var set *layers.Set
	// The entrypoint is never run; it only lets the daemon create a container from
	// an image that names no command.
	opts := client.ContainerCreateOptions{Image: image, Config: &container.Config{Entrypoint: []string{"/nonexistent"}}}
	err := engine.WithContainer(ctx, e, opts, func(id string) error {
		r, err := e.ContainerExport(ctx, id, client.ContainerExportOptions{})
		if err != nil {
			return fmt.Errorf("exporting the filesystem: %w", err)
		}
		defer r.Close()
		set, err = layers.Split(ctx, r, layers.Parts(), tmp)
		return err
	})
	if err != nil {
		set.Close() // the container's removal may have failed after the split
		return nil, fmt.Errorf("flattening builder image %s: %w", image, err)
	}
	return set, nil
}

// imageConfig is what the published image keeps of the builder's config (see
// layers.Set.Image).
func imageConfig(in client.ImageInspectResult) v1.ConfigFile {
	cf := v1.ConfigFile{OS: in.Os, Architecture: in.Architecture, Variant: in.Variant}
	if c := in.Config; c != nil {
		cf.Config = v1.Config{
			Env: c.Env, Labels: c.Labels, User: c.User, WorkingDir: c.WorkingDir,
			Cmd: c.Cmd, Entrypoint: c.Entrypoint, StopSignal: c.StopSignal,
			ExposedPorts: c.ExposedPorts, Volumes: c.Volumes,
		}
	}
	return cf
}

// withLoginHint says how to log in when the registry refused the push or wanted
// credentials: this command reads the Docker config's logins, not the build's
// registry settings.
func withLoginHint(err error, tag name.Tag) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w (log in with docker login %s: the Docker config's logins and credential helpers are used)", err, tag.RegistryStr())
	}
	return err
}
