package cli

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

func runBuilder(ctx context.Context, args []string, sys IO) error {
	b, err := config.ParseBuilderFlags(args, sys.Stderr)
	if err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	c, err := engine.Connect(ctx, sys.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	libs, _ := b.CLibSet() // valid: Validate said so
	o := builder.Options{Base: b.Base, Toolchain: b.Toolchain, Target: b.Target, Tag: b.ImageTag(), CLibs: libs, CLibsSource: b.CLibsSource}
	if o.Target == "" {
		// The builder's target follows the daemon it is built on: an arm64 runner
		// makes an aarch64 builder.
		if info, err := c.Info(ctx, client.InfoOptions{}); err == nil {
			o.Target = builder.DefaultTarget(info.Info.Architecture)
		}
	}
	if err := builder.Build(ctx, c, o, sys.Stderr); err != nil {
		return err
	}
	fmt.Fprintln(sys.Stdout, o.Tag)
	return nil
}
