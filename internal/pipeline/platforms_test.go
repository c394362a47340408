package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

const (
	x86Target = "x86_64-unknown-linux-musl"
	armTarget = "aarch64-unknown-linux-musl"
)

func lookup(t *testing.T, name string) platform.Platform {
	t.Helper()
	p, err := platform.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeBases is a runtime image in a registry: a random image for each platform
// it has; another is index.Bases' bad input.
func fakeBases(t *testing.T, has ...string) baseReader {
	return func(_ context.Context, ref string, ps []platform.Platform, o index.BaseOptions) ([]v1.Image, error) {
		var images []v1.Image
		for _, p := range ps {
			if !slices.Contains(has, p.String()) {
				e := &index.MissingPlatformError{Base: ref, Missing: []platform.Platform{p}}
				return nil, &config.InputError{Name: o.Naming("runtime-image"), Problem: e.Error(), Err: e}
			}
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			images = append(images, img)
		}
		return images, nil
	}
}

// platformsPlan is a two-platform build on a custom builder, arm64 first.
func platformsPlan(t *testing.T) *plan.Plan {
	t.Helper()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", t.TempDir()
	cfg.Builder, cfg.RuntimeImage = "example.org/builder:1", "example.org/base:1"
	cfg.Platforms = []platform.Platform{lookup(t, "linux/arm64"), lookup(t, "linux/amd64")}
	return testPlan(t, cfg)
}

// A builder without a platform's target is bad input naming the builder and the
// targets it has, found before any container is created or image pulled; a base
// without a platform is found in the same run and reported with it. A builder
// with every target goes on with the targets, the primary one first, the bases
// read from the registry, none pulled into the daemon, and the C libraries its
// label names.
func TestPreparePlatforms(t *testing.T) {
	t.Parallel()
	protocol := strconv.Itoa(tmpimage.ScriptsProtocol)
	tests := []struct {
		name    string
		labels  map[string]string
		bases   []string // the platforms the runtime image has
		want    []string // in the error; none when accepted
		notWant string
	}{
		{"builder without arm64", map[string]string{tmpimage.LabelTarget: x86Target, tmpimage.LabelTargets: x86Target},
			[]string{"linux/amd64", "linux/arm64"},
			[]string{"--builder: builder image example.org/builder:1 serves only x86_64-unknown-linux-musl, not linux/arm64 (aarch64-unknown-linux-musl) asked for by --platforms"},
			"runtime-image"},
		{"a builder from before the targets label", map[string]string{tmpimage.LabelTarget: x86Target},
			[]string{"linux/amd64", "linux/arm64"}, []string{"serves only x86_64-unknown-linux-musl, not linux/arm64"}, ""},
		{"base without arm64 too", map[string]string{tmpimage.LabelTarget: x86Target, tmpimage.LabelTargets: x86Target},
			[]string{"linux/amd64"},
			[]string{"--builder: builder image example.org/builder:1 serves only x86_64-unknown-linux-musl", "--runtime-image: example.org/base:1 has no image for linux/arm64"},
			""},
		{"base without arm64 alone", map[string]string{tmpimage.LabelTarget: x86Target, tmpimage.LabelTargets: x86Target + " " + armTarget},
			[]string{"linux/amd64"}, []string{"--runtime-image: example.org/base:1 has no image for linux/arm64"}, "--builder"},
		{"builder with both", map[string]string{tmpimage.LabelTarget: x86Target, tmpimage.LabelTargets: x86Target + " " + armTarget,
			tmpimage.LabelCLibs: "zlib=1.3.1 openssl=3.0.17"},
			[]string{"linux/amd64", "linux/arm64"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pl := platformsPlan(t)
			tc.labels[tmpimage.LabelScriptsProtocol] = protocol
			e := &protocolEngine{fakeEngine: &fakeEngine{images: map[string]client.ImageInspectResult{
				pl.Builder: fakeImage("sha256:b", "amd64", tc.labels),
			}}}
			log, rep := &strings.Builder{}, &memReport{}
			s := &prepareStage{logs: logs{Report: rep, Log: log}, e: e, bases: fakeBases(t, tc.bases...)}
			st, err := s.Prepare(t.Context(), pl)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Prepare = %v, want the build to go on", err)
				}
				if st.Target != armTarget || !slices.Equal(st.Targets, []string{armTarget, x86Target}) ||
					len(st.Bases) != 2 || !strings.Contains(st.RuntimeID, "linux/arm64=sha256:") {
					t.Errorf("state: target %q, targets %q, %d bases, runtime %q", st.Target, st.Targets, len(st.Bases), st.RuntimeID)
				}
				if got := st.CLibs.String(); got != "openssl=3.0.17 zlib=1.3.1" {
					t.Errorf("state: C libraries %q, want the builder's label's", got)
				}
				if len(e.pulls) != 0 {
					t.Errorf("pulled %q into the daemon, want the bases read from the registry", e.pulls)
				}
				read := "runtime image: example.org/base:1, read from its registry for linux/arm64,linux/amd64 in "
				if len(rep.facts) != 2 || !strings.HasPrefix(rep.facts[1], read) || !strings.HasSuffix(rep.facts[1], ", not pulled into the engine") {
					t.Errorf("facts %q, want the builder's, then the runtime image's, read", rep.facts)
				}
				return
			}
			var ie *config.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Prepare = %v, want bad input", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Prepare = %v,\nwant %q in it", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("Prepare = %v, want nothing of %q", err, tc.notWant)
			}
			if len(e.pulls) != 0 || e.created != 0 {
				t.Errorf("refused, yet pulled %q and created %d containers; want neither", e.pulls, e.created)
			}
		})
	}
}

