// Package pipeline is what `rust-s2i-musl build` runs: make sure the images it
// needs are there, stop early when nothing changed, restore the build state from
// the cache, run the S2I build of the -tmp image (on top of the previous one when
// the daemon has it), put the binary on the runtime base, push, and save the state
// back to the cache. The S2I step and the cache come in from the composition root.
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/crate"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// Reporter is where the pipeline says what it does.
type Reporter interface {
	Phase(name string) (end func())
	Record(name string, d time.Duration) // a part of the phase just ended
	Warn(format string, args ...any)
	Output(key, value string)
}

// Labels the builder image and S2I put on images, read here.
const (
	labelTarget     = "io.rust-s2i.target"
	labelCommitID   = "io.openshift.s2i.build.commit.id"
	labelCommitDate = "io.openshift.s2i.build.commit.date"
	labelSourceLoc  = "io.openshift.s2i.build.source-location"
	gitDateLayout   = "Mon Jan 2 15:04:05 2006 -0700"
)

// Engine is the part of the Docker client the pipeline uses: what its own steps
// call, and what the packages it hands the engine to declare they need. A test can
// give it a small in-memory fake.
type Engine interface {
	image.Engine      // the final image
	tmpimage.Engine   // the -tmp image from cache entries
	tmpimage.Exporter // cache entries from the -tmp image
	builder.Engine    // the default builder from the embedded s2i/ files
	builder.IdentifyEngine
	registry.Engine // push
	registry.Puller // pull
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
	ImageList(ctx context.Context, options client.ImageListOptions) (client.ImageListResult, error)
	VolumeCreate(ctx context.Context, options client.VolumeCreateOptions) (client.VolumeCreateResult, error)
	VolumeRemove(ctx context.Context, volumeID string, options client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
}

// Pipeline holds what a build runs with.
type Pipeline struct {
	Engine Engine
	Host   string // the daemon's address, for S2I
	Report Reporter
	Log    io.Writer // build logs of images made on the way
	Getenv func(string) string

	Cache    cache.Store // nil: no cache
	TempDir  string      // where archives are staged; "" is the system's
	Annotate bool        // turn compile errors into GitHub annotations
	S2I      S2I
	Naming   config.Naming // names settings in errors as the front end does; nil: flags
}

// S2I runs one S2I build of the -tmp image. The composition root picks how: in this
// process (s2i.InProcess) or in a child process of its own (s2i.Isolated), which
// keeps S2I's signal handling away from the pipeline's cleanup.
type S2I func(ctx context.Context, req s2i.Request) (s2i.Result, error)

// Result is what a successful build made.
type Result struct {
	Image       string   // the first of Tags
	Tags        []string // every name of the final image
	ImageID     string
	TmpImage    string
	Incremental bool
	BinarySize  int64
	ImageSize   int64
	Digest      string // of the pushed image
}

// Run builds cfg, which must be valid.
func (p *Pipeline) Run(ctx context.Context, cfg config.Config) (Result, error) {
	res := Result{Image: cfg.FinalImage(), Tags: cfg.Names(), TmpImage: cfg.IncrementalImage()}
	local := !config.IsGitURL(cfg.Source)
	// Known from the start: a failed build reports them too.
	p.Report.Output("image", res.Image)
	p.Report.Output("tmp-image", res.TmpImage)

	end := p.Report.Phase("prepare images")
	im, err := p.prepare(ctx, cfg, res.TmpImage)
	end()
	if err != nil {
		return res, err
	}
	prev := im.prev

	// A local source's labels are known before the build, so an unchanged rebuild can
	// stop here; a git URL's commit is known only once S2I has cloned it.
	var labels map[string]string
	var created time.Time
	digest := ""
	if local {
		if labels, created, err = p.imageLabels(ctx, cfg, nil); err != nil {
			return res, err
		}
		end = p.Report.Phase("check inputs")
		digest, err = inputsDigest(cfg, im.target, im.tc.key, im.runtimeID, created, labels)
		if err != nil {
			p.Report.Warn("building without the unchanged-input check: %v", err)
		} else if !cfg.Clean && im.foreign == "" && p.upToDate(ctx, &res, digest) {
			end()
			fmt.Fprintf(p.Log, "%s is up to date: the source, builder and settings are unchanged\n", res.Image)
			if err := p.tag(ctx, &res); err != nil {
				return res, err
			}
			if err := p.push(ctx, cfg, &res); err != nil {
				return res, err
			}
			p.outputs(res, false, "")
			return res, nil
		}
		end()
	}

	parts := p.keyParts(cfg, im.target, im.tc)
	found := restored{}
	if p.Cache != nil && prev.ID == "" && !cfg.Clean {
		// A -tmp image in the daemon is fresher than any cache: only without one.
		end = p.Report.Phase("restore")
		found = p.restore(ctx, cfg.Builder, res.TmpImage, parts, map[string]string{tmpimage.LabelSource: im.srcID})
		end()
		prev, _ = p.Engine.ImageInspect(ctx, res.TmpImage)
	}
	res.Incremental = prev.ID != "" && !cfg.Clean
	req := p.request(ctx, cfg, res, im, prev, digest)

	// A local source's final image is known but for the binary: it is written while
	// S2I commits the -tmp image (see finalImage).
	var final *finalImage
	if local {
		final = p.newFinalImage(ctx, cfg, res, labels, created, digest)
		req.OnCollected = final.start
	}
	end = p.Report.Phase("s2i build")
	if len(cfg.SecretEnv) > 0 {
		bind, remove, err := p.secretsVolume(ctx, cfg.Builder, cfg.SecretEnv)
		if err != nil {
			end()
			return res, err
		}
		defer remove()
		req.Volumes = append(req.Volumes, bind)
	}
	built, err := p.S2I(ctx, req)
	end()
	if err != nil {
		final.discard(ctx)
		return res, err
	}
	for _, old := range []string{prev.ID, im.foreign} {
		if old != "" && old != built.ImageID && !(res.Incremental && old == prev.ID) {
			// A clean build replaced the tag; S2I only removes the old image itself
			// when it built incrementally from it.
			_, _ = p.Engine.ImageRemove(ctx, old, client.ImageRemoveOptions{})
		}
	}

	end = p.Report.Phase("package")
	out, err := final.result(ctx)
	if final == nil || err != nil {
		out, err = p.packageAfter(ctx, cfg, res, labels, created, digest, built.Collected)
	}
	end()
	if err != nil {
		return res, err
	}
	p.dropIfSuperseded(ctx, res.Image, out.ID)
	p.recordS2IStages(built, out.Alongside)
	final.record()
	res.ImageID, res.BinarySize, res.ImageSize = out.ID, out.BinarySize, out.Size
	if err := p.tag(ctx, &res); err != nil {
		return res, err
	}

	if err := p.push(ctx, cfg, &res); err != nil {
		return res, err
	}

	switch {
	case p.Cache == nil:
	case !cfg.CacheSave:
		fmt.Fprintln(p.Log, "cache: restore only (cache-save is false), nothing saved")
	default:
		end = p.Report.Phase("save")
		p.save(ctx, res.TmpImage, parts, p.ownNames(cfg), found)
		end()
	}
	// Last, when this build no longer uses any of its images: a build of the same
	// binary at the same time may have taken the tag from this one's result.
	p.pruneDangling(ctx, res.TmpImage)
	p.outputs(res, p.Cache != nil && found.exact(parts), found[cache.EntryTarget])
	return res, nil
}

// images is what the "prepare images" phase found.
type images struct {
	builderID, target, runtimeID string
	srcID                        string                    // the source this build's state belongs to
	prev                         client.ImageInspectResult // the -tmp image to build on; zero when none is usable
	foreign                      string                    // the ID of another source's -tmp image under this name
	tc                           toolchain
}

// prepare makes sure the builder and runtime images are there, and finds the
// previous -tmp image, used only when it belongs to this source.
func (p *Pipeline) prepare(ctx context.Context, cfg config.Config, tmpImage string) (images, error) {
	var im images
	var err error
	if im.builderID, im.target, err = p.ensureBuilder(ctx, cfg); err != nil {
		return im, err
	}
	if im.runtimeID, err = p.ensureRuntime(ctx, cfg, im.target); err != nil {
		return im, err
	}
	im.prev, _ = p.Engine.ImageInspect(ctx, tmpImage)
	im.srcID = p.sourceID(ctx, cfg)
	if owner := ownerOf(im.prev); owner != "" && owner != im.srcID {
		fmt.Fprintf(p.Log, "%s was built from %s, not from %s: building without it, and replacing it\n", tmpImage, owner, im.srcID)
		im.foreign, im.prev = im.prev.ID, client.ImageInspectResult{}
	}
	im.tc = p.toolchain(ctx, cfg.Builder, im.builderID, im.prev)
	return im, nil
}

// request is the S2I build of the -tmp image. Stacked, the build runs in a
// container of the previous -tmp image, whose state is already in place: no tar
// round trip of target/. S2I's incremental path (save-artifacts) is kept to start
// over from the builder, which also squashes the layers that stacking adds.
func (p *Pipeline) request(ctx context.Context, cfg config.Config, res Result, im images, prev client.ImageInspectResult, digest string) s2i.Request {
	env := append([]string{"BINARY=" + cfg.Binary, "RUST_TARGET=" + im.target}, cfg.Env...)
	env = append(env, cfg.CargoEnv()...) // after env: the settings win over a stray RUST_S2I_PROFILE
	if p.Annotate {
		env = append(env, "RUST_S2I_ANNOTATE=github", "RUST_S2I_SOURCE_PREFIX="+p.sourcePrefix(cfg))
	}
	req := s2i.Request{
		Source:   cfg.Source,
		Copy:     !config.IsGitURL(cfg.Source), // a local checkout's uncommitted files count
		Builder:  cfg.Builder,
		Tag:      res.TmpImage,
		Env:      env,
		Network:  cfg.Network,
		Endpoint: p.Host,
		Labels: map[string]string{
			tmpimage.LabelBuilder: im.builderID, tmpimage.LabelRustc: im.tc.release, tmpimage.LabelToolchain: im.tc.key,
			tmpimage.LabelSource: im.srcID,
		},
	}
	maps.Copy(req.Labels, digestLabel(digest))
	// The binary and the timings, read from the build container while S2I commits it.
	req.CollectDir, req.Collect = tmpimage.BinDir, finalFiles(cfg.Binary)
	switch {
	case !res.Incremental:
	case p.canStack(ctx, prev, im.builderID, cfg.Builder):
		req.Builder = res.TmpImage
		fmt.Fprintf(p.Log, "building on top of %s\n", res.TmpImage)
	default:
		req.Incremental = true
		fmt.Fprintf(p.Log, "building from %s with the state of %s\n", cfg.Builder, res.TmpImage)
	}
	return req
}

// sourcePrefix is the source directory relative to the workspace, which GitHub
// annotations name files by; cargo names them relative to the crate.
func (p *Pipeline) sourcePrefix(cfg config.Config) string {
	ws := p.Getenv("GITHUB_WORKSPACE")
	if ws == "" || config.IsGitURL(cfg.Source) {
		return ""
	}
	abs, err := filepath.Abs(cfg.Source)
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel) + "/"
}

