package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// This file is the settings table of the build subcommand, which all three front
// ends range over: a new setting is one line here plus its Config field, and the
// tests fail until action.yml declares it too.
//
// A setting's kebab-case name is its name in every front end:
//
//   - the flag --name (FlagNaming);
//   - the action input name, declared in action.yml, which the runner passes as
//     INPUT_NAME with the - kept (InputNaming, inputEnv);
//   - the Woodpecker/Drone setting name_with_underscores, passed as
//     PLUGIN_NAME_WITH_UNDERSCORES (PluginNaming, pluginEnv).

// Naming turns a setting's kebab-case name into the name its front end uses, so that
// errors speak the user's language: --runtime-image, runtime-image, runtime_image.
type Naming func(kebab string) string

// FlagNaming names settings as command-line flags.
func FlagNaming(k string) string { return "--" + k }

// InputNaming names settings as action.yml declares them: runtime-image.
func InputNaming(k string) string { return k }

// PluginNaming names settings as a Woodpecker or Drone user writes them under
// `settings:` in the pipeline YAML, snake_case: runtime_image. That is the name to
// fix in the file; the variable it arrives in, PLUGIN_RUNTIME_IMAGE, is the CI's
// business.
func PluginNaming(k string) string { return strings.ReplaceAll(k, "-", "_") }

// inputEnv is the variable the runner passes an input in.
func inputEnv(name string) string { return "INPUT_" + strings.ToUpper(name) }

// pluginEnv is the variable Woodpecker and Drone pass a setting in: PLUGIN_ and the
// setting upper-cased, - and . turned into _.
func pluginEnv(name string) string {
	return "PLUGIN_" + strings.ToUpper(PluginNaming(name))
}

// setting is one build setting.
type setting struct {
	name string // kebab-case, see above
	// def is the default as a user would write it, parsed like any value (see
	// Defaults); "" is the field's zero value. The action's defaults in action.yml
	// are held to these by a test.
	def   string
	usage string
	// field points into the Config: *string, *Secret, *bool, *time.Duration,
	// *[]string or *[]platform.Platform. The type picks the parser (see set).
	field func(*Config) any
	// noFlag keeps a setting out of the command line. A registry password there would
	// be in ps output and shell history; the CLI uses the Docker config instead.
	noFlag bool
	// alias is a second flag name, such as --tag for tags, repeated on the CLI.
	alias string
	// items matches where an entry of a list setting begins after a comma; nil is
	// NAME=VALUE (see splitList).
	items *regexp.Regexp
	// secret is set for a list setting whose entries hold secrets: it splits and
	// checks them instead of items, and its errors never show an entry.
	secret *secretList
}

// splitText splits a list setting written as text, one entry a line or several on
// a line as the setting allows. Only a secret list checks its entries here, where
// their line numbers are known.
func (s setting) splitText(v string) ([]string, error) {
	if s.secret != nil {
		return s.secret.parse(v)
	}
	return splitList(v, s.itemStart()), nil
}

func (s setting) itemStart() *regexp.Regexp {
	if s.items != nil {
		return s.items
	}
	return envStart
}

// set parses v by the type of the setting's field and stores it in c. Lists are
// parsed by list, which is where the front ends differ. A value that does not parse
// leaves the field as it was and is an *InputError named by name.
func (s setting) set(c *Config, v string, name Naming, list func(string, setting) ([]string, error)) error {
	var err error
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *Secret:
		*p = Secret(v)
	case *bool:
		var b bool
		if b, err = parseBool(v); err == nil {
			*p = b
		}
	case *time.Duration:
		var d time.Duration
		if d, err = parseDuration(v); err == nil {
			*p = d
		}
	case *[]string:
		var l []string
		if l, err = list(v, s); err == nil {
			*p = l
		}
	case *[]platform.Platform:
		var l []string
		if l, err = list(v, s); err == nil {
			var ps []platform.Platform
			if ps, err = platform.Parse(strings.Join(l, "\n")); err == nil {
				*p = ps
			}
		}
	default:
		panic(fmt.Sprintf("config: setting %s has a field of type %T", s.name, p))
	}
	if err != nil {
		return &InputError{Name: name(s.name), Problem: err.Error(), Err: err}
	}
	return nil
}