// The target/ entry's key names the set of targets, sorted, when a build has more
// than one: in either order the same, and neither target's alone. A
// single-platform build's key is as it was, and one platform is keyed as its
// target alone, so that each finds the other's state.
func TestCacheKeyNamesTargets(t *testing.T) {
	t.Parallel()
	s := &cacheStage{logs: logs{Report: &memReport{}}}
	pl := testPlan(t, config.Config{Binary: "hello", Source: t.TempDir()})
	key := func(st State) string {
		return cache.Primary(cache.EntryTarget, s.keyParts(pl, cacheTarget(st), Toolchain{Release: "1.96.0", Key: "k"}))
	}
	single := key(State{Target: x86Target})
	if !strings.Contains(single, "-target-hello-"+x86Target+"-1.96.0-") {
		t.Errorf("single-platform key %q, want it to name %s as before", single, x86Target)
	}
	if one := key(State{Target: x86Target, Targets: []string{x86Target}}); one != single {
		t.Errorf("one platform's key %q, want the single-platform build's %q", one, single)
	}
	both := key(State{Target: armTarget, Targets: []string{armTarget, x86Target}})
	if !strings.Contains(both, "-target-hello-"+armTarget+"+"+x86Target+"-1.96.0-") {
		t.Errorf("two platforms' key %q, want it to name both targets, sorted", both)
	}
	if other := key(State{Target: x86Target, Targets: []string{x86Target, armTarget}}); other != both {
		t.Errorf("the same targets in another order give %q and %q", other, both)
	}
	if both == single || both == key(State{Target: armTarget}) {
		t.Errorf("two platforms share a key with one: %q", both)
	}
	if reg := cache.Primary(cache.EntryRegistry, s.keyParts(pl, cacheTarget(State{Target: armTarget, Targets: []string{armTarget, x86Target}}), Toolchain{})); reg != cache.Primary(cache.EntryRegistry, s.keyParts(pl, x86Target, Toolchain{})) {
		t.Errorf("the registry entry's key %q depends on the targets", reg)
	}
}

// The unchanged-input digest of a multi-platform build names its platforms, and
// the single-platform digest is unchanged by their existence.
func TestInputsDigestNamesPlatforms(t *testing.T) {
	t.Parallel()
	multi := platformsPlan(t)
	single, swapped := *multi, *multi
	single.Platforms = nil
	swapped.Platforms = []platform.Platform{multi.Platforms[1], multi.Platforms[0]}
	digest := func(pl *plan.Plan) string {
		d, err := inputsDigest(pl, x86Target, "tc", "runtime", time.Unix(0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d1, d2, d3 := digest(&single), digest(multi), digest(&swapped); d1 == d2 || d2 == d3 || d1 == d3 {
		t.Errorf("digests %s, %s, %s: want one per platform list, in its order (the index's)", d1, d2, d3)
	}
}

// A registry's refusal of the credentials says how to give them; other errors
// pass as they are.
func TestWithLoginHint(t *testing.T) {
	t.Parallel()
	refused := fmt.Errorf("pushing: %w", &transport.Error{StatusCode: http.StatusUnauthorized})
	if err := withLoginHint(refused); !errors.Is(err, refused) || !strings.Contains(err.Error(), registry.Hint) {
		t.Errorf("withLoginHint(401) = %v, want the hint", err)
	}
	other := errors.New("connection refused")
	if err := withLoginHint(other); err != other {
		t.Errorf("withLoginHint(other) = %v", err)
	}
	if withLoginHint(nil) != nil {
		t.Error("withLoginHint(nil) is an error")
	}
}
