package pipeline

// What a multi-platform build (plan.Plan.Platforms) adds to the prepare stage:
// the builder must serve every platform's target, and the runtime image must
// have an image for every platform. Both are bad input, found before any
// container starts and reported together.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// baseReader reads each platform's runtime base from the runtime image's
// registry, as index.Bases does; a test swaps it for one with no registry.
type baseReader func(ctx context.Context, ref string, ps []platform.Platform, o index.BaseOptions) ([]v1.Image, error)

// preparePlatforms fills in st for a multi-platform build: the targets (the first
// is the primary one, the scripts' RUST_TARGET) and the runtime bases, read from
// the registry rather than pulled into the daemon: the index is composed there.
// A builder that lacks a target and a base that lacks a platform are both
// checked, so that one run reports both.
func (s *prepareStage) preparePlatforms(ctx context.Context, pl *plan.Plan, b client.ImageInspectResult, st *State) error {
	st.Targets = pl.Targets()
	st.Target = st.Targets[0]
	targetsErr := checkTargets(pl, b)
	bases, f, err := s.runtimeBases(ctx, pl)
	if err := errors.Join(targetsErr, err); err != nil {
		return err
	}
	st.Bases, st.fetches = bases, append(st.fetches, f)
	st.RuntimeID, err = basesID(pl.Platforms, bases)
	return err
}

// checkTargets refuses a builder that does not serve the target of every
// platform asked for (its io.rust-s2i.targets label): cargo would fail for want
// of the std only after the build container started, or a build script's C
// compiler would be the host's. Bad input for the builder setting, naming the
// targets the builder has.
func checkTargets(pl *plan.Plan, b client.ImageInspectResult) error {
	has := tmpimage.BuilderTargets(b)
	var missing []string
	for _, p := range pl.Platforms {
		if !slices.Contains(has, p.Target) {
			missing = append(missing, p.String()+" ("+p.Target+")")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hasText := "no target it names (it has neither the " + tmpimage.LabelTargets + " nor the " + tmpimage.LabelTarget + " label)"
	if len(has) > 0 {
		hasText = "only " + strings.Join(has, ", ")
	}
	var all []string
	for _, p := range platform.Supported() {
		all = append(all, p.Target)
	}
	return &config.InputError{Name: pl.Naming("builder"), Problem: fmt.Sprintf(
		"builder image %s serves %s, not %s asked for by %s: use a builder that serves every platform's target "+
			"(the default builder serves %s), or rebuild this one with this rust-s2i-musl: %s",
		pl.Builder, hasText, strings.Join(missing, ", "), pl.Naming("platforms"), strings.Join(all, " and "), rebuildCommand(pl, b))}
}

// runtimeBases reads the runtime image's image for each platform from its
// registry, with the plan's logins, and says how long that took. It reads their
// manifests and configs: the layers are fetched later, when the index is
// composed, and only where it is written.
func (s *prepareStage) runtimeBases(ctx context.Context, pl *plan.Plan) ([]v1.Image, fetch, error) {
	return readBases(ctx, s.logs, s.bases, pl, pl.Platforms)
}

// readBases reads the runtime image's image for each of ps with read (nil:
// index.Bases), as runtimeBases says; the BuildKit stages read a single
// platform's base the same way.
func readBases(ctx context.Context, say logs, read baseReader, pl *plan.Plan, ps []platform.Platform) ([]v1.Image, fetch, error) {
	start := time.Now()
	names := platformNames(ps)
	fmt.Fprintf(say.Log, "reading runtime image %s for %s\n", pl.RuntimeImage, names)
	if read == nil {
		read = index.Bases
	}
	bases, err := read(ctx, pl.RuntimeImage, ps, index.BaseOptions{Keychain: pl.Logins.Keychain(), Naming: pl.Naming})
	f := fetch{what: "runtime image", ref: pl.RuntimeImage, how: gotRead, took: time.Since(start), platforms: names}
	return bases, f, withLoginHint(err)
}

// withLoginHint adds to err, when a registry refused the credentials or wanted
// some (go-containerregistry's 401 and 403), how to give them, as the daemon's
// pulls and pushes say it (registry.Hint).
func withLoginHint(err error) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w (%s)", err, registry.Hint)
	}
	return err
}

// basesID names the runtime bases by their manifest digests, platform by
// platform: what State.RuntimeID is for a single-platform build, an input of the
// final images.
func basesID(ps []platform.Platform, bases []v1.Image) (string, error) {
	parts := make([]string, len(bases))
	for i, b := range bases {
		d, err := b.Digest()
		if err != nil {
			return "", fmt.Errorf("the digest of the %s runtime image: %w", ps[i], err)
		}
		parts[i] = ps[i].String() + "=" + d.String()
	}
	return strings.Join(parts, " "), nil
}

// platformNames is the platforms as the setting writes them: linux/amd64,linux/arm64.
func platformNames(ps []platform.Platform) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ",")
}
