package pipeline

// The stages of a build on BuildKit (NewKit), beside the Docker Engine's (New):
// the same Pipeline runs them, so the two engines make the same product through
// one interface, the stages. BuildKit keeps no image between builds, so there
// is no -tmp image: the state is restored from the cache into a directory,
// handed to the build as a local context, and comes back from the build as a
// tar straight into the cache's entries (tmpimage.SplitState, the filter the
// Docker path's export applies). The final image is composed here from the
// runtime base in its registry and the binary (image.Compose, index.Build), as a
// multi-platform build on Docker composes it, and pushed from here.
//
// Kit is all these stages know of BuildKit; internal/buildkit implements it.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// Kit is an engine that keeps no images: BuildKit.
type Kit interface {
	// Inspect resolves ref on the engine, and returns it pinned by digest with
	// its config and the regular files directly in dir.
	Inspect(ctx context.Context, ref, dir string, kc authn.Keychain) (KitImage, error)
	// Assemble runs job, and returns once job.Out has read the whole result.
	Assemble(ctx context.Context, job KitJob) error
}

// KitImage is an image as the engine resolved it.
type KitImage struct {
	Ref    string // name@digest
	Digest string
	Config v1.ConfigFile
	Files  map[string][]byte
}

// KitJob is one run of the builder's assemble script on a Kit.
type KitJob struct {
	Builder KitImage
	Command []string // assemble, where the builder's scripts-url label puts it
	Owner   archive.Owner
	Env     []string
	Network string // plan.Plan.Network: "", "bridge", "host" or "none"
	// Source is a directory (the staged source) that goes to SourceDest.
	Source, SourceDest string
	// Home, the build user's home, is mounted read-write over the builder's own:
	// it starts as the builder's, with each of State (directories whose names are
	// relative to it: the restored cache entries) copied over it.
	Home  string
	State []string
	// Secrets are files the build reads, by path, never written to a layer.
	Secrets map[string][]byte
	// All returns the whole Home to Out; otherwise only its bin/.
	All bool
	// Out reads the tar of what comes back, names relative to Home.
	Out  func(r io.Reader) error
	Key  string         // names what is sent across builds of one binary of one source
	Keys authn.Keychain // the registries' logins
	Log  io.Writer      // the build's progress and output
}

// KitDeps are what the stages of a build on BuildKit run with.
type KitDeps struct {
	Kit     Kit
	Cache   cache.Store // nil: no cache
	TempDir string      // where cache archives and the staged source go; "" is the system's
	Report  Reporter
	Log     io.Writer
}

// NewKit wires the stages of a build on BuildKit.
func NewKit(d KitDeps) *Pipeline {
	say := logs{Report: d.Report, Log: d.Log}
	k := &kitStages{logs: say, kit: d.Kit, tempDir: d.TempDir,
		cache: &cacheStage{logs: say, store: d.Cache, tempDir: d.TempDir}}
	return &Pipeline{Prepare: k, Check: k, Restore: k, Build: k, Package: k, Publish: k, Save: k, Report: d.Report,
		Done: k.done, NoTmpImage: true}
}

// kitStages are the stages of one build on BuildKit; what one stage leaves for
// a later one is kept here (a Pipeline runs one build).
type kitStages struct {
	logs
	kit     Kit
	cache   *cacheStage // its store, keys and entry restore; no engine
	tempDir string

	builder  KitImage
	dir      string   // this build's scratch directory
	restored []string // restored entries' directories, for the build
	parts    cache.KeyParts
	found    restored
	saves    map[string]string // entry -> key to save it under
	saved    map[string]*os.File
	single   *index.Image // a single-platform build's final image
}

// Prepare implements Preparer: the builder resolved and read on the engine,
// the runtime base(s) read from the registry.
func (k *kitStages) Prepare(ctx context.Context, pl *plan.Plan) (st State, err error) {
	if pl.Source.Git {
		return st, &config.InputError{Name: pl.Naming("source"), Problem: "a git URL is not built on BuildKit yet: check the repository out and give its directory"}
	}
	defer func() { reportFetches(k.Report, st.fetches) }()
	defer k.Report.Phase("prepare images")()
	start := time.Now()
	fmt.Fprintf(k.Log, "resolving builder %s on buildkitd\n", pl.Builder)
	b, err := k.kit.Inspect(ctx, pl.Builder, builder.ScriptsDir, pl.Logins.Keychain())
	if err != nil {
		return st, withLoginHint(fmt.Errorf("builder image %s: %w", pl.Builder, err))
	}
	k.builder = b
	st.fetches = append(st.fetches, fetch{what: "builder image", ref: pl.Builder, how: gotResolved, took: time.Since(start)})
	in := inspectOf(b)
	if err := checkProtocol(pl, in); err != nil {
		return st, err
	}
	st.BuilderID, st.BuilderDigest = b.Digest, b.Digest
	st.CLibs = tmpimage.BuilderCLibs(in)
	if pl.MultiPlatform() {
		st.Targets = pl.Targets()
		st.Target = st.Targets[0]
		if err := checkTargets(pl, in); err != nil {
			return st, err
		}
	} else {
		st.Target = pl.Target
		if st.Target == "" {
			if st.Target = tmpimage.Label(in, tmpimage.LabelTarget); st.Target == "" {
				return st, fmt.Errorf("builder image %s has no %s label: pass --target", pl.Builder, tmpimage.LabelTarget)
			}
		}
	}
	if st.Bases, err = k.bases(ctx, pl, &st); err != nil {
		return st, err
	}
	st.Toolchain = Toolchain{Release: "rustc", Key: strings.TrimPrefix(b.Digest, "sha256:")[:12]}
	if id, err := builder.IdentityOf(b.Files); err == nil {
		st.Toolchain = Toolchain{Release: id.Release(), Key: id.Key()}
	}
	return st, nil
}

