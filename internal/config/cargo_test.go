package config

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// options is a crate with features (binary app; a member's binary tool) and custom
// profiles in Cargo.toml and .cargo/config.toml.
func options() Config {
	c := Defaults()
	c.Binary = "app"
	c.Source = filepath.Join("..", "crate", "testdata", "options")
	return c
}

func TestFeatureList(t *testing.T) {
	t.Parallel()
	c := Config{Features: []string{"a,b", " c  d\n", "e,,f", "a"}}
	if got, want := c.FeatureList(), []string{"a", "b", "c", "d", "e", "f"}; !slices.Equal(got, want) {
		t.Errorf("FeatureList = %q, want %q", got, want)
	}
	if got := (Config{}).FeatureList(); got != nil {
		t.Errorf("no features: %q", got)
	}
}

func TestCargoEnv(t *testing.T) {
	t.Parallel()
	want := []string{"RUST_S2I_FEATURES=", "RUST_S2I_ALL_FEATURES=false", "RUST_S2I_NO_DEFAULT_FEATURES=false",
		"RUST_S2I_PROFILE=release", "RUST_S2I_LOCKED=true"}
	if got := Defaults().CargoEnv(); !slices.Equal(got, want) {
		t.Errorf("defaults: %q, want %q", got, want)
	}
	c := Config{Features: []string{"loud tls", "x/y"}, AllFeatures: true, NoDefaultFeatures: true, Profile: "small"}
	want = []string{"RUST_S2I_FEATURES=loud,tls,x/y", "RUST_S2I_ALL_FEATURES=true", "RUST_S2I_NO_DEFAULT_FEATURES=true",
		"RUST_S2I_PROFILE=small", "RUST_S2I_LOCKED=false"}
	if got := c.CargoEnv(); !slices.Equal(got, want) {
		t.Errorf("set: %q, want %q", got, want)
	}
}

func TestCargoOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     func(*Config)
		naming Naming
		want   []string // each must appear; nil means valid
	}{
		{"defaults", func(*Config) {}, FlagNaming, nil},
		{"declared features", func(c *Config) { c.Features = []string{"loud,tls", "default"} }, FlagNaming, nil},
		{"an optional dependency's implicit feature", func(c *Config) { c.Features = []string{"json gen nix"} }, FlagNaming, nil},
		{"a dependency's feature is cargo's to check", func(c *Config) { c.Features = []string{"plain/std", "json?/x", "tool/fast"} }, FlagNaming, nil},
		{"all-features with features, as cargo allows", func(c *Config) {
			c.Features, c.AllFeatures, c.NoDefaultFeatures = []string{"loud"}, true, true
		}, FlagNaming, nil},
		{"built-in profiles need no table", func(c *Config) { c.Profile = "dev" }, FlagNaming, nil},
		{"test and bench are built in", func(c *Config) { c.Profile = "bench" }, FlagNaming, nil},
		{"custom profile in Cargo.toml", func(c *Config) { c.Profile = "small" }, FlagNaming, nil},
		{"custom profile in .cargo/config.toml", func(c *Config) { c.Profile = "ci" }, FlagNaming, nil},
		{"a member's binary has its package's features", func(c *Config) { c.Binary, c.Features = "tool", []string{"fast"} }, FlagNaming, nil},

		{"unknown feature", func(c *Config) { c.Features = []string{"loud,nope"} }, FlagNaming,
			[]string{`--features: "nope" is not a feature`, "binary app", "default, gen, json, loud, nix, tls"}},
		{"unknown feature as an input", func(c *Config) { c.Features = []string{"nope"} }, InputNaming, []string{"features: "}},
		{"unknown feature as a plugin setting", func(c *Config) { c.Features = []string{"nope"} }, PluginNaming, []string{"features: "}},
		{"a dependency named with dep: is no feature", func(c *Config) { c.Features = []string{"tlsdep"} }, FlagNaming, []string{`"tlsdep"`}},
		{"another package's feature", func(c *Config) { c.Binary, c.Features = "tool", []string{"loud"} }, FlagNaming, []string{`"loud"`, "binary tool", "it has fast"}},
		{"a package without features", func(c *Config) { c.Source, c.Binary, c.Features = hello(), "hello", []string{"x"} }, FlagNaming, []string{"declares none"}},
		{"dep: is refused as cargo refuses it", func(c *Config) { c.Features = []string{"dep:json"} }, FlagNaming, []string{`--features: "dep:json"`, "dep:"}},
		{"bad feature names", func(c *Config) { c.Features = []string{"-x", "a/b/c", "a=b", ".x"} }, FlagNaming,
			[]string{`"-x"`, `"a/b/c"`, `"a=b"`, `".x"`}},
		{"unknown profile", func(c *Config) { c.Profile = "tiny" }, FlagNaming,
			[]string{`--profile: "tiny" is not defined`, "[profile.tiny]", "dev, release, test, bench", "ci, noinherit, small"}},
		{"unknown profile as a plugin setting", func(c *Config) { c.Profile = "tiny" }, PluginNaming, []string{"profile: "}},
		{"custom profile without inherits", func(c *Config) { c.Profile = "noinherit" }, FlagNaming, []string{"--profile:", "no inherits"}},
		{"empty profile", func(c *Config) { c.Profile = "" }, FlagNaming, []string{"--profile: is empty"}},
		{"bad profile name", func(c *Config) { c.Profile = "a.b" }, FlagNaming, []string{`--profile: "a.b" is not`}},
		{"debug is dev", func(c *Config) { c.Profile = "debug" }, FlagNaming, []string{"reserves", "profile dev"}},
		{"reserved profile names", func(c *Config) { c.Profile = "cargo-fast" }, FlagNaming, []string{"reserves"}},
		{"every problem at once", func(c *Config) { c.Features, c.Profile = []string{"nope", "dep:x"}, "tiny" }, FlagNaming,
			[]string{`"nope"`, `"dep:x"`, `"tiny"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := options()
			tc.in(&c)
			err := errors.Join(c.Validate(tc.naming), c.Preflight(tc.naming))
			checkInput(t, err, tc.want)
			if err != nil {
				for _, n := range inputErrors(t, err) {
					if !slices.Contains([]string{tc.naming("features"), tc.naming("profile")}, n) {
						t.Errorf("error names %s:\n%v", n, err)
					}
				}
			}
		})
	}
}

// An unknown binary is reported once, as the binary: not again as its features.
func TestCargoOptionsUnknownBinary(t *testing.T) {
	t.Parallel()
	c := options()
	c.Binary, c.Features, c.Profile = "nope", []string{"loud"}, "tiny"
	err := c.Preflight(FlagNaming)
	if got := inputErrors(t, err); !slices.Equal(got, []string{"--binary", "--profile"}) {
		t.Errorf("errors %q, want --binary and --profile:\n%v", got, err)
	}
	// Validate stays pure: a profile it cannot see on disk is Preflight's.
	if err := c.Validate(FlagNaming); err != nil && strings.Contains(err.Error(), "tiny") {
		t.Errorf("Validate read the disk: %v", err)
	}
}

// A profile name that Validate refuses is not reported again by Preflight.
func TestCargoProfileReportedOnce(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"debug", "a.b", "cargo-x", ""} {
		c := options()
		c.Profile = p
		err := errors.Join(c.Validate(FlagNaming), c.Preflight(FlagNaming))
		if got := inputErrors(t, err); len(got) != 1 {
			t.Errorf("profile %q: %d errors, want 1:\n%v", p, len(got), err)
		}
	}
}
