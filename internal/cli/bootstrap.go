package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

func runBootstrap(ctx context.Context, args []string, sys IO) error {
	b, err := config.ParseBootstrapFlags(args, sys.Stderr)
	if err != nil {
		return err
	}
	if err := errors.Join(b.Validate(), b.Preflight()); err != nil {
		return err
	}
	c, err := engine.Connect(ctx, sys.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ImageInspect(ctx, b.Builder); err != nil {
		return fmt.Errorf("builder image %s: %w (make it with rust-s2i-musl builder)", b.Builder, err)
	}
	tag := b.IncrementalImage()
	// No source label: the cargo home is the user's own, for whichever source builds next.
	id, err := tmpimage.FromCargoHome(ctx, c, b.Builder, tag, b.CargoHome, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(sys.Stderr, "made %s (%s) from %s; the next build of %s is incremental from it\n", tag, id, b.CargoHome, b.Binary)
	fmt.Fprintln(sys.Stdout, tag)
	return nil
}
