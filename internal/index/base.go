package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// BaseOptions say how Bases reaches the runtime image's registry and names the
// setting in errors.
type BaseOptions struct {
	Keychain authn.Keychain // nil is anonymous
	// Naming names the runtime-image setting in the front end's words; nil is
	// config.InputNaming.
	Naming config.Naming
}

// Bases is the runtime base of each platform, in the order given, read from the
// registry: ref is usually a multi-arch index (alpine:3), whose image for each
// platform is taken; a single image serves only the platform it is for. A base
// lacking a platform is a *config.InputError naming the base, the platforms it
// lacks and those it has (its Err a *MissingPlatformError): bad input, found
// before anything is built.
func Bases(ctx context.Context, ref string, ps []platform.Platform, o BaseOptions) ([]v1.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("runtime image %q: %w", ref, err)
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain() // anonymous
	}
	desc, err := remote.Get(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc))
	if err != nil {
		return nil, fmt.Errorf("reading runtime image %s from its registry: %w", ref, err)
	}
	var have []v1.Platform
	var pick func(v1.Platform) (v1.Image, bool, error)
	if desc.MediaType.IsIndex() {
		have, pick, err = fromIndex(desc)
	} else {
		have, pick, err = fromImage(desc)
	}
	if err != nil {
		return nil, fmt.Errorf("reading runtime image %s: %w", ref, err)
	}
	images := make([]v1.Image, len(ps))
	var missing []platform.Platform
	for i, p := range ps {
		img, ok, err := pick(p.OCI())
		switch {
		case err != nil:
			return nil, fmt.Errorf("reading the %s image of runtime image %s: %w", p, ref, err)
		case !ok:
			missing = append(missing, p)
		}
		images[i] = img
	}
	if len(missing) > 0 {
		naming := o.Naming
		if naming == nil {
			naming = config.InputNaming
		}
		e := &MissingPlatformError{Base: ref, Missing: missing, Has: have}
		return nil, &config.InputError{Name: naming("runtime-image"), Problem: e.Error(), Err: e}
	}
	return images, nil
}

// fromIndex lists the platforms of an index's images and picks one: the image
// whose platform is the one asked for, else the first that satisfies it
// (linux/arm64 asked, linux/arm64/v8 listed, as alpine lists it).
func fromIndex(desc *remote.Descriptor) ([]v1.Platform, func(v1.Platform) (v1.Image, bool, error), error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	var have []v1.Platform
	var images []v1.Descriptor
	for _, m := range im.Manifests {
		if m.Platform != nil && m.MediaType.IsImage() {
			have = append(have, *m.Platform)
			images = append(images, m)
		}
	}
	pick := func(want v1.Platform) (v1.Image, bool, error) {
		best := -1
		for i, m := range images {
			if m.Platform.Equals(want) {
				best = i
				break
			}
			if best < 0 && m.Platform.Satisfies(want) {
				best = i
			}
		}
		if best < 0 {
			return nil, false, nil
		}
		img, err := idx.Image(images[best].Digest)
		return img, err == nil, err
	}
	return have, pick, nil
}

// fromImage is a single image's platform, from its config, and the image itself
// for that platform only.
func fromImage(desc *remote.Descriptor) ([]v1.Platform, func(v1.Platform) (v1.Image, bool, error), error) {
	img, err := desc.Image()
	if err != nil {
		return nil, nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	has := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	pick := func(want v1.Platform) (v1.Image, bool, error) {
		if has.Satisfies(want) {
			return img, true, nil
		}
		return nil, false, nil
	}
	return []v1.Platform{has}, pick, nil
}

// MissingPlatformError is a runtime image without an image for every platform
// asked for.
type MissingPlatformError struct {
	Base    string              // the runtime image, as named
	Missing []platform.Platform // the platforms asked for that it lacks
	Has     []v1.Platform       // the platforms it has
}

func (e *MissingPlatformError) Error() string {
	missing := make([]string, len(e.Missing))
	for i, p := range e.Missing {
		missing[i] = p.String()
	}
	has := make([]string, len(e.Has))
	for i, p := range e.Has {
		has[i] = p.String()
	}
	hasText := "none"
	if len(has) > 0 {
		hasText = strings.Join(has, ", ")
	}
	return fmt.Sprintf("%s has no image for %s (it has %s): pick a runtime image with every platform, such as a multi-arch index",
		e.Base, strings.Join(missing, ", "), hasText)
}
