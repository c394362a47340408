// Package pipeline is what `rust-s2i-musl build` runs, as seven stages over one
// plan.Plan: prepare the images the build needs, stop early when nothing changed,
// restore the build state from the cache, run the S2I build of the -tmp image (on
// top of the previous one when the daemon has it), package the binary on the
// runtime base, publish it (tag and push), and save the state back to the cache.
//
// Each stage is an interface declared here, its consumer; New wires the stages of
// a real build to an Engine, the part of the Docker client they use, so that a test
// can swap a stage or give them an in-memory engine. The S2I step and the cache
// come in from the composition root.
package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// Reporter is where the pipeline says what it does.
type Reporter interface {
	Phase(name string) (end func())
	Record(name string, d time.Duration) // a part of the phase just ended
	// Fact says something the build found out that is no output, such as how it
	// got the builder image: a line of the log, a row of the job summary.
	Fact(name, text string)
	Warn(format string, args ...any)
	Output(key, value string)
	// StopCommands has the CI take every log line as text until resume, around the
	// build's own output (cargo's, build scripts'); see ci.Reporter.StopCommands.
	StopCommands() (resume func())
	// Annotate shows a compile error on its source line where the CI can.
	Annotate(file string, line, col int, msg string)
}

// S2I runs one S2I build of the -tmp image. The composition root picks how: in this
// process (s2i.InProcess) or in a child process of its own (s2i.Isolated), which
// keeps S2I's signal handling away from the pipeline's cleanup.
type S2I func(ctx context.Context, req s2i.Request) (s2i.Result, error)

// Engine is the part of the Docker client the pipeline's stages use.
type Engine interface {
	prepareEngine
	checkEngine
	cacheEngine
	buildEngine
	packageEngine
	publishEngine
}

// The stages, in the order Run calls them.
type (
	// Preparer makes sure the builder and runtime images are in the daemon and
	// finds the -tmp image to build on.
	Preparer interface {
		Prepare(ctx context.Context, pl *plan.Plan) (State, error)
	}
	// Checker sets st.Digest, the digest of a local source's inputs, and reports
	// whether the images were built from exactly these: then done is their result.
	Checker interface {
		Check(ctx context.Context, pl *plan.Plan, st *State) (done Result, upToDate bool)
	}
	// Restorer fills the -tmp image from the cache when the daemon has none usable,
	// and then sets the State's previous -tmp image to it.
	Restorer interface {
		Restore(ctx context.Context, pl *plan.Plan, st *State) Restored
	}
	// Builder runs the S2I build of the -tmp image; collected gets the files the
	// build reads from its container (see s2i.Request.OnCollected).
	Builder interface {
		Build(ctx context.Context, pl *plan.Plan, st State, collected func(map[string][]byte)) (Built, error)
	}
	// Packager writes the final image: Begin before the build, when the image is
	// known but for the binary (nil otherwise), and Package once the build is done.
	// With platforms, Package assembles the image index, which Publish then
	// loads, writes or pushes.
	Packager interface {
		Begin(ctx context.Context, pl *plan.Plan, st State) *EarlyImage
		Package(ctx context.Context, pl *plan.Plan, st State, early *EarlyImage, built Built) (Packaged, error)
		// Describe is the Supply of a final image that the check found up to
		// date (nil for none), for its SBOM and attestations.
		Describe(ctx context.Context, pl *plan.Plan, st State) *Supply
	}
	// Publisher gives the final image its other names, and pushes it when asked to,
	// recording the digest in res. An image index (res.Index) is pushed, or its
	// daemon's platform loaded, and written to the OCI output when asked.
	Publisher interface {
		Publish(ctx context.Context, pl *plan.Plan, res *Result) error
	}
	// Saver leaves the build state behind: in the cache, and without the -tmp
	// images that builds at the same time left dangling.
	Saver interface {
		Save(ctx context.Context, pl *plan.Plan, r Restored)
	}
)

// Pipeline runs a build through its stages.
type Pipeline struct {
	Prepare Preparer
	Check   Checker
	Restore Restorer
	Build   Builder
	Package Packager
	Publish Publisher
	Save    Saver
	Report  Reporter
	// Done, when set, runs once Run returns, however it ends: what the stages
	// of a build keep until its end goes (BuildKit's staged source and state).
	Done func()
	// NoTmpImage says the engine keeps no -tmp image (BuildKit): the tmp-image
	// output is then empty.
	NoTmpImage bool
}

// Deps are what the stages of a real build run with.
type Deps struct {
	Engine  Engine
	Host    string // the daemon's address, for S2I
	S2I     S2I
	Cache   cache.Store // nil: no cache
	TempDir string      // where cache archives are staged; "" is the system's
	Report  Reporter
	Log     io.Writer // build logs of images made on the way, and what the stages say
}