// dropIfSuperseded removes the image id this build made when another build of the
// same name tagged its own result meanwhile: the last tag wins, and the loser's
// image would otherwise dangle. Best effort: an image still in use stays.
func (p *Pipeline) dropIfSuperseded(ctx context.Context, tag, id string) {
	now, err := p.Engine.ImageInspect(ctx, tag)
	if err != nil || now.ID == id {
		return
	}
	fmt.Fprintf(p.Log, "another build replaced %s meanwhile; its result stands\n", tag)
	_, _ = p.Engine.ImageRemove(ctx, id, client.ImageRemoveOptions{})
}

// pruneDangling removes the untagged leaf images that S2I made for tag: those of a
// build of the same binary that ran at the same time and lost the tag to another.
// S2I names every image it commits with the io.k8s.display-name label, the tag.
func (p *Pipeline) pruneDangling(ctx context.Context, tag string) {
	list, err := p.Engine.ImageList(ctx, client.ImageListOptions{
		Filters: make(client.Filters).Add("dangling", "true").Add("label", "io.k8s.display-name="+tag),
	})
	if err != nil {
		return
	}
	for _, img := range list.Items {
		_, _ = p.Engine.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{})
	}
}

// maxStack is how many layers a -tmp image may grow above its builder by builds on
// top of it before a build starts over from the builder. overlay2 allows 128
// layers in all; fewer also keeps the image's dead weight (files replaced in
// later layers) small.
const maxStack = 20

