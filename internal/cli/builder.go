package cli

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/builder/layers"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
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
	if b.Push == "" {
		return nil
	}
	return publishBuilder(ctx, c, o.Tag, b.Push, sys)
}

// publishBuilder pushes the builder image tag to ref in layers made for pulling
// (builder.Publish), gzip there and zstd at its zstd variant, with the Docker
// config's logins. The pushed references with their digests go to stdout, for a
// script; the progress and the table of the layers to stderr.
func publishBuilder(ctx context.Context, c *client.Client, tag, ref string, sys IO) error {
	zstdRef, err := config.ZstdVariant(ref) // valid: Validate said so
	if err != nil {
		return err
	}
	logins := registry.Logins{ConfigDir: engine.ConfigDir(sys.Getenv)}
	pub, err := builder.Publish(ctx, c, builder.PublishOptions{
		Image: tag, Gzip: ref, Zstd: zstdRef, Keychain: logins.Keychain(), TempDir: sys.Getenv("RUNNER_TEMP"),
	}, sys.Stderr)
	if err != nil {
		return err
	}
	if err := layers.WriteTable(sys.Stderr, pub.Layers); err != nil {
		return err
	}
	for _, p := range pub.Pushed {
		fmt.Fprintf(sys.Stdout, "%s@%s\n", p.Ref, p.Digest)
	}
	return nil
}