// New wires the stages of a real build.
func New(d Deps) *Pipeline {
	say := logs{Report: d.Report, Log: d.Log}
	c := &cacheStage{logs: say, e: d.Engine, store: d.Cache, tempDir: d.TempDir}
	return &Pipeline{
		Prepare: &prepareStage{logs: say, e: d.Engine},
		Check:   &checkStage{logs: say, e: d.Engine},
		Restore: c,
		Build:   &buildStage{logs: say, e: d.Engine, host: d.Host, s2i: d.S2I},
		Package: &packageStage{logs: say, e: d.Engine},
		Publish: &publishStage{logs: say, e: d.Engine},
		Save:    c,
		Report:  d.Report,
	}
}

// logs are where a stage says what it does.
type logs struct {
	Report Reporter
	Log    io.Writer
}

// Result is what a successful build made.
type Result struct {
	Image       string   // the first of Tags
	Tags        []string // every name of the final image
	ImageID     string
	TmpImage    string
	Incremental bool
	BinarySize  int64
	ImageSize   int64
	Digest      string // of the pushed image (with platforms, the index)
	// Index is the final image of a multi-platform build, one image per
	// platform; nil for a single-platform build. The fields above then say
	// what the first platform's image is, or the one loaded into the daemon.
	Index *index.Index
	// Supply is what the SBOM and the attestations are made of; nil when
	// nothing is known of them.
	Supply *Supply
}

// Packaged is what the package stage made: the final image in the daemon, or
// with platforms the image index (Index; then Result is its first image's),
// and its Supply.
type Packaged struct {
	image.Result
	Index  *index.Index
	Supply *Supply
}

// Run builds the plan.
func (p *Pipeline) Run(ctx context.Context, pl *plan.Plan) (Result, error) {
	if p.Done != nil {
		defer p.Done()
	}
	res := Result{Image: pl.Image, Tags: pl.Tags, TmpImage: pl.TmpImage}
	if p.NoTmpImage {
		res.TmpImage = ""
	}
	// Known from the start: a failed build reports them too.
	p.Report.Output("image", res.Image)
	p.Report.Output("tmp-image", res.TmpImage)
	st, err := p.Prepare.Prepare(ctx, pl)
	if err != nil {
		return res, err
	}
	if done, ok := p.Check.Check(ctx, pl, &st); ok {
		done.Supply = p.Package.Describe(ctx, pl, st)
		if err := p.Publish.Publish(ctx, pl, &done); err != nil {
			return done, err
		}
		p.outputs(done, Restored{})
		return done, nil
	}
	restored := p.Restore.Restore(ctx, pl, &st)
	// A local source's final image is known but for the binary: it is written while
	// S2I commits the -tmp image.
	early := p.Package.Begin(ctx, pl, st)
	built, err := p.Build.Build(ctx, pl, st, early.collected())
	if err != nil {
		early.discard(ctx)
		return res, err
	}
	res.Incremental = built.Incremental
	out, err := p.Package.Package(ctx, pl, st, early, built)
	if err != nil {
		return res, err
	}
	res.ImageID, res.BinarySize, res.ImageSize, res.Index, res.Supply = out.ID, out.BinarySize, out.Size, out.Index, out.Supply
	if err := p.Publish.Publish(ctx, pl, &res); err != nil {
		return res, err
	}
	p.Save.Save(ctx, pl, restored)
	p.outputs(res, restored)
	return res, nil
}

// outputs reports a finished build's results.
func (p *Pipeline) outputs(res Result, r Restored) {
	p.Report.Output("image", res.Image)
	p.Report.Output("image-id", res.ImageID)
	p.Report.Output("tmp-image", res.TmpImage)
	p.Report.Output("binary-size", strconv.FormatInt(res.BinarySize, 10))
	p.Report.Output("image-size", strconv.FormatInt(res.ImageSize, 10))
	p.Report.Output("cache-hit", strconv.FormatBool(r.Hit()))
	p.Report.Output("cache-matched-key", r.MatchedKey())
	p.Report.Output("digest", res.Digest)
	p.Report.Output("tags", strings.Join(res.Tags, "\n"))
	p.Report.Output("metadata", metadata(res))
	p.Report.Output("sbom", res.Supply.sbomPath())
	p.Report.Output("c-libraries", clibs.Output(res.Supply.cLibs()))
	if res.Index != nil {
		p.Report.Output("platforms", platformsOutput(res.Index))
	}
}

// metadata is the metadata output: the keys of docker/build-push-action's, for
// workflows that read it; an image index's are those of a multi-platform
// buildx build, with each platform's image besides (index.Index.Metadata).
func metadata(res Result) string {
	if res.Index != nil {
		if meta, err := res.Index.Metadata(res.Tags); err == nil {
			return string(meta)
		}
	}
	meta, _ := json.Marshal(map[string]string{
		"containerimage.config.digest": res.ImageID,
		"containerimage.digest":        res.Digest,
		"image.name":                   strings.Join(res.Tags, ","),
	})
	return string(meta)
}