// canStack reports whether the next build may run on top of the -tmp image prev:
// it was made with this very builder and has not grown too deep.
func (p *Pipeline) canStack(ctx context.Context, prev client.ImageInspectResult, builderID, builderRef string) bool {
	if prev.Config == nil || prev.Config.Labels[tmpimage.LabelBuilder] != builderID {
		return false
	}
	b, err := p.Engine.ImageInspect(ctx, builderRef)
	if err != nil {
		return false
	}
	return len(prev.RootFS.Layers)-len(b.RootFS.Layers) < maxStack
}

// userLabels are the labels setting's KEY=VALUE entries, which the final image
// carries over its own: docker/metadata-action's org.opencontainers.image.* win.
func userLabels(user []string) map[string]string {
	labels := map[string]string{}
	for _, kv := range user {
		k, v, _ := strings.Cut(kv, "=")
		labels[strings.TrimSpace(k)] = v
	}
	return labels
}

// outputs reports a finished build's results.
func (p *Pipeline) outputs(res Result, cacheHit bool, matchedKey string) {
	p.Report.Output("image", res.Image)
	p.Report.Output("image-id", res.ImageID)
	p.Report.Output("tmp-image", res.TmpImage)
	p.Report.Output("binary-size", strconv.FormatInt(res.BinarySize, 10))
	p.Report.Output("image-size", strconv.FormatInt(res.ImageSize, 10))
	p.Report.Output("cache-hit", strconv.FormatBool(cacheHit))
	p.Report.Output("cache-matched-key", matchedKey)
	p.Report.Output("digest", res.Digest)
	p.Report.Output("tags", strings.Join(res.Tags, "\n"))
	// The keys of docker/build-push-action's metadata output, for workflows that
	// read it.
	meta, _ := json.Marshal(map[string]string{
		"containerimage.config.digest": res.ImageID,
		"containerimage.digest":        res.Digest,
		"image.name":                   strings.Join(res.Tags, ","),
	})
	p.Report.Output("metadata", string(meta))
}

