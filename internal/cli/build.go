package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/build"
	"github.com/rust-s2i/rust-s2i-musl/internal/ci"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

func runBuild(ctx context.Context, args []string, io IO) error {
	cfg, err := config.ParseBuildFlags(args, io.Stderr)
	if err != nil {
		return err
	}
	if err := cfg.Validate(config.FlagNaming); err != nil {
		return err
	}
	if cfg.Push {
		return &config.InputError{Name: "--push", Problem: "not supported by this version yet"}
	}
	start := time.Now()
	rep := &ci.Plain{Log: io.Stderr, Out: io.Stdout, OutputFile: cfg.OutputFile, Now: time.Now}
	c, err := engine.Connect(ctx, io.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	p := &build.Pipeline{
		Engine: c, Host: daemonHost(c), Report: rep, Log: io.Stderr, Getenv: io.Getenv,
		Cache: openStore(cfg, io.Getenv, rep.Warn), TempDir: io.Getenv("RUNNER_TEMP"),
	}
	if _, err := p.Run(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(io.Stderr, "built %s in %s\n", cfg.FinalImage(), time.Since(start).Round(time.Millisecond))
	return rep.Finish()
}

func daemonHost(c *client.Client) string {
	if h := c.DaemonHost(); h != "" {
		return h
	}
	return client.DefaultDockerHost
}