// bases reads the runtime base of each platform (or of the one target) from its
// registry: the final image is composed here, not on the engine.
func (k *kitStages) bases(ctx context.Context, pl *plan.Plan, st *State) ([]v1.Image, error) {
	ps := pl.Platforms
	if !pl.MultiPlatform() {
		p, err := platform.ForTarget(st.Target)
		if err != nil {
			return nil, err
		}
		ps = []platform.Platform{p}
	}
	bases, f, err := readBases(ctx, k.logs, nil, pl, ps)
	if err != nil {
		return nil, err
	}
	st.fetches = append(st.fetches, f)
	if pl.MultiPlatform() {
		st.RuntimeID, err = basesID(ps, bases)
		return bases, err
	}
	// The image ID, as a daemon names the base that a single-platform build on
	// it pulled: the inputs' digest, a label of the final image, is the same.
	id, err := bases[0].ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading runtime image %s: %w", pl.RuntimeImage, err)
	}
	st.RuntimeID = id.String()
	return bases, nil
}

// inspectOf is the builder as the Docker stages' checks read it: its labels,
// which are all they read.
func inspectOf(b KitImage) client.ImageInspectResult {
	var in client.ImageInspectResult
	in.ID = b.Digest
	in.Config = &dockerspec.DockerOCIImageConfig{}
	in.Config.Labels = b.Config.Config.Labels
	return in
}

// Check implements Checker: the inputs' digest, which labels the final image as
// on Docker; nothing on BuildKit outlives a build to compare it with, so every
// build runs.
func (k *kitStages) Check(ctx context.Context, pl *plan.Plan, st *State) (Result, bool) {
	labels, created := pl.ImageLabels(nil)
	digest, err := inputsDigest(pl, st.Target, st.Toolchain.Key, st.RuntimeID, created, labels)
	if err != nil {
		k.Report.Warn("the final image gets no inputs label: %v", err)
	}
	st.Digest = digest
	return Result{}, false
}

// Restore implements Restorer: the cache's entries into directories, which the
// build copies into the home it mounts.
func (k *kitStages) Restore(ctx context.Context, pl *plan.Plan, st *State) Restored {
	if k.cache.store == nil {
		return Restored{}
	}
	r := Restored{parts: k.cache.keyParts(pl, cacheTarget(*st), st.Toolchain), found: newRestored(), on: true}
	k.parts, k.found = r.parts, r.found
	if pl.Clean {
		return r
	}
	dir, err := k.scratch()
	if err != nil {
		k.Report.Warn("cache restore skipped: %v", err)
		return r
	}
	end := k.Report.Phase("restore")
	r.found, k.restored = k.cache.restoreDirs(ctx, filepath.Join(dir, "state"), r.parts)
	k.found = r.found
	end()
	return r
}

// scratch is this build's directory for the staged source and state, made once.
func (k *kitStages) scratch() (string, error) {
	if k.dir == "" {
		dir, err := os.MkdirTemp(k.tempDir, "rust-s2i-musl-kit-")
		if err != nil {
			return "", err
		}
		k.dir = dir
	}
	return k.dir, nil
}