// push sends the final image, when asked to, to its registry and records the
// digest. Never the -tmp image: it holds the source.
func (p *Pipeline) push(ctx context.Context, cfg config.Config, res *Result) error {
	if !cfg.Push {
		return nil
	}
	defer p.Report.Phase("push")()
	for _, name := range res.Tags {
		auth, err := p.logins(cfg).For(name)
		if err != nil {
			return err
		}
		digest, err := registry.Push(ctx, p.Engine, name, auth, p.Log)
		if err != nil {
			return err
		}
		switch {
		case res.Digest == "":
			res.Digest = digest
		case digest != res.Digest:
			// Two registries may store one image differently (compressed anew).
			p.Report.Warn("%s has the digest %s, %s has %s", res.Tags[0], res.Digest, name, digest)
		}
	}
	return nil
}

// tag gives the final image id its other names. The first is Package's.
func (p *Pipeline) tag(ctx context.Context, res *Result) error {
	for _, name := range res.Tags[1:] {
		if _, err := p.Engine.ImageTag(ctx, client.ImageTagOptions{Source: res.ImageID, Target: name}); err != nil {
			return fmt.Errorf("tagging %s: %w", name, err)
		}
	}
	return nil
}

// imageLabels returns the final image's source labels and time. s2iLabels are the
// -tmp image's labels, which hold the commit of a cloned git URL.
func (p *Pipeline) imageLabels(ctx context.Context, cfg config.Config, s2iLabels map[string]string) (map[string]string, time.Time, error) {
	src := p.commit(ctx, cfg, s2iLabels)
	labels := map[string]string{}
	if src.Revision != "" {
		labels[image.LabelRevision] = src.Revision
	}
	if v := p.sourceURL(cfg, s2iLabels[labelSourceLoc]); v != "" {
		labels[image.LabelSource] = v
	}
	created, err := p.created(src.Time)
	return labels, created, err
}

