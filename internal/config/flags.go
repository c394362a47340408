package config

import (
	"flag"
	"io"
	"strings"
)

// BuildFlags registers the build subcommand's flags on fs, writing into c.
func BuildFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Binary, "binary", c.Binary, "cargo binary target to build (required)")
	fs.StringVar(&c.Source, "source", c.Source, "crate directory or git URL")
	fs.StringVar(&c.Builder, "builder", c.Builder, "builder image")
	fs.StringVar(&c.RuntimeImage, "runtime-image", c.RuntimeImage, "base image of the final image")
	fs.StringVar(&c.Image, "image", c.Image, "final image name[:tag] (default rust-musl-BINARY)")
	fs.StringVar(&c.TmpImage, "tmp-image", c.TmpImage, "incremental image (default rust-musl-BINARY-tmp)")
	fs.StringVar(&c.Target, "target", c.Target, "target triple (default: the builder image's)")
	fs.Var((*listFlag)(&c.Env), "env", "NAME=VALUE for the build, repeatable")
	fs.StringVar(&c.Network, "network", c.Network, "network of the build container: bridge, host or none")
	fs.StringVar(&c.Cache, "cache", c.Cache, "cache backend: none, local or gha")
	fs.StringVar(&c.CacheDir, "cache-dir", c.CacheDir, "directory of the local cache")
	fs.StringVar(&c.CacheKeyPrefix, "cache-key-prefix", c.CacheKeyPrefix, "prefix of the cache keys")
	fs.BoolVar(&c.Push, "push", c.Push, "push the final image")
	fs.BoolVar(&c.Clean, "clean", c.Clean, "ignore the previous -tmp image and build from scratch")
	fs.StringVar(&c.OutputFile, "output-file", c.OutputFile, "also write outputs as KEY=VALUE lines to this file")
}

// ParseBuildFlags fills a Config from the build subcommand's arguments.
func ParseBuildFlags(args []string, usage io.Writer) (Config, error) {
	c := Defaults()
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(usage)
	BuildFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, &InputError{Name: "build", Problem: err.Error()}
	}
	if fs.NArg() > 0 {
		return c, &InputError{Name: "build", Problem: "unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	return c, nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
