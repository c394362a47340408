package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/crate"
)

// DefaultProfile is the cargo profile a build uses unless told otherwise.
const DefaultProfile = "release"

// builtinProfiles are the profiles cargo defines itself; any other must be defined
// in the workspace.
var builtinProfiles = []string{"dev", "release", "test", "bench"}

var (
	// Cargo's feature names: a letter, digit or _, then also -, + and . (Unicode
	// letters and digits count, as in cargo). A feature of a dependency or workspace
	// member is PACKAGE/FEATURE, or PACKAGE?/FEATURE to leave the package off.
	featureRe = regexp.MustCompile(`^([\pL\pN_][\pL\pN_-]*\??/)?[\pL\pN_][\pL\pN_+.-]*$`)
	// Cargo's profile names: letters, digits, _ and -, not starting with -.
	profileRe = regexp.MustCompile(`^[\pL\pN_][\pL\pN_-]*$`)
)

// reservedProfiles are the profile names cargo refuses (as well as any that starts
// with "cargo"), compared in lower case.
var reservedProfiles = []string{
	"debug", "doc", "build-override", "build", "check", "clean", "config", "fetch", "fix",
	"install", "metadata", "package", "publish", "report", "root", "run", "rust", "rustc",
	"rustdoc", "target", "tmp", "uninstall",
}

// FeatureList is Features as cargo reads --features: each entry split at commas and
// white space, empty pieces dropped. So `features: loud, tls` (one action input),
// `--features "loud tls"` and `--features loud --features tls` all give [loud tls].
func (c Config) FeatureList() []string {
	var out []string
	for _, e := range c.Features {
		for _, f := range strings.FieldsFunc(e, func(r rune) bool { return r == ',' || isSpace(r) }) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// CargoEnv is the cargo options as the environment that s2i/bin/assemble reads:
// RUST_S2I_FEATURES (comma-separated), RUST_S2I_ALL_FEATURES,
// RUST_S2I_NO_DEFAULT_FEATURES, RUST_S2I_PROFILE and RUST_S2I_LOCKED. Every one is
// always present, so the same lines also serve as the cargo options' part of the
// cache key and of the unchanged-input digest.
func (c Config) CargoEnv() []string {
	profile := c.Profile
	if profile == "" {
		profile = DefaultProfile
	}
	return []string{
		"RUST_S2I_FEATURES=" + strings.Join(c.FeatureList(), ","),
		"RUST_S2I_ALL_FEATURES=" + strconv.FormatBool(c.AllFeatures),
		"RUST_S2I_NO_DEFAULT_FEATURES=" + strconv.FormatBool(c.NoDefaultFeatures),
		"RUST_S2I_PROFILE=" + profile,
		"RUST_S2I_LOCKED=" + strconv.FormatBool(c.Locked),
	}
}

// validateCargo checks the forms of the cargo options.
func (c Config) validateCargo(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	for _, f := range c.FeatureList() {
		switch {
		case strings.HasPrefix(f, "dep:"):
			bad("features", "%q: cargo does not take dep: in --features; name the optional dependency's feature (%q) or a feature that enables it", f, strings.TrimPrefix(f, "dep:"))
		case !featureRe.MatchString(f):
			bad("features", "%q is not a cargo feature name: FEATURE or PACKAGE/FEATURE, with letters, digits, _, -, + and . (not first)", f)
		}
	}
	if problem := profileProblem(c.Profile); problem != "" {
		bad("profile", "%s", problem)
	}
	return errs
}

// profileProblem says what is wrong with a profile's name, or "".
func profileProblem(p string) string {
	switch lower := strings.ToLower(p); {
	case p == "":
		return "is empty: name a cargo profile such as release (the default) or dev"
	case !profileRe.MatchString(p):
		return fmt.Sprintf("%q is not a cargo profile name (letters, digits, _ and -)", p)
	case lower == "debug":
		return fmt.Sprintf("%q is a name cargo reserves; the debug build is profile dev", p)
	case oneOf(lower, reservedProfiles) || strings.HasPrefix(lower, "cargo"):
		return fmt.Sprintf("%q is a name cargo reserves", p)
	}
	return ""
}

// preflightCargo checks the cargo options against the crate at c.Source: that a
// custom profile is defined, and, when the crate has the binary (hasBinary), that
// each feature is the binary's package's.
func (c Config) preflightCargo(name Naming, hasBinary bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	if profileProblem(c.Profile) == "" && !oneOf(c.Profile, builtinProfiles) {
		profiles, err := crate.Profiles(c.Source)
		inherits, defined := profiles[c.Profile]
		switch {
		case err != nil:
			bad("profile", "cannot read the profiles of %s: %v", c.Source, err)
		case !defined:
			custom := slices.DeleteFunc(slices.Sorted(maps.Keys(profiles)), func(p string) bool { return oneOf(p, builtinProfiles) })
			have := "it defines none"
			if len(custom) > 0 {
				have = "it defines " + strings.Join(custom, ", ")
			}
			bad("profile", "%q is not defined in %s: cargo's own profiles are %s, and a custom one needs a [profile.%s] table in Cargo.toml or .cargo/config.toml (%s)",
				c.Profile, c.Source, strings.Join(builtinProfiles, ", "), c.Profile, have)
		case inherits == "":
			bad("profile", "[profile.%s] in %s has no inherits: cargo needs one for a custom profile, e.g. inherits = \"release\"", c.Profile, c.Source)
		}
	}

	var plain []string // FEATURE entries; PACKAGE/FEATURE ones are cargo's to check
	for _, f := range c.FeatureList() {
		if featureRe.MatchString(f) && !strings.Contains(f, "/") {
			plain = append(plain, f)
		}
	}
	if len(plain) > 0 && hasBinary {
		have, err := crate.Features(c.Source, c.Binary)
		if err != nil {
			return errors.Join(append(errs, &InputError{Name: name("features"), Problem: fmt.Sprintf("cannot read the features of %s: %v", c.Binary, err)})...)
		}
		for _, f := range plain {
			if !slices.Contains(have, f) {
				list := "it declares none"
				if len(have) > 0 {
					list = "it has " + strings.Join(have, ", ")
				}
				bad("features", "%q is not a feature of the package of binary %s (%s)", f, c.Binary, list)
			}
		}
	}
	return errors.Join(errs...)
}