// created is the image time: SOURCE_DATE_EPOCH, else the commit's time, else the
// Unix epoch, so that the same source always gives the same image.
func (p *Pipeline) created(commitTime time.Time) (time.Time, error) {
	if v := p.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if !commitTime.IsZero() {
		return commitTime, nil
	}
	return time.Unix(0, 0).UTC(), nil
}

// commit finds the source's commit: from the directory for a local source, from the
// labels S2I records when it cloned a git URL, else from the CI's variables.
func (p *Pipeline) commit(ctx context.Context, cfg config.Config, labels map[string]string) source.Commit {
	if !config.IsGitURL(cfg.Source) {
		if c := source.LocalCommit(ctx, cfg.Source); c.Revision != "" {
			return c
		}
	} else if rev := labels[labelCommitID]; rev != "" {
		c := source.Commit{Revision: rev}
		if t, err := time.Parse(gitDateLayout, labels[labelCommitDate]); err == nil {
			c.Time = t.UTC()
		}
		return c
	}
	for _, k := range []string{"GITHUB_SHA", "CI_COMMIT_SHA", "DRONE_COMMIT_SHA"} {
		if v := p.Getenv(k); v != "" {
			return source.Commit{Revision: v}
		}
	}
	return source.Commit{}
}

// sourceURL is where the source lives, for the OCI source label: the CI's
// repository URL when there is one, else the git URL built from.
func (p *Pipeline) sourceURL(cfg config.Config, s2iLocation string) string {
	if srv, repo := p.Getenv("GITHUB_SERVER_URL"), p.Getenv("GITHUB_REPOSITORY"); srv != "" && repo != "" {
		return srv + "/" + repo
	}
	for _, k := range []string{"CI_REPO_URL", "DRONE_REPO_LINK"} {
		if v := p.Getenv(k); v != "" {
			return v
		}
	}
	if config.IsGitURL(cfg.Source) {
		return source.Redact(cfg.Source)
	}
	if config.IsGitURL(s2iLocation) {
		return source.Redact(s2iLocation)
	}
	return ""
}

// ensureBuilder makes sure the builder image is in the daemon and returns the target
// triple to build for. The default builder is built from the embedded s2i/ files
// when it cannot be pulled.
func (p *Pipeline) ensureBuilder(ctx context.Context, cfg config.Config) (id, target string, err error) {
	_, err = p.ensureImage(ctx, cfg, cfg.Builder, "builder image")
	if err != nil && cfg.Builder == config.DefaultBuilder {
		p.Report.Warn("%v; building it from the embedded s2i/ files", err)
		o := builder.Options{Tag: cfg.Builder, Target: cfg.Target}
		if o.Target == "" {
			o.Target = builder.DefaultTarget(p.daemonArch(ctx))
		}
		err = builder.Build(ctx, p.Engine, o, p.Log)
	}
	if err != nil {
		return "", "", err
	}
	in, err := p.Engine.ImageInspect(ctx, cfg.Builder)
	if err != nil {
		return "", "", fmt.Errorf("inspecting builder image %s: %w", cfg.Builder, err)
	}
	if cfg.Target != "" {
		return in.ID, cfg.Target, nil
	}
	if t := in.Config.Labels[labelTarget]; t != "" {
		return in.ID, t, nil
	}
	if t := builder.DefaultTarget(p.daemonArch(ctx)); t != "" {
		return in.ID, t, nil
	}
	return "", "", fmt.Errorf("builder image %s has no %s label: pass --target", cfg.Builder, labelTarget)
}

// daemonArch is the daemon's architecture (x86_64, aarch64), or "" when it does
// not say.
func (p *Pipeline) daemonArch(ctx context.Context) string {
	info, err := p.Engine.Info(ctx, client.InfoOptions{})
	if err != nil {
		return ""
	}
	return info.Info.Architecture
}

