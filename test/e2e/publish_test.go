package e2e

import (
	"context"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/builder/layers"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// The test builder published with `builder --push`, as a release publishes the
// default one: flattened and cut into the parts of layers.Parts, in that order, once
// with gzip layers and once with zstd layers of the same content, and its config
// the builder's. Pulled by the engine (the gzip variant: this machine's Docker 20.10
// cannot take zstd), it builds a crate as the builder it came from does, without
// what the builder's last step removed, and with every file's time clamped.
func TestPublishedBuilder(t *testing.T) {
	needDocker(t)
	t.Parallel()
	ctx := context.Background()
	ref := testenv.Registry(t) + "/rs2i-e2e/builder:published"
	// The test builder's own build arguments, so that the build is the daemon's
	// cache of it; under a tag of its own, so that a miss never moves the shared one.
	tag := "rust-s2i-e2e-published-builder:latest"
	t.Cleanup(func() { command("docker", "rmi", "-f", tag, ref) })
	r := runCmd(t, nil, "builder", "--base", rustImage, "--tag", tag,
		"--c-libs", builderCLibs(t).String(), "--c-libs-source", "debian", "--push", ref)
	if r.code != 0 {
		t.Fatalf("builder --push failed:\n%s", r)
	}
	for _, want := range []string{ref + "@sha256:", ref + "-zstd@sha256:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout names no %s…:\n%s", want, r.stdout)
		}
	}

	gz, zst := remoteImage(t, ref), remoteImage(t, ref+"-zstd")
	var order []string
	for _, p := range layers.Parts() {
		order = append(order, p.Name)
	}
	parts := partNames(t, gz)
	if len(parts) < 5 || !slices.IsSortedFunc(parts, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) }) {
		t.Errorf("the published layers are the parts %q, want most of %q in that order", parts, order)
	}
	if got := partNames(t, zst); !slices.Equal(got, parts) {
		t.Errorf("the zstd variant's parts are %q, the gzip one's %q", got, parts)
	}
	if a, b := diffIDs(t, gz), diffIDs(t, zst); !slices.Equal(a, b) {
		t.Errorf("the variants' layers differ in content: gzip %v, zstd %v", a, b)
	}
	for img, want := range map[v1.Image]types.MediaType{gz: types.DockerLayer, zst: types.OCILayerZStd} {
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range ls {
			mt, err := l.MediaType()
			if err != nil {
				t.Fatal(err)
			}
			if mt != want && !(want == types.DockerLayer && mt == types.OCILayer) {
				t.Errorf("layer %d (%s) is %s, want %s", i, parts[i], mt, want)
			}
		}
	}
	cf, err := gz.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	built, err := docker.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(cf.Config.Labels, built.Config.Labels) || cf.Config.User != built.Config.User ||
		!slices.Equal(cf.Config.Env, built.Config.Env) || cf.Config.WorkingDir != built.Config.WorkingDir {
		t.Errorf("the published config (labels %v, user %q, env %q, workdir %q) is not the builder's (%v, %q, %q, %q)",
			cf.Config.Labels, cf.Config.User, cf.Config.Env, cf.Config.WorkingDir,
			built.Config.Labels, built.Config.User, built.Config.Env, built.Config.WorkingDir)
	}

	pull, err := docker.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pull.Wait(ctx); err != nil {
		t.Fatalf("the engine cannot pull the published builder: %v", err)
	}
	out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "/bin/sh", ref, "-c",
		`ls /usr/bin/*lto-dump* /usr/share/man 2>/dev/null; stat -c '%Y' /usr/libexec/s2i/assemble; test -d /usr/local/musl && echo c-libraries`).CombinedOutput()
	if err != nil {
		t.Fatalf("running the published builder: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{"0", "c-libraries"}) {
		t.Errorf("the published builder shows %q, want no lto-dump or manual pages, the scripts' time clamped to 0, and the C libraries", got)
	}

	final, tmp := names(t)
	args := buildArgs(crate("hello"), "hello", final, tmp)
	args[slices.Index(args, "--builder")+1] = ref
	if r := runCmd(t, nil, args...); r.code != 0 {
		t.Fatalf("a build with the published builder failed:\n%s", r)
	}
	if got := runImage(t, final, "published"); !strings.Contains(got, "Hello, published!") {
		t.Errorf("the image built with the published builder printed %q", got)
	}
}

// remoteImage reads ref's image from its registry.
func remoteImage(t *testing.T, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return img
}

// partNames are the parts an image's history names, one per layer.
func partNames(t *testing.T, img v1.Image) []string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, h := range cf.History {
		_, part, ok := strings.Cut(h.CreatedBy, "part ")
		if !ok {
			t.Fatalf("a layer's history says %q, not its part", h.CreatedBy)
		}
		parts = append(parts, part)
	}
	return parts
}

// diffIDs are an image's layers' uncompressed digests.
func diffIDs(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs
}