// Build implements Builder: assemble on the engine, its home streamed back into
// the cache entries that need saving and the collected files.
func (k *kitStages) Build(ctx context.Context, pl *plan.Plan, st State, _ func(map[string][]byte)) (Built, error) {
	b := Built{Incremental: len(k.restored) > 0}
	dir, err := k.scratch()
	if err != nil {
		return b, err
	}
	src := filepath.Join(dir, "src")
	if err := source.Place(pl.Source.Location, src); err != nil {
		return b, fmt.Errorf("staging source %s: %w", pl.Source.Location, err)
	}
	if err := source.Sanitize(src); err != nil {
		return b, fmt.Errorf("staging source %s: %w", pl.Source.Location, err)
	}
	k.saves = k.toSave(ctx, pl)
	split := &tmpimage.Split{Own: k.cache.ownNames(pl), Collect: tmpimage.CollectedFiles(pl.Binary, st.Targets...)}
	compressors := map[string]io.WriteCloser{}
	defer func() {
		for _, zw := range compressors {
			zw.Close()
		}
	}()
	for entry := range k.saves {
		f, zw, err := k.entryFile(entry)
		if err != nil {
			return b, err
		}
		compressors[entry] = zw
		if split.Entries == nil {
			split.Entries = map[string]io.Writer{}
		}
		split.Entries[entry] = zw
		k.saved[entry] = f
	}
	job := KitJob{
		Builder: k.builder, Command: []string{path.Join(builder.ScriptsDir, "assemble")}, Owner: tmpimage.BuildUser,
		Env: buildEnv(pl, st), Network: pl.Network,
		Source: src, SourceDest: path.Join(tmpimage.Destination, "src"),
		Home: tmpimage.AppRoot, State: k.restored, Secrets: secretFiles(pl.SecretEnv),
		All: len(k.saves) > 0, Out: split.Read, Log: k.Log,
		Key: pl.Source.Identity + "\x00" + pl.Ref.Own() + "\x00" + pl.Binary, Keys: pl.Logins.Keychain(),
	}
	end := k.Report.Phase("s2i build")
	start := time.Now()
	resume := k.Report.StopCommands()
	err = k.kit.Assemble(ctx, job)
	resume()
	end()
	if err != nil {
		k.dropSaves()
		return b, withCLibsHint(err, pl.Builder, st.CLibs)
	}
	// Closing ends each entry's frame, its checksum included: an entry whose
	// end could not be written (a full disk) is not saved.
	for entry, zw := range compressors {
		delete(compressors, entry)
		if err := zw.Close(); err != nil {
			k.Report.Warn("cache entry %s not saved: compressing it: %v", entry, err)
			k.saved[entry].Close()
			os.Remove(k.saved[entry].Name())
			delete(k.saved, entry)
		}
	}
	b.Collected = split.Files
	b.Stages = map[string]time.Duration{"assemble": time.Since(start)}
	return b, nil
}

// toSave are the entries this build's state goes to, by key: those the cache
// lacks under their primary key (see cacheStage.saveKey).
func (k *kitStages) toSave(ctx context.Context, pl *plan.Plan) map[string]string {
	saves := map[string]string{}
	if k.cache.store == nil || !pl.CacheSave {
		return saves
	}
	for _, entry := range tmpimage.Entries {
		if key, ok := k.cache.saveKey(ctx, entry, k.parts, k.found); ok {
			saves[entry] = key
		}
	}
	return saves
}

