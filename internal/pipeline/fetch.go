package pipeline

// How the prepare stage got each image the build needs, said in the log and the
// job summary: on a fresh CI runner, getting the builder can take longer than
// the build, and whether the runner had it is what explains a slow first phase.

import (
	"fmt"
	"time"

	"github.com/moby/moby/client/pkg/versions"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/human"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
)

// got is how an image came to be there.
type got int

const (
	gotHad      got = iota // the engine had it, and it was not pulled
	gotPulled              // the engine lacked it: pulled
	gotRepulled            // the engine had it, and it was pulled again (pull always)
	gotKept                // the engine had it; pulling it again failed, so the engine's is used
	gotBuilt               // built from the embedded s2i/ files (the default builder, not pullable)
	gotRead                // read from its registry, not pulled into the engine (platforms' bases)
	gotResolved            // resolved and pulled by buildkitd, which keeps its own cache of it
)

// fetch is how the prepare stage got one image, and how long that took: the
// inspect alone when the engine had it, with the pull when it pulled, the build
// too when it built it.
type fetch struct {
	what      string // "builder image", "runtime image"
	ref       string
	how       got
	took      time.Duration
	download  registry.Download // what a pull downloaded (gotPulled, gotRepulled)
	platforms string            // the platforms read (gotRead)
}

// needsPull reports whether ensureImage pulls an image: when the engine lacks
// it, and always with pull always.
func needsPull(have, pullAlways bool) bool { return !have || pullAlways }

// zstdAPIVersion is the Engine API version of Docker Engine 23, the first to
// unpack zstd layers. An older engine fails on them ("archive/tar: invalid tar
// header"), so it gets the gzip ones.
const zstdAPIVersion = "1.42"

// builderPullRef is where the builder is pulled from: the default builder's zstd
// variant (config.ZstdVariant: the same image in zstd layers, smaller and faster
// to unpack) when the engine's API version, as the client negotiated it, is
// zstdAPIVersion or later, and builder itself otherwise; a builder the user
// named is pulled as named, since its registry may have no such variant. An
// unknown version, or one DOCKER_API_VERSION pins lower, gets gzip.
func builderPullRef(builder string, isDefault bool, apiVersion string) string {
	if !isDefault || apiVersion == "" || versions.LessThan(apiVersion, zstdAPIVersion) {
		return builder
	}
	z, err := config.ZstdVariant(builder)
	if err != nil {
		return builder
	}
	return z
}

// pulled is how an image that was pulled came to be there; pullErr is the pull's
// error, which with the image on the engine costs only a warning.
func pulled(have bool, pullErr error) got {
	switch {
	case !have:
		return gotPulled
	case pullErr != nil:
		return gotKept
	default:
		return gotRepulled
	}
}

// part is the name of the prepare phase's part that this fetch took, the same
// whether the image was pulled or not, so that the benchmark's column is one.
func (f fetch) part() string { return "prepare images: " + f.what }

// text says how the image was got: "ghcr.io/o/builder:stable, pulled in 20.5s
// (662.8 MiB downloaded, compressed)".
func (f fetch) text() string {
	took := human.Duration(f.took)
	var how string
	switch f.how {
	case gotHad:
		how = "already on the engine"
	case gotPulled:
		how = "pulled in " + took + downloaded(f.download)
	case gotRepulled:
		how = "on the engine, pulled again (pull always) in " + took + downloaded(f.download)
	case gotKept:
		how = "on the engine; pulling it again (pull always) failed, so that one is used"
	case gotBuilt:
		how = "built from the embedded s2i/ files after the pull failed, " + took + " in all"
	case gotRead:
		how = "read from its registry for " + f.platforms + " in " + took + ", not pulled into the engine"
	case gotResolved:
		how = "resolved and read on buildkitd in " + took
	}
	return f.ref + ", " + how
}

// downloaded says, for after a pull's time, what it downloaded as far as its
// progress messages tell (registry.Download): the registry's compressed sizes,
// a lower bound when some blob's size went unreported, and nothing when they
// do not tell.
func downloaded(d registry.Download) string {
	switch {
	case d.Nothing():
		return " (nothing downloaded)"
	case d.Bytes == 0:
		return ""
	case d.Unsized > 0:
		return fmt.Sprintf(" (at least %s downloaded, compressed; %d blob(s) of unreported size besides)", human.Bytes(d.Bytes), d.Unsized)
	default:
		return " (" + human.Bytes(d.Bytes) + " downloaded, compressed)"
	}
}

// reportFetches says how the prepare stage got its images: each one's time as a
// part of the phase, which has ended, then how, as a fact.
func reportFetches(r Reporter, fs []fetch) {
	for _, f := range fs {
		r.Record(f.part(), f.took)
	}
	for _, f := range fs {
		r.Fact(f.what, f.text())
	}
}
