package config

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// setting is one build setting. Its kebab-case name is the flag (--name), the action
// input (name, in action.yml) and, with - turned into _, the Woodpecker/Drone
// setting (name_with_underscores, read as PLUGIN_NAME_WITH_UNDERSCORES). Every front
// end ranges over settings, so a new setting is one line here plus its Config field,
// and the tests fail until action.yml declares it too.
type setting struct {
	name  string
	usage string
	// field points into the Config: *string, *Secret, *bool or *[]string. The type
	// picks the parser: text as is, true/false, a list of NAME=VALUE.
	field func(*Config) any
	// noFlag keeps a setting out of the command line. A registry password there would
	// be in ps output and shell history; the CLI uses the Docker config instead.
	noFlag bool
	// alias is a second flag name, such as --tag for tags, repeated on the CLI.
	alias string
	// items matches where an entry of a list setting begins after a comma; nil is
	// NAME=VALUE (see splitList).
	items *regexp.Regexp
}

func (s setting) itemStart() *regexp.Regexp {
	if s.items != nil {
		return s.items
	}
	return envStart
}

var settings = []setting{
	{name: "binary", usage: "cargo binary target to build (required)", field: func(c *Config) any { return &c.Binary }},
	{name: "source", usage: "crate directory or git URL", field: func(c *Config) any { return &c.Source }},
	{name: "builder", usage: "builder image", field: func(c *Config) any { return &c.Builder }},
	{name: "runtime-image", usage: "base image of the final image", field: func(c *Config) any { return &c.RuntimeImage }},
	{name: "image", usage: "final image name[:tag] (default rust-musl-BINARY)", field: func(c *Config) any { return &c.Image }},
	{name: "tags", alias: "tag", items: anyStart, usage: "more names for the final image, NAME[:TAG], repeatable (as docker/metadata-action prints them)", field: func(c *Config) any { return &c.Tags }},
	{name: "labels", items: labelStart, usage: "KEY=VALUE labels of the final image, repeatable", field: func(c *Config) any { return &c.Labels }},
	{name: "pull", usage: "pull the builder and runtime images: missing or always", field: func(c *Config) any { return &c.Pull }},
	{name: "tmp-image", usage: "incremental image (default rust-musl-BINARY-tmp)", field: func(c *Config) any { return &c.TmpImage }},
	{name: "target", usage: "target triple (default: the builder image's)", field: func(c *Config) any { return &c.Target }},
	{name: "features", usage: "cargo features to enable, comma- or space-separated, repeatable", field: func(c *Config) any { return &c.Features }},
	{name: "all-features", usage: "cargo --all-features", field: func(c *Config) any { return &c.AllFeatures }},
	{name: "no-default-features", usage: "cargo --no-default-features", field: func(c *Config) any { return &c.NoDefaultFeatures }},
	{name: "profile", usage: "cargo profile; the binary is taken from its directory (dev: debug)", field: func(c *Config) any { return &c.Profile }},
	{name: "locked", usage: "cargo --locked when a Cargo.lock exists; false lets cargo update it", field: func(c *Config) any { return &c.Locked }},
	{name: "env", usage: "NAME=VALUE for the build, repeatable", field: func(c *Config) any { return &c.Env }},
	{name: "secret-env", usage: "NAME=VALUE (or NAME, read from this environment) that cargo sees but no image, log or cache entry holds, repeatable", field: func(c *Config) any { return &c.SecretEnv }},
	{name: "network", usage: "network of the build container: bridge, host or none", field: func(c *Config) any { return &c.Network }},
	{name: "cache", usage: "cache backend: none, local, gha or s3", field: func(c *Config) any { return &c.Cache }},
	{name: "cache-dir", usage: "directory of the local cache", field: func(c *Config) any { return &c.CacheDir }},
	{name: "cache-bucket", usage: "bucket of the s3 cache", field: func(c *Config) any { return &c.CacheBucket }},
	{name: "cache-endpoint", usage: "URL of the s3 cache's S3-compatible store (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3)", field: func(c *Config) any { return &c.CacheEndpoint }},
	{name: "cache-region", usage: "region of the s3 cache's bucket (default: AWS_REGION, AWS_DEFAULT_REGION)", field: func(c *Config) any { return &c.CacheRegion }},
	{name: "cache-path-style", usage: "address the s3 cache's bucket as ENDPOINT/BUCKET, not BUCKET.ENDPOINT", field: func(c *Config) any { return &c.CachePathStyle }},
	// Secrets stay off the command line (see noFlag): the CLI reads AWS_ACCESS_KEY_ID
	// and AWS_SECRET_ACCESS_KEY, as every S3 tool does.
	{name: "cache-access-key", usage: "access key ID of the s3 cache (default: AWS_ACCESS_KEY_ID)", field: func(c *Config) any { return &c.CacheAccessKey }, noFlag: true},
	{name: "cache-secret-key", usage: "secret access key of the s3 cache (default: AWS_SECRET_ACCESS_KEY)", field: func(c *Config) any { return &c.CacheSecretKey }, noFlag: true},
	{name: "cache-key-prefix", usage: "prefix of the cache keys", field: func(c *Config) any { return &c.CacheKeyPrefix }},
	{name: "cache-protocol", usage: "protocol of the gha cache: v1 or v2 (default: detected)", field: func(c *Config) any { return &c.CacheProtocol }},
	{name: "cache-timeout", usage: "bound on each cache call, e.g. 30s (default: 1m to restore, 2m to save)", field: func(c *Config) any { return &c.CacheTimeout }},
	{name: "cache-save", usage: "save the build state to the cache after the build; false only restores (for pull requests)", field: func(c *Config) any { return &c.CacheSave }},
	{name: "push", usage: "push the final image", field: func(c *Config) any { return &c.Push }},
	{name: "username", usage: "registry user for push", field: func(c *Config) any { return &c.Username }, noFlag: true},
	{name: "password", usage: "registry password or token for push", field: func(c *Config) any { return &c.Password }, noFlag: true},
	{name: "registry-auth", items: labelStart, usage: "REGISTRY=USER:PASSWORD logins for push and pulls, one a line", field: func(c *Config) any { return &c.RegistryAuth }, noFlag: true},
	{name: "clean", usage: "ignore the previous -tmp image and build from scratch", field: func(c *Config) any { return &c.Clean }},
	{name: "output-file", usage: "also write outputs as KEY=VALUE lines to this file", field: func(c *Config) any { return &c.OutputFile }},
}

// BuildFlags registers the build subcommand's flags on fs, writing into c.
func BuildFlags(fs *flag.FlagSet, c *Config) {
	for _, s := range settings {
		if s.noFlag {
			continue
		}
		switch p := s.field(c).(type) {
		case *string:
			fs.StringVar(p, s.name, *p, s.usage)
		case *bool:
			fs.BoolVar(p, s.name, *p, s.usage)
		case *[]string:
			fs.Var((*listFlag)(p), s.name, s.usage)
			if s.alias != "" {
				fs.Var((*listFlag)(p), s.alias, "the same as --"+s.name)
			}
		default:
			panic(fmt.Sprintf("config: setting %s has a field of type %T", s.name, p))
		}
	}
}

// ParseBuildFlags fills a Config from the build subcommand's arguments.
func ParseBuildFlags(args []string, usage io.Writer) (Config, error) {
	c := Defaults()
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(usage)
	BuildFlags(fs, &c)
	return c, parse(fs, args)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
