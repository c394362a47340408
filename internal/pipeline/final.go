package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// packageEngine is the part of the Docker client the package stage uses.
type packageEngine interface {
	image.Engine
	ImageRemove(ctx context.Context, image string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

// packageStage writes the final image: the runtime base plus the binary.
type packageStage struct {
	logs
	e packageEngine
}

// finalSpec is the final image of the plan, but for the binary.
func finalSpec(pl *plan.Plan, labels map[string]string, created time.Time, digest string) image.Spec {
	labels = maps.Clone(labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, digestLabel(digest))
	return image.Spec{
		From:       pl.TmpImage,
		BinaryPath: tmpimage.BinaryPath(pl.Binary),
		Binary:     pl.Binary,
		Base:       pl.RuntimeImage,
		Tag:        pl.Image,
		Created:    created,
		Labels:     labels,
		UserLabels: pl.UserLabels(),
		Alongside:  tmpimage.TimingFiles,
	}
}

// Begin implements Packager: a local source's final image, written while S2I
// commits the -tmp image. Its labels are known before the build, and the binary
// comes from the build's container as soon as cargo is done. A git URL's labels
// come from the -tmp image: nil.
func (s *packageStage) Begin(ctx context.Context, pl *plan.Plan, st State) *EarlyImage {
	// An image index is assembled once the build is done: no daemon is involved.
	if pl.Source.Git || pl.MultiPlatform() {
		return nil
	}
	labels, created := pl.ImageLabels(nil)
	spec := finalSpec(pl, labels, created, st.Digest)
	f := &EarlyImage{ctx: ctx, s: s, pl: pl, target: st.Target, spec: spec, tag: spec.Tag}
	f.spec.Tag = ""
	return f
}

// finalImage is the single-platform final image as written, and what it was
// written from: the Spec (its labels and time), the build's files, and its
// binary's crates (problem says why they are not known).
type finalImage struct {
	image.Result
	spec    image.Spec
	files   map[string][]byte
	graph   *cratedeps.Graph
	problem error
}

// Package implements Packager: it names the early image, or writes the final image
// now (for a git URL, or when it could not be written during the build), and then
// breaks the "s2i build" phase down. With platforms it assembles the image index
// instead (packageIndex).
func (s *packageStage) Package(ctx context.Context, pl *plan.Plan, st State, early *EarlyImage, built Built) (Packaged, error) {
	if pl.MultiPlatform() {
		return s.packageIndex(ctx, pl, st, built)
	}
	end := s.Report.Phase("package")
	out, err := early.result(ctx)
	if early == nil || err != nil {
		out, err = s.packageAfter(ctx, pl, st, built.Collected)
	}
	end()
	if err != nil {
		return Packaged{Result: out.Result}, err
	}
	s.dropIfSuperseded(ctx, pl.Image, out.ID)
	recordS2IStages(s.Report, built.Result, out.Alongside)
	early.record()
	warnCrates(s.Report, pl, st.Target, out.problem)
	return Packaged{Result: out.Result, Supply: s.singleSupply(ctx, pl, st, out)}, nil
}

// packageAfter writes the final image once the build is done. files are what the
// build collected; without the binary they are read from the -tmp image.
func (s *packageStage) packageAfter(ctx context.Context, pl *plan.Plan, st State, files map[string][]byte) (finalImage, error) {
	s2iLabels, err := s.s2iLabels(ctx, pl)
	if err != nil {
		return finalImage{}, err
	}
	labels, created := pl.ImageLabels(s2iLabels)
	spec := finalSpec(pl, labels, created, st.Digest)
	if _, ok := files[pl.Binary]; !ok {
		// Read here rather than by image.Package: the crate list goes into the
		// binary before the image is written.
		if files, err = engine.ReadFiles(ctx, s.e, pl.TmpImage, tmpimage.BinDir, tmpimage.CollectedFiles(pl.Binary)...); err != nil {
			return finalImage{}, fmt.Errorf("reading the binary from %s: %w", pl.TmpImage, err)
		}
	}
	fi := finalImage{spec: spec, files: files}
	spec.Files, fi.graph, fi.problem = withCrates(pl, files, pl.Binary, st.Target, false)
	fi.Result, err = image.Package(ctx, s.e, spec)
	return fi, err
}

// singleSupply is the Supply of the single-platform image fi: its crates, its
// runtime base by digest, its SBOM written. A failure costs a warning and what it
// failed to make, never the build.
func (s *packageStage) singleSupply(ctx context.Context, pl *plan.Plan, st State, fi finalImage) *Supply {
	var baseDigest string
	if in, err := s.e.ImageInspect(ctx, pl.RuntimeImage); err == nil {
		baseDigest = imageDigest(pl.RuntimeImage, in.RepoDigests, in.ID)
	}
	return singleSupply(s.logs, pl, st, fi, baseDigest)
}

// singleSupply is the Supply of the single-platform image fi on the runtime base
// of digest baseDigest ("" when unknown), on either engine.
func singleSupply(say logs, pl *plan.Plan, st State, fi finalImage, baseDigest string) *Supply {
	part := SupplyPart{Platform: "linux/" + image.TargetArch(st.Target), Target: st.Target, Graph: fi.graph,
		Runtime: provenance.Image{Ref: pl.RuntimeImage, Digest: baseDigest}, CLibs: clibs.Linked(fi.graph, st.CLibs)}
	sup, err := newSupply(pl, fi.files, fi.spec.Created, fi.spec.Labels, builderImage(pl, st), []SupplyPart{part})
	if err != nil {
		say.Report.Warn("%v", err)
	}
	return sup
}

// builderImage is the builder as the provenance names it.
func builderImage(pl *plan.Plan, st State) provenance.Image {
	return provenance.Image{Ref: pl.Builder, Digest: st.BuilderDigest}
}

// Describe implements Packager: the Supply of a final image that is up to date,
// from the files its build left in the -tmp image (its binary already carries
// its crate list).
func (s *packageStage) Describe(ctx context.Context, pl *plan.Plan, st State) *Supply {
	if !describes(pl, st) {
		return nil
	}
	files, err := engine.ReadFiles(ctx, s.e, pl.TmpImage, tmpimage.BinDir, tmpimage.CollectedFiles(pl.Binary)...)
	if err != nil {
		s.Report.Warn("no SBOM or attestations for the up-to-date %s: reading %s: %v", pl.Image, pl.TmpImage, err)
		return nil
	}
	labels, created := pl.ImageLabels(nil)
	fi := finalImage{spec: finalSpec(pl, labels, created, st.Digest), files: files}
	if wantsCrates(pl) {
		fi.graph, fi.problem = resolveCrates(pl, files, st.Target, false)
		warnCrates(s.Report, pl, st.Target, fi.problem)
	}
	return s.singleSupply(ctx, pl, st, fi)
}

// describes reports whether the Supply of an up-to-date final image is worth
// reading its build's files for: a multi-platform image is never up to date (see
// checkStage), and a single one's Supply makes its SBOM, its provenance where
// that goes with it, and the c-libraries output, as its first build did (its
// crates are known with auditable too, and the builder must bring a library).
func describes(pl *plan.Plan, st State) bool {
	return !pl.MultiPlatform() && (pl.SBOM || (pl.Provenance && attaches(pl)) || (wantsCrates(pl) && len(st.CLibs) > 0))
}

// s2iLabels are the -tmp image's labels for a git URL's build, which hold its
// commit (see plan.Plan.ImageLabels); nil for a local source.
func (s *packageStage) s2iLabels(ctx context.Context, pl *plan.Plan) (map[string]string, error) {
	if !pl.Source.Git {
		return nil, nil
	}
	tmp, err := s.e.ImageInspect(ctx, pl.TmpImage)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", pl.TmpImage, err)
	}
	return tmpimage.Labels(tmp), nil
}

// dropIfSuperseded removes the image id this build made when another build of the
// same name tagged its own result meanwhile: the last tag wins, and the loser's
// image would otherwise dangle. Best effort: an image still in use stays.
func (s *packageStage) dropIfSuperseded(ctx context.Context, tag, id string) {
	now, err := s.e.ImageInspect(ctx, tag)
	if err != nil || now.ID == id {
		return
	}
	fmt.Fprintf(s.Log, "another build replaced %s meanwhile; its result stands\n", tag)
	_, _ = s.e.ImageRemove(ctx, id, client.ImageRemoveOptions{})
}

// EarlyImage is the final image of a local source, written while S2I commits the
// -tmp image, from the binary the build collects (s2i.Request.OnCollected). It is
// written untagged and gets its name only once the build has succeeded, so a build
// that fails in its commit leaves the name where it was. Its methods take a nil
// EarlyImage as one that was never written.
type EarlyImage struct {
	ctx    context.Context
	s      *packageStage
	pl     *plan.Plan
	target string
	spec   image.Spec // untagged
	tag    string

	once sync.Once
	done chan struct{} // closed when the image is written; nil until start
	out  finalImage
	err  error
	took time.Duration
}

// collected is the build's callback for the collected files; nil when no image
// is written early.
func (f *EarlyImage) collected() func(map[string][]byte) {
	if f == nil {
		return nil
	}
	return f.start
}

// start writes the image from the collected files, in the background. S2I calls
// it at most once, and before its build returns.
func (f *EarlyImage) start(files map[string][]byte) {
	if _, ok := files[path.Base(f.spec.BinaryPath)]; !ok {
		return
	}
	f.once.Do(func() {
		f.done = make(chan struct{})
		spec := f.spec
		spec.Files = files
		go func() {
			defer close(f.done)
			began := time.Now()
			// The crate list goes into the binary here, off the build's path too.
			f.out = finalImage{spec: f.spec, files: files}
			spec.Files, f.out.graph, f.out.problem = withCrates(f.pl, files, path.Base(spec.BinaryPath), f.target, false)
			f.out.Result, f.err = image.Package(f.ctx, f.s.e, spec)
			f.took = time.Since(began)
		}()
	})
}

// errNotStarted is result's answer when no binary was collected.
var errNotStarted = errors.New("the final image was not written during the build")

// result waits for the image and names it. Any error means: write it anew.
func (f *EarlyImage) result(ctx context.Context) (finalImage, error) {
	if f == nil || f.done == nil {
		return finalImage{}, errNotStarted
	}
	<-f.done
	if f.err != nil {
		return finalImage{}, f.err
	}
	if _, err := f.s.e.ImageTag(ctx, client.ImageTagOptions{Source: f.out.ID, Target: f.tag}); err != nil {
		return finalImage{}, fmt.Errorf("tagging %s: %w", f.tag, err)
	}
	return f.out, nil
}

// discard removes the image of a build that failed after it was written, unless
// it has a name: the same binary on the same base is the same image, which an
// earlier build may have tagged.
func (f *EarlyImage) discard(ctx context.Context) {
	if f == nil || f.done == nil {
		return
	}
	<-f.done
	if f.err != nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if in, err := f.s.e.ImageInspect(ctx, f.out.ID); err == nil && len(in.RepoTags) == 0 {
		_, _ = f.s.e.ImageRemove(ctx, f.out.ID, client.ImageRemoveOptions{})
	}
}

// record says how long writing the image took, during the commit.
func (f *EarlyImage) record() {
	if f == nil || f.done == nil || f.err != nil {
		return
	}
	f.s.Report.Record("package: written during the commit", f.took)
}
