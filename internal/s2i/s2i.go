// Package s2i assembles the Source-to-Image request for a Rust build and runs it
// through the source-to-image library (no s2i binary, no docker CLI): in this
// process (InProcess) or in a child process of this program (Isolated), which the
// composition root picks.
package s2i

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/openshift/source-to-image/pkg/api"
	"github.com/openshift/source-to-image/pkg/api/validation"
	"github.com/openshift/source-to-image/pkg/build"
	"github.com/openshift/source-to-image/pkg/build/strategies"
	s2ierr "github.com/openshift/source-to-image/pkg/errors"
	"github.com/openshift/source-to-image/pkg/scm/git"
)

// DefaultExclude is S2I's own default exclude pattern. Builds must not use it: it
// strips the .git directories of git dependencies inside the source (and filtered
// S2I's save-artifacts stream, which builds no longer use). Tests use it to show that.
const DefaultExclude = `(^|/)\.git(/|$)`

// Request is one S2I build of the -tmp image. It is never incremental in S2I's
// sense: a build that reuses state runs on top of an image that holds it
// (Builder is then the -tmp image).
type Request struct {
	Source   string // a directory or a git URL
	Copy     bool   // copy Source as it is, uncommitted files included, rather than clone it
	Builder  string
	Tag      string // the -tmp image
	Env      []string
	Network  string
	Endpoint string // the daemon's address (engine.Endpoint.Host); S2I only checks and logs it, the client is ours
	Labels   map[string]string
	Volumes  []string // NAME:/path[:ro] for the build containers; never committed
	Exclude  string   // "" in every real build; see DefaultExclude

	// CollectDir and Collect name files that are read from the build container once
	// assemble has succeeded, while S2I commits it (see collect.go): the binary for
	// the final image, which then needs no container of its own.
	CollectDir string
	Collect    []string
	// OnCollected, when set, is given those files as soon as they are read, before
	// the commit ends, so that the final image can be written meanwhile. It is
	// called at most once, and not for a build that fails before its commit.
	OnCollected func(files map[string][]byte) `json:"-"`
}

// Result is what the build produced.
type Result struct {
	ImageID string
	// Stages are S2I's own timings: "assemble" (container, source in, the script,
	// commit) and "commit". (The pipeline adds "artifacts out" when it carried the
	// previous state over to a new builder.)
	Stages map[string]time.Duration
	// Times are when the build's steps happened, by the Mark* names: what the
	// phase's breakdown is made of.
	Times map[string]time.Time
	// Collected are the Collect files that were read; missing when they could not
	// be (the caller then reads them from the image).
	Collected map[string][]byte
}

// stageNames are the S2I stages reported, by the names the build's output uses.
var stageNames = map[api.StageName]string{
	api.StageAssemble: "assemble",
	api.StageCommit:   "commit",
}

// FailedError is a build that ran and failed, as opposed to one that could not run:
// the caller reports it as a failed build (exit 1) and the earlier images stay.
type FailedError struct {
	ExitCode int
	Err      error
	// Annotations are the compile errors assemble marked for the CI's annotations
	// (see Annotation); none outside GitHub Actions.
	Annotations []Annotation
	// BuildScripts are the packages whose build script failed, as cargo's output
	// named them (FailedBuildScripts).
	BuildScripts []string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("assemble failed with exit code %d (the build output above says why)", e.ExitCode)
}

func (e *FailedError) Unwrap() error { return e.Err }