// entryFile is the temporary file an entry is compressed into as it streams
// back, and the compressor writing it.
func (k *kitStages) entryFile(entry string) (*os.File, io.WriteCloser, error) {
	if k.saved == nil {
		k.saved = map[string]*os.File{}
	}
	f, err := os.CreateTemp(k.dir, "save-"+entry+"-*.tar.zst")
	if err != nil {
		return nil, nil, err
	}
	zw, err := archive.Compress(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, zw, nil
}

// dropSaves forgets the entries of a build that failed: whatever streamed back
// of them is never saved.
func (k *kitStages) dropSaves() {
	for _, f := range k.saved {
		f.Close()
		os.Remove(f.Name())
	}
	k.saved, k.saves = nil, nil
}

// Begin implements Packager: the image is composed once the build is done.
func (k *kitStages) Begin(context.Context, *plan.Plan, State) *EarlyImage { return nil }

// Describe implements Packager: no image on BuildKit is ever up to date.
func (k *kitStages) Describe(context.Context, *plan.Plan, State) *Supply { return nil }

// Package implements Packager: the final image composed from the runtime base
// and the binary, the same bytes on either engine (image.Compose; index.Build).
func (k *kitStages) Package(ctx context.Context, pl *plan.Plan, st State, _ *EarlyImage, built Built) (Packaged, error) {
	pkg := &packageStage{logs: k.logs}
	if pl.MultiPlatform() {
		// Every binary came back with the build: nothing is read afterwards,
		// as a -tmp image is on Docker.
		for _, p := range pl.Platforms {
			if _, ok := built.Collected[tmpimage.TargetBinary(p.Target, pl.Binary)]; !ok {
				return Packaged{}, fmt.Errorf("the build left no %s binary for %s (%s) in %s", pl.Binary, p, p.Target, tmpimage.BinDir)
			}
		}
		return pkg.packageIndex(ctx, pl, st, built)
	}
	defer k.Report.Phase("package")()
	labels, created := pl.ImageLabels(nil)
	spec := finalSpec(pl, labels, created, st.Digest)
	files, graph, problem := withCrates(pl, built.Collected, pl.Binary, st.Target, false)
	warnCrates(k.Report, pl, st.Target, problem)
	bin, ok := files[pl.Binary]
	if !ok {
		return Packaged{}, fmt.Errorf("the build left no %s binary in %s", pl.Binary, tmpimage.BinDir)
	}
	p, err := platform.ForTarget(st.Target)
	if err != nil {
		return Packaged{}, err
	}
	img, err := index.Compose(index.Spec{Binary: pl.Binary, Base: pl.RuntimeImage, Created: created, Labels: spec.Labels, UserLabels: spec.UserLabels},
		index.Part{Platform: p, Base: st.Bases[0], Binary: bin})
	if err != nil {
		return Packaged{}, err
	}
	ix := &img
	recordS2IStages(k.Report, built.Result, files)
	var baseDigest string
	if d, err := st.Bases[0].Digest(); err == nil {
		baseDigest = d.String()
	}
	sup := singleSupply(k.logs, pl, st, finalImage{spec: spec, files: files, graph: graph}, baseDigest)
	k.single = ix
	fmt.Fprintf(k.Log, "%s: %s (binary %d bytes)\n", ix.Platform, ix.Digest, ix.BinarySize)
	return Packaged{Result: image.Result{ID: ix.ConfigDigest.String(), BinarySize: ix.BinarySize, Size: pulledSize(img.Image)}, Supply: sup}, nil
}

// Publish implements Publisher: pushed from here with the plan's logins, or
// written to the OCI output; BuildKit keeps nothing, so without either the image
// is gone once the build ends, which it says.
func (k *kitStages) Publish(ctx context.Context, pl *plan.Plan, res *Result) error {
	pub := &publishStage{logs: k.logs}
	if res.Index != nil {
		if !pl.Push && pl.OCIOutput == "" {
			k.Report.Warn("%s", notKept(pl))
			return nil
		}
		if !pl.Push {
			return index.WriteLayout(pl.OCIOutput, res.Index, pl.Image)
		}
		return pub.publishIndex(ctx, pl, res)
	}
	img := k.single
	if pl.OCIOutput != "" {
		if err := index.WriteImageLayout(pl.OCIOutput, img.Image, res.Image); err != nil {
			return err
		}
		fmt.Fprintf(k.Log, "wrote %s to %s as an OCI image layout\n", res.Image, pl.OCIOutput)
	}
	if !pl.Push {
		if pl.OCIOutput == "" {
			k.Report.Warn("%s", notKept(pl))
		}
		return nil
	}
	defer k.Report.Phase("push")()
	for _, ref := range res.Tags {
		tag, err := name.NewTag(ref)
		if err != nil {
			return fmt.Errorf("image name %q: %w", ref, err)
		}
		if err := remote.Write(tag, img.Image, remote.WithContext(ctx), remote.WithAuthFromKeychain(pl.Logins.Keychain())); err != nil {
			return withLoginHint(fmt.Errorf("pushing %s: %w", ref, err))
		}
		digest, err := pub.attachPushed(ctx, pl, res, ref, img.Digest.String())
		if err != nil {
			return err
		}
		fmt.Fprintf(k.Log, "pushed %s as %s\n", ref, digest)
		if res.Digest == "" {
			res.Digest = digest
		}
	}
	return nil
}

// notKept says that an image built on BuildKit without push or oci-output is
// nowhere once the build ends.
func notKept(pl *plan.Plan) string {
	return fmt.Sprintf("BuildKit keeps no image: %s was built and not kept; set %s, or %s to write it to a directory",
		pl.Image, pl.Naming("push"), pl.Naming("oci-output"))
}

// Save implements Saver: the entries that streamed back during the build go to
// the cache; a build that failed has none (dropSaves).
func (k *kitStages) Save(ctx context.Context, pl *plan.Plan, r Restored) {
	if !r.on {
		return
	}
	if !pl.CacheSave {
		fmt.Fprintln(k.Log, "cache: restore only (cache-save is false), nothing saved")
		return
	}
	end := k.Report.Phase("save")
	defer end()
	for _, entry := range tmpimage.Entries {
		f, ok := k.saved[entry]
		if !ok {
			continue
		}
		key := k.saves[entry]
		size, err := saveFile(ctx, k.cache.store, key, f)
		k.cache.saved(entry, key, size, err)
	}
}

// done removes this build's scratch directory: the staged source, the restored
// state, the entries saved or not.
func (k *kitStages) done() {
	for _, f := range k.saved {
		f.Close()
	}
	if k.dir != "" {
		os.RemoveAll(k.dir)
	}
}
