package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/build"
	"github.com/rust-s2i/rust-s2i-musl/internal/ci"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// pluginOutputFile is where the Woodpecker/Drone plugin writes its outputs when
// output_file is not set: those CIs have no step outputs, later steps read the file.
const pluginOutputFile = "rust-s2i-musl.env"

// runBuild builds from flags or, with no arguments inside GitHub Actions or a
// Woodpecker/Drone plugin step, from the action's inputs or the plugin's settings.
func runBuild(ctx context.Context, args []string, io IO) error {
	cfg, naming, frontEnd, err := buildConfig(args, io)
	rep := &ci.Reporter{Log: io.Stderr, Out: io.Stdout, Now: time.Now}
	if frontEnd == config.FrontEndActions {
		rep.GitHub = ci.NewGitHub(io.Stderr, io.Getenv)
	}
	// Masked before anything else is printed, the bad-input report included.
	rep.Mask(string(cfg.Password), io.Getenv("ACTIONS_RUNTIME_TOKEN"))
	if err != nil && frontEnd == "flags" {
		return err // flag parsing stops at the first bad flag: nothing to validate
	}
	// Inputs and settings are parsed one by one: report their problems together
	// with the rest, every bad input in one run.
	if err := errors.Join(err, cfg.Validate(naming)); err != nil {
		return err
	}
	if frontEnd == config.FrontEndPlugin && cfg.OutputFile == "" {
		cfg.OutputFile = pluginOutputFile
	}
	rep.OutputFile = cfg.OutputFile

	start := time.Now()
	c, err := engine.Connect(ctx, io.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	p := &build.Pipeline{
		Engine: c, Host: daemonHost(c), Report: rep, Log: io.Stderr, Getenv: io.Getenv,
		Cache: openStore(cfg, io.Getenv, rep.Warn), TempDir: io.Getenv("RUNNER_TEMP"),
		Annotate: frontEnd == config.FrontEndActions,
	}
	if exe, err := os.Executable(); err == nil {
		p.Exe = exe
	}
	if _, err := p.Run(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(io.Stderr, "built %s in %s\n", cfg.FinalImage(), time.Since(start).Round(time.Millisecond))
	return rep.Finish()
}

// buildConfig reads the settings from the front end in use.
func buildConfig(args []string, io IO) (config.Config, config.Naming, string, error) {
	if len(args) == 0 {
		cfg, naming, frontEnd, err := config.FromEnvironment(io.Getenv)
		return cfg, naming, frontEnd, err
	}
	cfg, err := config.ParseBuildFlags(args, io.Stderr)
	return cfg, config.FlagNaming, "flags", err
}

func daemonHost(c *client.Client) string {
	if h := c.DaemonHost(); h != "" {
		return h
	}
	return client.DefaultDockerHost
}
