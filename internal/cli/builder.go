package cli

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

var toolchainRe = regexp.MustCompile(`^(stable|beta|nightly|1\.[0-9]+(\.[0-9]+)?|nightly-[0-9]{4}-[0-9]{2}-[0-9]{2})$`)

func runBuilder(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("builder", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	var o builder.Options
	fs.StringVar(&o.Toolchain, "toolchain", "stable", "rustup toolchain: stable, 1.NN.N or nightly-YYYY-MM-DD")
	fs.StringVar(&o.Base, "base", "", "Rust base image (default: the Dockerfile's)")
	fs.StringVar(&o.Target, "target", "", "target triple (default x86_64-unknown-linux-musl)")
	fs.StringVar(&o.Tag, "tag", "", "image name (default: the default builder for the toolchain)")
	if err := fs.Parse(args); err != nil {
		return &config.InputError{Name: "builder", Problem: err.Error()}
	}
	if o.Tag == "" {
		o.Tag = strings.TrimSuffix(config.DefaultBuilder, ":stable") + ":" + o.Toolchain
	}
	var errs []error
	if !toolchainRe.MatchString(o.Toolchain) {
		errs = append(errs, &config.InputError{Name: "--toolchain", Problem: fmt.Sprintf("%q is not stable, beta, nightly, 1.NN[.N] or nightly-YYYY-MM-DD", o.Toolchain)})
	}
	for _, r := range []struct{ name, v string }{{"--base", o.Base}, {"--tag", o.Tag}} {
		if r.v == "" {
			continue
		}
		if _, err := reference.ParseNormalizedNamed(r.v); err != nil {
			errs = append(errs, &config.InputError{Name: r.name, Problem: fmt.Sprintf("%q is not a valid image reference: %v", r.v, err)})
		}
	}
	if err := joinInput(errs); err != nil {
		return err
	}
	c, err := engine.Connect(ctx, io.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := builder.Build(ctx, c, o, io.Stderr); err != nil {
		return err
	}
	fmt.Fprintln(io.Stdout, o.Tag)
	return nil
}
