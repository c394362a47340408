package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/buildkit"
	"github.com/rust-s2i/rust-s2i-musl/internal/ci"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/pipeline"
)

// newPipeline connects to the engine the settings pick and wires the stages of a
// build on it: the Docker Engine's, or BuildKit's. With engine auto that is the
// Docker Engine when it answers, else BuildKit when an address is set; with
// neither, the Docker Engine's error when the user named that daemon (exit 1),
// else bad input naming both. close ends the connection.
func newPipeline(ctx context.Context, cfg config.Config, naming config.Naming, sys IO, rep *ci.Reporter) (p *pipeline.Pipeline, close func(), err error) {
	tempDir := sys.Getenv("RUNNER_TEMP")
	if cfg.Engine != config.EngineBuildKit {
		ep, err := engine.Resolve(sys.Getenv)
		if err != nil {
			return nil, nil, err
		}
		c, err := ep.Connect(ctx)
		switch {
		case err == nil:
			p := pipeline.New(pipeline.Deps{Engine: c, Host: ep.Host, S2I: s2iRunner(c, ep, sys),
				Cache: openStore(cfg, sys.Getenv, rep.Warn), TempDir: tempDir, Report: rep, Log: sys.Stderr})
			return p, func() { c.Close() }, nil
		case cfg.Engine == config.EngineDocker || ctx.Err() != nil:
			return nil, nil, err
		case !kitAddr(cfg.BuildKit.Addr()) && ep.Chosen():
			return nil, nil, err // the daemon the user named: its own error (exit 1)
		case !kitAddr(cfg.BuildKit.Addr()):
			return nil, nil, &config.InputError{Name: naming("engine"), Problem: fmt.Sprintf(
				"no engine to build on: %v; and no BuildKit address: set %s (or %s) to buildkitd's unix:// or tcp:// address, or make the Docker Engine reachable",
				err, naming("buildkit-host"), config.BuildKitHostEnv), Err: err}
		}
		fmt.Fprintf(sys.Stderr, "the Docker Engine does not answer (%v): building on buildkitd at %s\n", err, cfg.BuildKit.Addr())
	}
	tls := cfg.BuildKit.TLS
	kit, err := buildkit.Connect(ctx, buildkit.Options{Host: cfg.BuildKit.Addr(),
		CACert: tls.CACert, Cert: tls.Cert, Key: tls.Key, ServerName: tls.ServerName})
	if err != nil {
		return nil, nil, err
	}
	p = pipeline.NewKit(pipeline.KitDeps{Kit: kit, Cache: openStore(cfg, sys.Getenv, rep.Warn), TempDir: tempDir, Report: rep, Log: sys.Stderr})
	return p, func() { kit.Close() }, nil
}

// kitAddr reports whether addr is an address this program reaches buildkitd at:
// BUILDKIT_HOST may hold one that only buildctl takes (docker-container://).
func kitAddr(addr string) bool {
	return strings.HasPrefix(addr, "unix://") || strings.HasPrefix(addr, "tcp://")
}
