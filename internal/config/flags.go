package config

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// BuildFlags registers the build subcommand's flags (see settings) on fs, writing
// into c; each flag's default is what c holds.
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
		case *time.Duration:
			// Not fs.DurationVar: its error for a bad value is Go's, not ours.
			fs.Var((*durationFlag)(p), s.name, s.usage)
		case *[]string:
			fs.Var((*listFlag)(p), s.name, s.usage)
			if s.alias != "" {
				fs.Var((*listFlag)(p), s.alias, "the same as --"+s.name)
			}
		case *[]platform.Platform:
			fs.Var((*platformFlag)(p), s.name, s.usage)
			if s.alias != "" {
				fs.Var((*platformFlag)(p), s.alias, "the same as --"+s.name)
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

// String is the entries so far, for the flag package's help.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set adds one entry: each use of the flag is one.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// durationFlag is a duration flag that parses as the action input and the plugin
// setting of the same name do (see parseDuration).
type durationFlag time.Duration

// String is the duration, or "" when unset, for the flag package's help.
func (d *durationFlag) String() string {
	if *d == 0 {
		return "" // unset: the help text says what that means
	}
	return time.Duration(*d).String()
}

// Set parses v with parseDuration.
func (d *durationFlag) Set(v string) error {
	p, err := parseDuration(v)
	if err != nil {
		return err
	}
	*d = durationFlag(p)
	return nil
}

// platformFlag collects --platform: each use is a platform or a list of them, as
// the platforms input takes it (linux/amd64,linux/arm64), and a platform named
// again is not added twice.
type platformFlag []platform.Platform

// String is the platforms so far, for the flag package's help.
func (f *platformFlag) String() string { return platformList(*f) }

// Set adds the platforms in v, keeping the order and dropping repeats.
func (f *platformFlag) Set(v string) error {
	ps, err := platform.Parse(v)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if !slices.Contains(*f, p) {
			*f = append(*f, p)
		}
	}
	return nil
}
