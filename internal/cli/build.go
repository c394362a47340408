package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/ci"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/pipeline"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// pluginOutputFile is where the Woodpecker/Drone plugin writes its outputs when
// output_file is not set: those CIs have no step outputs, later steps read the file.
const pluginOutputFile = "rust-s2i-musl.env"

// runBuild builds from flags or, with no arguments inside GitHub Actions or a
// Woodpecker/Drone plugin step, from the action's inputs or the plugin's settings.
func runBuild(ctx context.Context, args []string, sys IO, version Version) error {
	cfg, naming, frontEnd, err := buildConfig(args, sys)
	rep := newReporter(cfg, frontEnd, sys)
	// Masked before anything else is printed, the bad-input report included.
	rep.Mask(cfg.Secrets(sys.Getenv)...)
	secrets, serr := cfg.ResolveSecrets(naming, sys.Getenv)
	cfg.SecretEnv = secrets
	if err != nil && frontEnd == "flags" {
		return err // flag parsing stops at the first bad flag: nothing to validate
	}
	// Inputs and settings are parsed one by one: report their problems together
	// with the rest, every bad input in one run.
	for _, n := range cfg.LowercaseNames() {
		rep.Notice("%s", n)
	}
	if err := errors.Join(err, cfg.Validate(naming), cfg.Preflight(naming), serr); err != nil {
		return err
	}

	start := sys.Now()
	p, closeEngine, err := newPipeline(ctx, cfg, naming, sys, rep)
	if err != nil {
		return err
	}
	defer closeEngine()
	pl, err := plan.New(ctx, cfg, plan.Options{Getenv: sys.Getenv, Annotate: frontEnd == config.FrontEndActions, Naming: naming, Version: string(version)})
	if err == nil {
		_, err = p.Run(ctx, pl)
	}
	if err != nil {
		if ferr := rep.Fail(err); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	fmt.Fprintf(sys.Stderr, "built %s in %s\n", cfg.FinalImage(), sys.Now().Sub(start).Round(time.Millisecond))
	return rep.Finish()
}

// newReporter returns the reporter for the front end: workflow commands inside
// Actions, plain lines elsewhere. The Woodpecker/Drone plugin always writes an
// output file, as those CIs have no step outputs.
func newReporter(cfg config.Config, frontEnd string, sys IO) *ci.Reporter {
	o := ci.Options{Log: sys.Stderr, Out: sys.Stdout, OutputFile: cfg.OutputFile, Now: sys.Now}
	if frontEnd == config.FrontEndPlugin && o.OutputFile == "" {
		o.OutputFile = pluginOutputFile
	}
	if frontEnd == config.FrontEndActions {
		return ci.NewActions(o, sys.Getenv)
	}
	return ci.NewPlain(o)
}

// s2iRunner runs each S2I build in a child process of this program (see
// s2i.ChildCommand), so that a cancelled build is cleaned up here. Only when the
// program cannot find itself does the build run in this process. S2I's working
// copy goes to the system's temporary directory, not to RUNNER_TEMP: that is for
// cache archives, which may live on another disk. The child is told the endpoint
// this process resolved, so that both talk to the same daemon.
func s2iRunner(c *client.Client, ep engine.Endpoint, sys IO) pipeline.S2I {
	exe, err := os.Executable()
	if err != nil {
		return s2i.InProcess{Engine: c}.Build
	}
	return s2i.Isolated{Exe: exe, Engine: c, Stderr: sys.Stderr, Env: ep.ChildEnv()}.Build
}

// buildConfig reads the settings from the front end in use. With flags it reads
// BUILDKIT_HOST here, as FromEnvironment does for the action and the plugin.
func buildConfig(args []string, sys IO) (config.Config, config.Naming, string, error) {
	if len(args) == 0 {
		return config.FromEnvironment(sys.Getenv)
	}
	cfg, err := config.ParseBuildFlags(args, sys.Stderr)
	cfg.BuildKit.ReadEnvironment(sys.Getenv)
	return cfg, config.FlagNaming, "flags", err
}