// ensureRuntime makes sure the runtime image is in the daemon and can run the
// target's binaries: a base of another architecture is bad input, refused before
// anything is built, rather than an image that fails with "exec format error".
func (p *Pipeline) ensureRuntime(ctx context.Context, cfg config.Config, target string) (string, error) {
	id, err := p.ensureImage(ctx, cfg, cfg.RuntimeImage, "runtime image")
	if err != nil {
		return "", err
	}
	in, err := p.Engine.ImageInspect(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inspecting runtime image %s: %w", cfg.RuntimeImage, err)
	}
	want := image.TargetArch(target)
	if want != "" && in.Architecture != "" && in.Architecture != want {
		name := p.Naming
		if name == nil {
			name = config.FlagNaming
		}
		return "", &config.InputError{Name: name("runtime-image"), Problem: fmt.Sprintf(
			"%s is %s/%s but the target %s builds %s binaries: pick a runtime image for %s (or another target)",
			cfg.RuntimeImage, in.Os, in.Architecture, target, want, want)}
	}
	return id, nil
}

// ownNames are the workspace's own crates, left out of the saved build state. A
// remote source is only read inside the build, so nothing is left out.
func (p *Pipeline) ownNames(cfg config.Config) []string {
	if config.IsGitURL(cfg.Source) {
		return nil
	}
	names, err := crate.OwnNames(cfg.Source)
	if err != nil {
		p.Report.Warn("saving the workspace's own artifacts too: %v", err)
	}
	return names
}

// ensureImage pulls ref when the daemon does not have it (or always, with pull
// always), with the login for its registry, and returns its ID. With pull always,
// a registry that cannot be reached costs a warning when the daemon has the image.
func (p *Pipeline) ensureImage(ctx context.Context, cfg config.Config, ref, what string) (string, error) {
	in, err := p.Engine.ImageInspect(ctx, ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspecting %s %s: %w", what, ref, err)
	}
	have := err == nil
	if have && cfg.Pull != "always" {
		return in.ID, nil
	}
	fmt.Fprintf(p.Log, "pulling %s %s\n", what, ref)
	if err := p.pull(ctx, cfg, ref); err != nil {
		perr := registry.PullError(ref, what, err)
		if !have {
			return "", perr
		}
		p.Report.Warn("%v; using the image the daemon has", perr)
	}
	if in, err = p.Engine.ImageInspect(ctx, ref); err != nil {
		return "", fmt.Errorf("inspecting %s %s: %w", what, ref, err)
	}
	return in.ID, nil
}

// pull pulls ref with the login for its registry.
func (p *Pipeline) pull(ctx context.Context, cfg config.Config, ref string) error {
	auth, err := p.logins(cfg).For(ref)
	if err != nil {
		return err
	}
	return registry.Pull(ctx, p.Engine, ref, auth)
}

// logins are the credentials the build was given, for push and pulls.
func (p *Pipeline) logins(cfg config.Config) registry.Logins {
	return registry.Logins{
		PerRegistry: cfg.RegistryAuth,
		Default:     registry.Auth{Username: cfg.Username, Password: string(cfg.Password)},
		ConfigDir:   registry.DefaultConfigDir(p.Getenv),
	}
}

// sourceID names the source this build's state belongs to (see
// tmpimage.LabelSource): the CI's repository or the git URL, else a local
// directory's origin remote, else its absolute path.
func (p *Pipeline) sourceID(ctx context.Context, cfg config.Config) string {
	if u := p.sourceURL(cfg, ""); u != "" {
		return u
	}
	if u := source.Remote(ctx, cfg.Source); u != "" {
		return u
	}
	abs, err := filepath.Abs(cfg.Source)
	if err != nil {
		return cfg.Source
	}
	return abs
}

// ownerOf is the source a -tmp image was built from, "" when it does not say (an
// image from `rust-s2i-musl bootstrap`, or from before the label): such an image is
// used by whichever source builds next.
func ownerOf(img client.ImageInspectResult) string {
	if img.Config == nil {
		return ""
	}
	return img.Config.Labels[tmpimage.LabelSource]
}
