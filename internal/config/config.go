package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/s3"
	"github.com/rust-s2i/rust-s2i-musl/internal/crate"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// DefaultBuilder is the published builder image; build makes it from the embedded
// s2i/ files when it is neither local nor pullable.
const DefaultBuilder = "ghcr.io/rust-s2i/rust-s2i-musl-builder:stable"

// DefaultRuntimeImage is the base the binary is put on.
const DefaultRuntimeImage = "docker.io/library/alpine:3"

// Network modes accepted by Network; "" leaves the daemon's default.
var networkModes = []string{"", "bridge", "host", "none"}

// Config is everything a build needs to know, independent of where it came from.
// The settings table (settings.go) says which setting fills which field. The build
// settings the pipeline reads are at the top; the cache and the registry
// credentials are sections of their own (Cache, Registry).
type Config struct {
	Binary       string
	Source       string // a local directory or a git URL
	Builder      string
	RuntimeImage string
	Image        string   // the final image; default rust-musl-BINARY
	Tags         []string // more names of the final image
	Labels       []string // KEY=VALUE labels of the final image
	Pull         string   // "missing" or "always", for the builder and runtime images
	TmpImage     string   // the incremental image; default rust-musl-BINARY-tmp
	Target       string   // "" means the builder image's own target
	Env          []string
	SecretEnv    []string // NAME=VALUE, or NAME for this process's own variable; see ResolveSecrets
	Network      string
	Push         bool
	Clean        bool
	OutputFile   string
	// Repository is the CI's repository (owner/name), from its environment rather
	// than a setting: the default -tmp image name carries it, so that two
	// repositories building a binary of the same name on one daemon keep apart.
	Repository string

	// The cargo options (see cargo.go): features as given (FeatureList splits them),
	// --all-features, --no-default-features, --profile, and --locked when a
	// Cargo.lock exists.
	Features          []string
	AllFeatures       bool
	NoDefaultFeatures bool
	Profile           string
	Locked            bool

	// Platforms are the platforms to build for, in the order given, each once
	// (platforms.go). Empty is one image for Target (the builder's, else the
	// daemon's architecture), as before platforms existed; set, each platform's
	// binary is cross-compiled for its own target, and Target may only agree.
	Platforms []platform.Platform
	// OCIOutput is a directory to write the final image (the index of every
	// platform) to as an OCI image layout; "" writes none.
	OCIOutput string

	// The supply chain (docs/supply-chain.md): Auditable embeds the crate list in
	// the binary (.dep-v0), SBOM writes the SPDX document and attaches it where the
	// image is pushed, Provenance attaches SLSA provenance there.
	Auditable  bool
	SBOM       bool
	Provenance bool

	// Engine is EngineAuto, EngineDocker or EngineBuildKit (buildkit.go); BuildKit
	// is how to reach buildkitd.
	Engine   string
	BuildKit BuildKit

	Cache    Cache    // the cache backend and its settings (cache.go)
	Registry Registry // the registry credentials (registry.go)
}

// Secret is a string that does not print: fmt shows it as *** (in %v, %+v, %#v,
// %s and %q), so logging a Config cannot leak a registry password. Use string(s)
// where the value itself is needed.
type Secret string

// String is *** for a set secret and "" for an unset one, so that unset shows.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Defaults returns a Config with every optional setting at its documented default:
// the settings table's, parsed as a user's value would be.
func Defaults() Config {
	var c Config
	for _, s := range settings {
		if s.def == "" {
			continue
		}
		if err := s.set(&c, s.def, FlagNaming, func(v string, _ setting) ([]string, error) { return []string{v}, nil }); err != nil {
			panic(fmt.Sprintf("config: the default of %s: %v", s.name, err))
		}
	}
	return c
}

// actionsRuntimeToken is the variable the runner hands the gha cache's token in.
const actionsRuntimeToken = "ACTIONS_RUNTIME_TOKEN"

