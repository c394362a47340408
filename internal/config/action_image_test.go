package config

import (
	"regexp"
	"slices"
	"testing"
)

// actionImageRepo is the repository the release workflow pushes the action image to.
const actionImageRepo = "ghcr.io/rust-s2i/rust-s2i-musl"

// pinnedActionImage is the only form runs.image may take: the prebuilt image at one
// exact release, vMAJOR.MINOR.PATCH (semver's numbers: no leading zeros). Not
// `Dockerfile`, which builds the image on every job's runner, and not a tag that
// moves (v1, latest), which would run an image the tag's action.yml never named.
var pinnedActionImage = regexp.MustCompile(`^docker://` + regexp.QuoteMeta(actionImageRepo) +
	`:v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// The action runs the prebuilt image of an exact release, with the build subcommand.
// The release workflow rewrites the version in this line (sed) and tags that commit
// only after the image is pushed; CI swaps it for an image built from the commit.
func TestActionRunsPinnedImage(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	if a.Runs.Using != "docker" {
		t.Errorf("runs.using = %q, want docker (a container action)", a.Runs.Using)
	}
	if !pinnedActionImage.MatchString(a.Runs.Image) {
		t.Errorf("runs.image = %q, want docker://%s:vMAJOR.MINOR.PATCH: the prebuilt image of one exact release, not a Dockerfile and not a moving tag",
			a.Runs.Image, actionImageRepo)
	}
	if !slices.Equal(a.Runs.Args, []string{"build"}) {
		t.Errorf("runs.args = %q, want [build]", a.Runs.Args)
	}
}

// The pattern itself: what it lets through and what it refuses.
func TestPinnedActionImagePattern(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]bool{
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.0.0":   true,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v0.12.3":  true,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v10.0.20": true,
		"Dockerfile":   false,
		"./Dockerfile": false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1":              false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2":            false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:latest":          false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl":                 false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:1.2.3":           false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3-rc1":      false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v01.2.3":         false,
		"ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3":                   false,
		"docker://ghcr.io/other/rust-s2i-musl:v1.2.3":             false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl-builder:v1.2.3":  false,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3@sha256:0": false,
	} {
		if got := pinnedActionImage.MatchString(ref); got != want {
			t.Errorf("%q: pinned = %v, want %v", ref, got, want)
		}
	}
}
