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

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// finalFiles are the files of tmpimage.BinDir the build collects from its container:
// the binary and the timings.
func finalFiles(binary string) []string {
	return []string{binary, tmpimage.CargoTimeFile, tmpimage.TimesFile}
}

// finalSpec is the final image of cfg, but for the binary.
func (p *Pipeline) finalSpec(cfg config.Config, res Result, labels map[string]string, created time.Time, digest string) image.Spec {
	labels = maps.Clone(labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, digestLabel(digest))
	return image.Spec{
		From:       res.TmpImage,
		BinaryPath: tmpimage.BinaryPath(cfg.Binary),
		Binary:     cfg.Binary,
		Base:       cfg.RuntimeImage,
		Tag:        res.Image,
		Created:    created,
		Labels:     labels,
		UserLabels: userLabels(cfg.Labels),
		Alongside:  []string{tmpimage.CargoTimeFile, tmpimage.TimesFile},
	}
}

// finalImage is the final image of a local source, written while S2I commits the
// -tmp image: its labels are known before the build, and the binary comes from the
// build's container as soon as cargo is done (s2i.Request.OnCollected). It is
// written untagged and gets its name only once the build has succeeded, so a build
// that fails in its commit leaves the name where it was.
type finalImage struct {
	ctx  context.Context
	p    *Pipeline
	spec image.Spec // untagged
	tag  string

	once sync.Once
	done chan struct{} // closed when the image is written; nil until start
	out  image.Result
	err  error
	took time.Duration
}

func (p *Pipeline) newFinalImage(ctx context.Context, cfg config.Config, res Result, labels map[string]string, created time.Time, digest string) *finalImage {
	spec := p.finalSpec(cfg, res, labels, created, digest)
	f := &finalImage{ctx: ctx, p: p, spec: spec, tag: spec.Tag}
	f.spec.Tag = ""
	return f
}

// start writes the image from the collected files, in the background. S2I calls
// it at most once, and before its build returns.
func (f *finalImage) start(files map[string][]byte) {
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
			f.out, f.err = image.Package(f.ctx, f.p.Engine, spec)
			f.took = time.Since(began)
		}()
	})
}

// errNotStarted is result's answer when no binary was collected.
var errNotStarted = errors.New("the final image was not written during the build")

// result waits for the image and names it. Any error means: write it anew.
func (f *finalImage) result(ctx context.Context) (image.Result, error) {
	if f == nil || f.done == nil {
		return image.Result{}, errNotStarted
	}
	<-f.done
	if f.err != nil {
		return image.Result{}, f.err
	}
	if _, err := f.p.Engine.ImageTag(ctx, client.ImageTagOptions{Source: f.out.ID, Target: f.tag}); err != nil {
		return image.Result{}, fmt.Errorf("tagging %s: %w", f.tag, err)
	}
	return f.out, nil
}

// discard removes the image of a build that failed after it was written, unless
// it has a name: the same binary on the same base is the same image, which an
// earlier build may have tagged.
func (f *finalImage) discard(ctx context.Context) {
	if f == nil || f.done == nil {
		return
	}
	<-f.done
	if f.err != nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if in, err := f.p.Engine.ImageInspect(ctx, f.out.ID); err == nil && len(in.RepoTags) == 0 {
		_, _ = f.p.Engine.ImageRemove(ctx, f.out.ID, client.ImageRemoveOptions{})
	}
}

// record says how long writing the image took, during the commit.
func (f *finalImage) record() {
	if f == nil || f.done == nil || f.err != nil {
		return
	}
	f.p.Report.Record("package: written during the commit", f.took)
}

// packageAfter writes the final image once the build is done: for a git URL, whose
// labels come from the -tmp image, or when the image could not be written during
// the build. files are what the build collected (nil: read from the -tmp image).
func (p *Pipeline) packageAfter(ctx context.Context, cfg config.Config, res Result, labels map[string]string, created time.Time, digest string, files map[string][]byte) (image.Result, error) {
	if config.IsGitURL(cfg.Source) {
		tmp, err := p.Engine.ImageInspect(ctx, res.TmpImage)
		if err != nil {
			return image.Result{}, fmt.Errorf("inspecting %s: %w", res.TmpImage, err)
		}
		if labels, created, err = p.imageLabels(ctx, cfg, tmp.Config.Labels); err != nil {
			return image.Result{}, err
		}
	}
	spec := p.finalSpec(cfg, res, labels, created, digest)
	if _, ok := files[cfg.Binary]; ok {
		spec.Files = files
	}
	return image.Package(ctx, p.Engine, spec)
}