// Secrets are the values that no log line may show, for the CI to mask before
// anything is printed: the registry password and the passwords in registry-auth,
// the s3 credentials, and the values of secret-env. With getenv it adds what the
// build reads from this process's environment rather than from a setting: a bare
// secret-env NAME's value, ACTIONS_RUNTIME_TOKEN (the gha cache's token), and with
// cache s3 the AWS credentials. getenv may be nil: then only the settings' own.
// Empty and repeated values are left out.
func (c Config) Secrets(getenv func(string) string) []string {
	all := c.Registry.secrets()
	all = append(all, c.Cache.S3.Secrets()...)
	for _, kv := range c.SecretEnv {
		if name, v, ok := strings.Cut(kv, "="); ok {
			all = append(all, v)
		} else if getenv != nil {
			all = append(all, getenv(name))
		}
	}
	if getenv != nil {
		all = append(all, getenv(actionsRuntimeToken))
		if c.Cache.Backend == CacheS3 {
			// What s3.New would take from the environment had the settings none:
			// the access key ID too, which names an account.
			all = append(all, s3.Config{}.Resolve(getenv).Secrets()...)
		}
	}
	var out []string
	for _, s := range all {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// FinalImage is the name of the final image, derived from the binary when unset.
func (c Config) FinalImage() string { return c.Names()[0] }

// Names are all the names of the final image: image, then the tags; the default
// name when neither is set.
func (c Config) Names() []string {
	var names []string
	for _, n := range append([]string{c.Image}, c.Tags...) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		names = []string{"rust-musl-" + strings.ToLower(c.Binary)}
	}
	return names
}

// LowercaseNames lowercases the repository part of the image, tags and -tmp image
// (registries refuse upper case there, and ghcr.io/${{ github.repository }} has
// it whenever the owner does), never a tag. It returns a notice for each name it
// changed.
func (c *Config) LowercaseNames() []string {
	var notices []string
	lower := func(ref string) string {
		repo, rest := splitTag(ref)
		if l := strings.ToLower(repo); l != repo && validRef(l+rest) {
			notices = append(notices, fmt.Sprintf("%s: the repository is lowercased to %s", ref, l+rest))
			return l + rest
		}
		return ref
	}
	c.Image, c.TmpImage = lower(c.Image), lower(c.TmpImage)
	for i, t := range c.Tags {
		c.Tags[i] = lower(t)
	}
	return notices
}

// validRef reports whether ref parses as an image reference. A name that is wrong
// for more than its case is left as the user wrote it, for Validate to report.
func validRef(ref string) bool {
	_, err := reference.ParseNormalizedNamed(ref)
	return err == nil
}

// splitTag splits a reference into its repository and its ":tag" or "@digest".
func splitTag(ref string) (repo, rest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, rest = ref[:i], ref[i:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i:] + rest
	}
	return ref, rest
}

// namesRegistry reports whether a reference names its registry host, as in
// ghcr.io/o/r, localhost:5000/r or docker.io/o/r; a bare o/r means Docker Hub only
// by the daemon's default.
func namesRegistry(ref string) bool {
	host, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost")
}

// IncrementalImage is the name of the -tmp image, derived from the binary (and the
// CI's repository, when known) when unset.
func (c Config) IncrementalImage() string {
	if c.TmpImage != "" {
		return c.TmpImage
	}
	if slug := nonAlnum.ReplaceAllString(strings.ToLower(c.Repository), "-"); strings.Trim(slug, "-") != "" {
		return "rust-musl-" + strings.Trim(slug, "-") + "-" + strings.ToLower(c.Binary) + "-tmp"
	}
	return "rust-musl-" + strings.ToLower(c.Binary) + "-tmp"
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// IsGitURL reports whether source names a remote repository rather than a directory.
func IsGitURL(source string) bool {
	return strings.Contains(source, "://") || strings.HasPrefix(source, "git@")
}

// InputError is one bad setting: the CLI reports every one at once and exits 2.
type InputError struct {
	Name    string // the setting, in its front end's words (see Naming)
	Problem string // what is wrong with it; never a secret's value
	Err     error  // the cause, when a parser gave one; Problem already says it
}

// Error is NAME: PROBLEM, one line of the bad-input report.
func (e *InputError) Error() string { return e.Name + ": " + e.Problem }

// Unwrap is the cause, if any.
func (e *InputError) Unwrap() error { return e.Err }

var (
	binaryRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)
	tripleRe = regexp.MustCompile(`^[a-z0-9_]+(-[a-z0-9_.]+){1,3}$`)
	envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks every setting on its own terms and returns all problems at once,
// joined. It is a pure function of the settings; what needs the disk is Preflight.
func (c Config) Validate(name Naming) error {
	var errs []error
	errs = append(errs, c.validateImages(name)...)
	errs = append(errs, c.validateBuild(name)...)
	errs = append(errs, c.Cache.validate(name)...)
	errs = append(errs, c.Registry.validate(name)...)
	errs = append(errs, c.validateCargo(name)...)
	errs = append(errs, c.validateOutputFile(name))
	errs = append(errs, c.validatePlatforms(name)...)
	errs = append(errs, c.validateBuildKit(name)...)
	return errors.Join(errs...)
}

// validateImages checks what is built and where it goes: the binary, the source,
// the image names, push and pull.
func (c Config) validateImages(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.Binary == "":
		bad("binary", "is required: the name of the cargo binary target to build")
	case !binaryRe.MatchString(c.Binary):
		bad("binary", "%q is not a cargo target name (letters, digits, _ and -)", c.Binary)
	}
	if c.Source == "" {
		bad("source", "is required: a directory or a git URL")
	}
	errs = append(errs, c.validateNames(name)...)
	if c.Push {
		for _, n := range c.Names() {
			if !namesRegistry(n) {
				bad("push", "%s names no registry: name one (ghcr.io/OWNER/NAME), or write docker.io/%s to push to Docker Hub", n, n)
			}
		}
	}
	for _, l := range c.Labels {
		if k, _, ok := strings.Cut(l, "="); !ok || strings.TrimSpace(k) == "" {
			bad("labels", "%q is not KEY=VALUE", l)
		}
	}
	if !oneOf(c.Pull, []string{"missing", "always"}) {
		bad("pull", "%q is not missing or always", c.Pull)
	}
	return errs
}

