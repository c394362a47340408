package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/distribution/reference"

	"github.com/rust-s2i/rust-s2i-musl/internal/bootstrap"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

func runBootstrap(ctx context.Context, args []string, iox IO) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(iox.Stderr)
	cfg := config.Defaults()
	var cargoHome string
	fs.StringVar(&cargoHome, "cargo-home", "", "cargo home filled by `CARGO_HOME=DIR cargo fetch` (required)")
	fs.StringVar(&cfg.Binary, "binary", "", "binary whose -tmp image to make (required)")
	fs.StringVar(&cfg.Builder, "builder", cfg.Builder, "builder image")
	fs.StringVar(&cfg.TmpImage, "tmp-image", "", "image to make (default rust-musl-BINARY-tmp)")
	if err := fs.Parse(args); err != nil {
		return &config.InputError{Name: "bootstrap", Problem: err.Error()}
	}
	var errs []error
	if cargoHome == "" {
		errs = append(errs, &config.InputError{Name: "--cargo-home", Problem: "is required"})
	} else if st, err := os.Stat(cargoHome); err != nil || !st.IsDir() {
		errs = append(errs, &config.InputError{Name: "--cargo-home", Problem: fmt.Sprintf("%q is not a directory", cargoHome)})
	}
	if cfg.Binary == "" {
		errs = append(errs, &config.InputError{Name: "--binary", Problem: "is required"})
	}
	for _, r := range []struct{ name, v string }{{"--builder", cfg.Builder}, {"--tmp-image", cfg.TmpImage}} {
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

	c, err := engine.Connect(ctx, iox.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ImageInspect(ctx, cfg.Builder); err != nil {
		return fmt.Errorf("builder image %s: %w (make it with rust-s2i-musl builder)", cfg.Builder, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bootstrap.CargoHome(pw, cargoHome)) }()
	id, err := bootstrap.Image(ctx, c, cfg.Builder, cfg.IncrementalImage(), pr)
	pr.CloseWithError(err)
	if err != nil {
		return err
	}
	fmt.Fprintf(iox.Stderr, "made %s (%s) from %s; the next build of %s is incremental from it\n", cfg.IncrementalImage(), id, cargoHome, cfg.Binary)
	fmt.Fprintln(iox.Stdout, cfg.IncrementalImage())
	return nil
}

// joinInput joins input errors so that report sees them as bad input.
func joinInput(errs []error) error {
	return errors.Join(errs...)
}