// Config turns a Request into the library's Config.
func Config(req Request) (*api.Config, error) {
	src, err := git.Parse(req.Source)
	if err != nil {
		return nil, fmt.Errorf("parsing source %q: %w", req.Source, err)
	}
	env := api.EnvironmentList{}
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, api.EnvironmentSpec{Name: k, Value: v})
	}
	cfg := &api.Config{
		BuilderImage: req.Builder,
		Source:       src,
		Tag:          req.Tag,
		// Never S2I's incremental path: it runs save-artifacts in the previous image
		// and untars its output on the host with lexical checks only, so a state an
		// earlier build planted (a symlink, then a file through it) would write
		// outside. The pipeline carries the state over itself (tmpimage.FromImage).
		Incremental:             false,
		BuilderPullPolicy:       api.PullNever,
		PreviousImagePullPolicy: api.PullNever, // the -tmp image is local state, never pulled
		RuntimeImagePullPolicy:  api.PullNever,
		ForceCopy:               req.Copy,
		ExcludeRegExp:           req.Exclude,
		Environment:             env,
		DockerConfig:            &api.DockerConfig{Endpoint: req.Endpoint},
		Labels:                  req.Labels,
		BuildVolumes:            req.Volumes,
		ImageScriptsURL:         "image:///usr/libexec/s2i",
		KeepSymlinks:            true,
	}
	if errs := validation.ValidateConfig(cfg); len(errs) > 0 {
		var all []error
		for _, e := range errs {
			all = append(all, e)
		}
		return nil, fmt.Errorf("s2i config: %w", errors.Join(all...))
	}
	// Set after validation: S2I's validator knows only bridge, host, container: and
	// netns:, but Docker's "none" (a build that must not reach the network) passes
	// through to the containers unchanged.
	cfg.DockerNetworkMode = api.DockerNetworkMode(req.Network)
	return cfg, nil
}

// InProcess runs builds in this process. S2I's own handler then owns SIGINT and
// SIGTERM while a container runs (see ChildCommand): fine for tests and tools that
// never cancel, Isolated for everything else.
type InProcess struct{ Engine *client.Client }

// Build runs Build with the Engine.
func (b InProcess) Build(ctx context.Context, req Request) (Result, error) {
	return Build(ctx, b.Engine, req)
}

// Build runs the S2I build. The assemble output streams to the process's stderr
// through S2I's own logger as it happens. Cancelling ctx removes the containers the
// build created, and only those (see tracker); the images are left as they were.
func Build(ctx context.Context, c *client.Client, req Request) (Result, error) {
	return buildTracked(ctx, c, req, nil)
}

// buildTracked is Build, telling record the name of each container before it is created.
func buildTracked(ctx context.Context, c *client.Client, req Request, record func(string) error) (Result, error) {
	cfg, err := Config(req)
	if err != nil {
		return Result{}, err
	}
	tr := &tracker{Client: c, record: record}
	tr.times.mark(MarkBegin)
	if len(req.Collect) > 0 {
		tr.collect = &collector{dir: req.CollectDir, names: req.Collect, onCollected: req.OnCollected}
	}
	dl, err := downloader(req, cfg, tr.collect)
	if err != nil {
		return Result{}, err
	}
	b, _, err := strategies.Strategy(tr, cfg, build.Overrides{Downloader: dl})
	if err != nil {
		return Result{}, fmt.Errorf("preparing s2i build with %s: %w", req.Builder, err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stopOnCancel(ctx, c, tr.stop, done)
	}()
	res, err := b.Build(cfg)
	tr.times.mark(MarkEnd)
	close(done)
	<-stopped
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("build stopped: %w", context.Cause(ctx))
	}
	if err != nil {
		var ce s2ierr.ContainerError
		if errors.As(err, &ce) {
			return Result{}, &FailedError{ExitCode: ce.ExitCode, Err: err, Annotations: tr.notes.list(), BuildScripts: tr.scripts.list()}
		}
		return Result{}, fmt.Errorf("s2i build: %w", err)
	}
	if res == nil || !res.Success {
		return Result{}, errors.New("s2i build reported failure")
	}
	stages := map[string]time.Duration{}
	for _, st := range res.BuildInfo.Stages {
		if n, ok := stageNames[st.Name]; ok {
			stages[n] += time.Duration(st.DurationMilliseconds) * time.Millisecond
		}
	}
	return Result{ImageID: res.ImageID, Stages: stages, Times: tr.times.all(), Collected: tr.collect.result()}, nil
}