// validateNames checks the image references: the builder and the runtime image,
// which are pulled and may be pinned by digest, and the names we tag and push
// (image, tags, tmp-image), which may not. A name left unset is made from the
// binary (see Names, IncrementalImage), and a binary name such as foo_ makes no
// valid one: that is reported here too, as the setting to set.
func (c Config) validateNames(name Naming) []error {
	errs := []error{checkRef(name, "builder", c.Builder, true), checkRef(name, "runtime-image", c.RuntimeImage, true)}
	for _, t := range c.Tags {
		errs = append(errs, checkName(name, "tags", t))
	}
	derived := binaryRe.MatchString(c.Binary) // else binary is reported, and nothing is made from it
	for _, n := range []struct{ field, value, made string }{
		{"image", c.Image, c.Names()[0]},
		{"tmp-image", c.TmpImage, c.IncrementalImage()},
	} {
		switch {
		case n.value != "":
			errs = append(errs, checkName(name, n.field, n.value))
		case derived && (n.field != "image" || len(c.Tags) == 0):
			if err := checkName(name, n.field, n.made); err != nil {
				errs = append(errs, &InputError{Name: name(n.field), Err: err, Problem: fmt.Sprintf(
					"is not set, and the name made from %s, %s, is not a valid image reference: set %s", name("binary"), n.made, name(n.field))})
			}
		}
	}
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

// validateOutputFile checks the output file's path: blank, or holding a NUL or a
// line break, it is a templating mistake and no file anyone means to write.
func (c Config) validateOutputFile(name Naming) error {
	switch f := c.OutputFile; {
	case f == "":
		return nil
	case strings.TrimSpace(f) == "":
		return &InputError{Name: name("output-file"), Problem: "is blank: name a file, or leave it unset"}
	case strings.ContainsAny(f, "\x00\r\n"):
		return &InputError{Name: name("output-file"), Problem: fmt.Sprintf("%q holds a NUL or a line break", f)}
	}
	return nil
}

// validateBuild checks how the build container runs: the target, the environment
// and the network.
func (c Config) validateBuild(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	if c.Target != "" && !tripleRe.MatchString(c.Target) {
		bad("target", "%q is not a target triple such as x86_64-unknown-linux-musl", c.Target)
	}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKeyRe.MatchString(k) {
			bad("env", "%q is not NAME=VALUE", kv)
		}
	}
	if err := secretEnvList.check(c.SecretEnv); err != nil {
		errs = append(errs, &InputError{Name: name("secret-env"), Problem: err.Error(), Err: err})
	}
	for _, secret := range []bool{false, true} {
		list := c.Env
		if secret {
			list = c.SecretEnv
		}
		if err := reservedProblem(name, list, secret); err != nil {
			errs = append(errs, err)
		}
	}
	if !oneOf(c.Network, networkModes) {
		bad("network", "%q is not one of bridge, host, none", c.Network)
	}
	return errs
}