var settings = []setting{
	{name: "binary", usage: "cargo binary target to build (required)", field: func(c *Config) any { return &c.Binary }},
	{name: "source", def: ".", usage: "crate directory or git URL", field: func(c *Config) any { return &c.Source }},
	{name: "builder", def: DefaultBuilder, usage: "builder image", field: func(c *Config) any { return &c.Builder }},
	{name: "runtime-image", def: DefaultRuntimeImage, usage: "base image of the final image", field: func(c *Config) any { return &c.RuntimeImage }},
	{name: "image", usage: "final image name[:tag] (default rust-musl-BINARY)", field: func(c *Config) any { return &c.Image }},
	{name: "tags", alias: "tag", items: anyStart, usage: "more names for the final image, NAME[:TAG], repeatable (as docker/metadata-action prints them)", field: func(c *Config) any { return &c.Tags }},
	{name: "labels", items: labelStart, usage: "KEY=VALUE labels of the final image, repeatable", field: func(c *Config) any { return &c.Labels }},
	{name: "pull", def: "missing", usage: "pull the builder and runtime images: missing or always", field: func(c *Config) any { return &c.Pull }},
	{name: "tmp-image", usage: "incremental image (default rust-musl-BINARY-tmp)", field: func(c *Config) any { return &c.TmpImage }},
	{name: "target", usage: "target triple (default: the builder image's)", field: func(c *Config) any { return &c.Target }},
	{name: "platforms", alias: "platform", items: anyStart, usage: "platforms to build for, OS/ARCH, comma-separated or repeated: linux/amd64, linux/arm64 (default: one image for target)", field: func(c *Config) any { return &c.Platforms }},
	{name: "features", usage: "cargo features to enable, comma- or space-separated, repeatable", field: func(c *Config) any { return &c.Features }},
	{name: "all-features", usage: "cargo --all-features", field: func(c *Config) any { return &c.AllFeatures }},
	{name: "no-default-features", usage: "cargo --no-default-features", field: func(c *Config) any { return &c.NoDefaultFeatures }},
	{name: "profile", def: DefaultProfile, usage: "cargo profile; the binary is taken from its directory (dev: debug)", field: func(c *Config) any { return &c.Profile }},
	{name: "locked", def: "true", usage: "cargo --locked when a Cargo.lock exists; false lets cargo update it", field: func(c *Config) any { return &c.Locked }},
	{name: "env", usage: "NAME=VALUE for the build, repeatable", field: func(c *Config) any { return &c.Env }},
	{name: "secret-env", secret: &secretEnvList, usage: "NAME=VALUE (or NAME, read from this environment) that cargo sees but no image, log or cache entry holds, repeatable", field: func(c *Config) any { return &c.SecretEnv }},
	{name: "network", usage: "network of the build container: bridge, host or none", field: func(c *Config) any { return &c.Network }},
	// The engine (buildkit.go): the Docker Engine, or buildkitd where there is no
	// Docker socket; the TLS settings are buildctl's --tlscacert, --tlscert,
	// --tlskey and --tlsservername.
	{name: "engine", def: EngineAuto, usage: "build engine: auto, docker or buildkit; auto takes the Docker Engine when it answers, else BuildKit when buildkit-host (or BUILDKIT_HOST) is set", field: func(c *Config) any { return &c.Engine }},
	{name: "buildkit-host", usage: "buildkitd address, as buildctl --addr: unix:///PATH or tcp://HOST:PORT (default: BUILDKIT_HOST)", field: func(c *Config) any { return &c.BuildKit.Host }},
	{name: "buildkit-tls-ca-cert", usage: "CA certificate file to verify a tcp:// buildkitd with", field: func(c *Config) any { return &c.BuildKit.TLS.CACert }},
	{name: "buildkit-tls-cert", usage: "client certificate file for a tcp:// buildkitd, with buildkit-tls-key", field: func(c *Config) any { return &c.BuildKit.TLS.Cert }},
	{name: "buildkit-tls-key", usage: "client key file for a tcp:// buildkitd, with buildkit-tls-cert", field: func(c *Config) any { return &c.BuildKit.TLS.Key }},
	{name: "buildkit-tls-server-name", usage: "name a tcp:// buildkitd's certificate is verified against (default: the address's host)", field: func(c *Config) any { return &c.BuildKit.TLS.ServerName }},
	{name: "cache", def: CacheNone, usage: "cache backend: none, local, gha or s3", field: func(c *Config) any { return &c.Cache.Backend }},
	{name: "cache-dir", usage: "directory of the local cache", field: func(c *Config) any { return &c.Cache.Local.Dir }},
	{name: "cache-bucket", usage: "bucket of the s3 cache", field: func(c *Config) any { return &c.Cache.S3.Bucket }},
	{name: "cache-endpoint", usage: "URL of the s3 cache's S3-compatible store (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3)", field: func(c *Config) any { return &c.Cache.S3.Endpoint }},
	{name: "cache-region", usage: "region of the s3 cache's bucket (default: AWS_REGION, AWS_DEFAULT_REGION)", field: func(c *Config) any { return &c.Cache.S3.Region }},
	{name: "cache-path-style", usage: "address the s3 cache's bucket as ENDPOINT/BUCKET, not BUCKET.ENDPOINT", field: func(c *Config) any { return &c.Cache.S3.PathStyle }},
	// Secrets stay off the command line (see noFlag): the CLI reads AWS_ACCESS_KEY_ID
	// and AWS_SECRET_ACCESS_KEY, as every S3 tool does.
	{name: "cache-access-key", usage: "access key ID of the s3 cache (default: AWS_ACCESS_KEY_ID)", field: func(c *Config) any { return &c.Cache.S3.AccessKey }, noFlag: true},
	{name: "cache-secret-key", usage: "secret access key of the s3 cache (default: AWS_SECRET_ACCESS_KEY)", field: func(c *Config) any { return &c.Cache.S3.SecretKey }, noFlag: true},
	{name: "cache-key-prefix", def: "rust-s2i-musl", usage: "prefix of the cache keys", field: func(c *Config) any { return &c.Cache.KeyPrefix }},
	{name: "cache-protocol", usage: "protocol of the gha cache: v1 or v2 (default: detected)", field: func(c *Config) any { return &c.Cache.GHA.Protocol }},
	{name: "cache-timeout", usage: "bound on each cache call, e.g. 30s, at most 1h (default: 1m to restore, 2m to save)", field: func(c *Config) any { return &c.Cache.Timeout }},
	{name: "cache-save", def: "true", usage: "save the build state to the cache after the build; false only restores (for pull requests)", field: func(c *Config) any { return &c.Cache.Save }},
	{name: "push", usage: "push the final image", field: func(c *Config) any { return &c.Push }},
	{name: "username", usage: "registry user for push", field: func(c *Config) any { return &c.Registry.Username }, noFlag: true},
	{name: "password", usage: "registry password or token for push", field: func(c *Config) any { return &c.Registry.Password }, noFlag: true},
	{name: "registry-auth", secret: &registryAuthList, usage: "REGISTRY=USER:PASSWORD logins for push and pulls, one a line", field: func(c *Config) any { return &c.Registry.Auth }, noFlag: true},
	{name: "clean", usage: "ignore the previous -tmp image and build from scratch", field: func(c *Config) any { return &c.Clean }},
	// Supply chain (docs/supply-chain.md): what the image says about the crates in
	// its binary, and where the build came from.
	{name: "auditable", def: "true", usage: "embed the crates in the binary as cargo auditable does (a .dep-v0 section that syft, grype and trivy read); false leaves the binary as cargo made it", field: func(c *Config) any { return &c.Auditable }},
	{name: "sbom", def: "true", usage: "write the binary's SPDX SBOM to a file (the sbom output) and attach it to what is pushed", field: func(c *Config) any { return &c.SBOM }},
	{name: "provenance", def: "true", usage: "attach SLSA provenance to what is pushed (and to a multi-platform oci-output); it has no effect on an image only loaded into the daemon", field: func(c *Config) any { return &c.Provenance }},
	{name: "oci-output", usage: "also write the final image (every platform) to this directory as an OCI image layout", field: func(c *Config) any { return &c.OCIOutput }},
	{name: "output-file", usage: "also write outputs as KEY=VALUE lines to this file", field: func(c *Config) any { return &c.OutputFile }},
}
