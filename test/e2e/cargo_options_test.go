package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cargo options reach cargo in assemble: a feature and a custom profile give a
// binary with the feature on, taken from the profile's own directory
// (target/TARGET/small); changing them rebuilds (they are inputs of the image), and
// the dev profile's binary comes from target/TARGET/debug.
func TestCargoOptions(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	src := copyTree(t, crate("features"))

	r := mustBuild(t, src, "features", final, tmp, "--features", "loud", "--profile", "small")
	if log := r.stdout + r.stderr; !strings.Contains(log, "cargo build --profile small --locked --features loud") {
		t.Errorf("the build log does not show cargo's options:\n%s", r)
	}
	want := "loud: on\npolite: on\ndebug_assertions: off\n"
	if got := runImage(t, final); got != want {
		t.Errorf("with --features loud --profile small the image prints\n%s\nwant\n%s", got, want)
	}

	// Other options, same source: not up to date, and another binary.
	r = mustBuild(t, src, "features", final, tmp, "--profile", "dev", "--no-default-features")
	if strings.Contains(r.stdout, "is up to date") {
		t.Fatalf("a build with other cargo options was taken as up to date:\n%s", r)
	}
	want = "loud: off\npolite: off\ndebug_assertions: on\n"
	if got := runImage(t, final); got != want {
		t.Errorf("with --profile dev --no-default-features the image prints\n%s\nwant\n%s", got, want)
	}
}

// locked defaults to true: a Cargo.lock that no longer fits Cargo.toml fails the
// build (cargo --locked); --locked=false lets cargo update it.
func TestCargoOptionsLocked(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	src := copyTree(t, crate("features"))
	manifest := filepath.Join(src, "Cargo.toml")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	// Cargo.lock says 0.1.0.
	if err := os.WriteFile(manifest, []byte(strings.Replace(string(data), `version = "0.1.0"`, `version = "0.2.0"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runCmd(t, nil, buildArgs(src, "features", final, tmp)...)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "--locked") {
		t.Fatalf("a stale Cargo.lock with locked (the default): want exit 1 and cargo's --locked error, got\n%s", r)
	}
	mustBuild(t, src, "features", final, tmp, "--locked=false")
	if got := runImage(t, final); !strings.HasPrefix(got, "loud: off\npolite: on\n") {
		t.Errorf("with --locked=false the image prints\n%s", got)
	}
}

// An unknown feature or profile is bad input (exit 2), named as the front end names
// the setting, before anything runs: no image is made.
func TestCargoOptionsBadInput(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	src := crate("features")
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"unknown feature", nil, buildArgs(src, "features", final, tmp, "--features", "loud,nope"),
			[]string{`--features: "nope" is not a feature`, "default, loud, polite"}},
		{"unknown profile", nil, buildArgs(src, "features", final, tmp, "--profile", "tiny"),
			[]string{`--profile: "tiny" is not defined`, "small"}},
		{"dep: syntax", nil, buildArgs(src, "features", final, tmp, "--features", "dep:x"),
			[]string{`--features: "dep:x"`}},
		{"plugin settings", []string{
			"PLUGIN_BINARY=features", "PLUGIN_SOURCE=" + src, "PLUGIN_BUILDER=" + builderImage,
			"PLUGIN_RUNTIME_IMAGE=" + runtimeImage, "PLUGIN_IMAGE=" + final, "PLUGIN_TMP_IMAGE=" + tmp,
			"PLUGIN_FEATURES=nope", "PLUGIN_NO_DEFAULT_FEATURES=true", "PLUGIN_PROFILE=tiny",
		}, []string{"build"}, []string{"features: ", "profile: "}},
		{"action inputs", []string{
			"GITHUB_ACTIONS=true", "INPUT_BINARY=features", "INPUT_SOURCE=" + src, "INPUT_BUILDER=" + builderImage,
			"INPUT_RUNTIME-IMAGE=" + runtimeImage, "INPUT_IMAGE=" + final, "INPUT_TMP-IMAGE=" + tmp,
			"INPUT_CACHE=none", "INPUT_FEATURES=loud\nnope", "INPUT_PROFILE=tiny",
		}, []string{"build"}, []string{"features: ", "profile: "}},
	}
	for _, tc := range tests {
		r := runCmd(t, tc.env, tc.args...)
		if r.code != 2 {
			t.Errorf("%s: want exit 2, got\n%s", tc.name, r)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: the error lacks %q:\n%s", tc.name, w, r)
			}
		}
		if strings.Contains(r.stdout+r.stderr, "s2i build") {
			t.Errorf("%s: a build phase ran:\n%s", tc.name, r)
		}
		for _, img := range []string{final, tmp} {
			if imageID(t, img) != "" {
				t.Errorf("%s: the image %s was made", tc.name, img)
			}
		}
	}
}