// Preflight checks what the settings name on disk: that a local source is a crate
// and has the binary, that a custom profile is defined there and that the features
// are the binary's package's, that oci-output is no file or foreign directory, and
// that the BuildKit TLS files can be read. It returns all problems at once,
// joined, and leaves alone what Validate already refuses.
func (c Config) Preflight(name Naming) error {
	return joinFlat(c.preflightSource(name), c.preflightOCIOutput(name), c.preflightBuildKit(name))
}

// joinFlat is errors.Join with joined errors among errs spliced in, so that the
// result is one flat list of problems, one a line, however the parts were made.
func joinFlat(errs ...error) error {
	var flat []error
	for _, err := range errs {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			flat = append(flat, j.Unwrap()...)
		} else if err != nil {
			flat = append(flat, err)
		}
	}
	return errors.Join(flat...)
}

// preflightSource is Preflight's check of a local source, the binary, the profile
// and the features.
func (c Config) preflightSource(name Naming) error {
	if c.Source == "" || IsGitURL(c.Source) {
		return nil // a git URL is only read inside the build
	}
	bad := func(field, format string, args ...any) error {
		return &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)}
	}
	st, err := os.Stat(c.Source)
	switch {
	case err != nil:
		return bad("source", "%q does not exist", c.Source)
	case !st.IsDir():
		return bad("source", "%q is not a directory", c.Source)
	}
	if _, err := os.Stat(filepath.Join(c.Source, "Cargo.toml")); err != nil {
		return bad("source", "%q has no Cargo.toml", c.Source)
	}
	if binaryRe.MatchString(c.Binary) {
		if err := crate.CheckBinary(c.Source, c.Binary); err != nil {
			return errors.Join(bad("binary", "%v", err), c.preflightCargo(name, false))
		}
	}
	return c.preflightCargo(name, binaryRe.MatchString(c.Binary))
}

// ResolveSecrets returns the secret-env entries as NAME=VALUE, taking the value of
// a bare NAME from getenv: on the command line a secret stays out of the arguments
// (and so out of ps and shell history). A NAME that getenv does not know is bad
// input, named by its place in the list: a bare "NAME" may be a token pasted
// without its NAME=, and a token such as ghp_... looks like a name. An entry that
// is no NAME at all is left for Validate to report, and so is every entry's place:
// an unset NAME stays in the list as it was, bare.
func (c Config) ResolveSecrets(name Naming, getenv func(string) string) ([]string, error) {
	var out []string
	var unset []string
	for i, kv := range c.SecretEnv {
		switch {
		case strings.Contains(kv, "=") || !envKeyRe.MatchString(kv):
		case getenv(kv) == "":
			unset = append(unset, strconv.Itoa(i+1))
		default:
			kv += "=" + getenv(kv)
		}
		out = append(out, kv)
	}
	if len(unset) > 0 {
		return out, &InputError{Name: name("secret-env"), Problem: fmt.Sprintf(
			"%s a NAME whose variable is not set in this environment (not shown, as it may be a secret)", where("entry", unset))}
	}
	return out, nil
}

// checkName checks a name we tag and push: an image reference by the grammar of
// github.com/distribution/reference, which the daemon and the registries follow,
// with no digest (a digest names content, and cannot be given to a new image).
func checkName(name Naming, field, value string) error {
	ref, err := reference.ParseNormalizedNamed(value)
	if err != nil {
		return &InputError{Name: name(field), Err: err, Problem: fmt.Sprintf("%q is not a valid image reference: %v", value, err)}
	}
	if _, ok := ref.(reference.Digested); ok {
		return &InputError{Name: name(field), Problem: fmt.Sprintf("%q has a digest: a name to tag and push is NAME or NAME:TAG", value)}
	}
	return nil
}

// checkRef checks an image reference setting; "" is allowed unless required.
func checkRef(name Naming, field, value string, required bool) error {
	if value == "" {
		if required {
			return &InputError{Name: name(field), Problem: "is required: an image reference"}
		}
		return nil
	}
	if _, err := reference.ParseNormalizedNamed(value); err != nil {
		return &InputError{Name: name(field), Problem: fmt.Sprintf("%q is not a valid image reference: %v", value, err)}
	}
	return nil
}

// oneOf reports whether v is one of allowed.
func oneOf(v string, allowed []string) bool { return slices.Contains(allowed, v) }
