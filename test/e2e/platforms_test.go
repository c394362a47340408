package e2e

// Multi-platform builds (docs/multi-platform.md): one builder cross-compiles
// linux/amd64 and linux/arm64 in one cargo run, and the final image is one image
// index. The test world provides a two-platform runtime base in a loopback
// registry (testenv.MultiArchBase), where the tests push too, and runs the arm64
// images and binaries through binfmt QEMU: QEMU only runs the results here, it
// never builds.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// bothPlatforms is what the tests ask for, in this order.
const bothPlatforms = "linux/amd64,linux/arm64"

// wantPlatforms are the index's images in the order asked for: the OCI
// architecture, the ELF machine of its binary, and what uname -m says on it.
var wantPlatforms = []struct {
	platform, arch string
	machine        elf.Machine
}{
	{"linux/amd64", "amd64", elf.EM_X86_64},
	{"linux/arm64", "arm64", elf.EM_AARCH64},
}

// platformArgs are the flags of a two-platform build of src on the two-platform
// base, plus extra.
func platformArgs(t *testing.T, src, binary, final, tmp string, extra ...string) []string {
	t.Helper()
	return append([]string{"build", "--source", src, "--binary", binary, "--builder", builderFor(src),
		"--runtime-image", testenv.MultiArchBase(t), "--image", final, "--tmp-image", tmp,
		"--platform", bothPlatforms}, extra...)
}

// pushedName is a name in the test world's registry for the test's pushes.
func pushedName(t *testing.T, repo, tag string) string {
	t.Helper()
	return testenv.MultiArchRegistry(t) + "/rs2i-e2e/" + repo + ":" + tag
}

// output is the value of key in a run's KEY=VALUE outputs on stdout.
func output(r result, key string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=(.*)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		return ""
	}
	return m[1]
}

// pushedImage is one platform's image of a pushed index.
type pushedImage struct {
	platform v1.Platform
	digest   v1.Hash
	binary   []byte
}

// pushedIndex reads the index that ref names from the registry, checks that it
// holds exactly the two platforms in the order asked for, each config saying its
// platform, and returns its digest and each image with its binary.
func pushedIndex(t *testing.T, ref, binary string) (v1.Hash, []pushedImage) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("reading the index %s: %v", ref, err)
	}
	digest, _ := idx.Digest()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	manifests := imageManifests(t, ref, im.Manifests)
	if len(manifests) != len(wantPlatforms) {
		t.Fatalf("%s holds %d images, want exactly %d: %+v", ref, len(manifests), len(wantPlatforms), im.Manifests)
	}
	var images []pushedImage
	for i, desc := range manifests {
		want := wantPlatforms[i]
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != want.arch {
			t.Errorf("%s: manifest %d is for %v, want %s", ref, i, desc.Platform, want.platform)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if cf, err := img.ConfigFile(); err != nil || cf.Architecture != want.arch || cf.OS != "linux" {
			t.Errorf("%s: the %s image's config says %s/%s (%v)", ref, want.platform, cf.OS, cf.Architecture, err)
		}
		images = append(images, pushedImage{platform: *desc.Platform, digest: desc.Digest, binary: binaryInImage(t, img, binary)})
	}
	return digest, images
}

// imageManifests are an index's image manifests, without the attestation
// manifests BuildKit's layout puts after them (sbom and provenance are on by
// default), each of which must come after the images and point at one of them.
func imageManifests(t *testing.T, ref string, all []v1.Descriptor) []v1.Descriptor {
	t.Helper()
	var images []v1.Descriptor
	for _, d := range all {
		if d.Annotations[attest.RefTypeAnnotation] != attest.AttestationManifestType {
			images = append(images, d)
		}
	}
	for i, d := range all {
		if d.Annotations[attest.RefTypeAnnotation] != attest.AttestationManifestType {
			continue
		}
		if i < len(images) || !slices.ContainsFunc(images, func(img v1.Descriptor) bool {
			return img.Digest.String() == d.Annotations[attest.RefDigestAnnotation]
		}) {
			t.Errorf("%s: attestation manifest %d (%v) is before an image or about none of them", ref, i, d.Annotations)
		}
	}
	return images
}

// binaryInImage is /usr/local/bin/NAME from the image's last layer, the one that
// holds only the binary.
func binaryInImage(t *testing.T, img v1.Image, binary string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("the image's layers: %d, %v", len(layers), err)
	}
	rc, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("the binary's layer has no usr/local/bin/%s", binary)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "usr/local/bin/"+binary {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

// checkStaticFor fails unless bin is a static ELF binary (no PT_INTERP, no
// DT_NEEDED) for machine.
func checkStaticFor(t *testing.T, bin []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("the binary is no ELF file: %v", err)
	}
	if f.Machine != machine {
		t.Errorf("the binary is for %v, want %v", f.Machine, machine)
	}
	if !isStatic(t, bin) {
		t.Errorf("the %v binary is not static (it has an interpreter or needs shared libraries)", machine)
	}
}

// runPlatform runs ref on platform (arm64 through binfmt QEMU) with args, and
// returns what it printed; the test fails if it fails.
func runPlatform(t *testing.T, platform, ref string, args ...string) string {
	t.Helper()
	out, err := dockerRunPlatform(t, platform, ref, nil, args...)
	if err != nil {
		t.Fatalf("docker run --platform %s %s: %v\n%s", platform, ref, err, out)
	}
	return out
}

// dockerRunPlatform runs ref on platform with docker run's flags opts and args,
// and returns what it printed and how it ended. The image it pulls goes when the
// test ends.
func dockerRunPlatform(t *testing.T, platform, ref string, opts []string, args ...string) (string, error) {
	t.Helper()
	t.Cleanup(func() { command("docker", "rmi", "-f", ref) })
	run := append(append([]string{"run", "--rm", "--platform", platform}, opts...), ref)
	out, err := exec.Command("docker", append(run, args...)...).CombinedOutput()
	return string(out), err
}

// ringLine is what ringdigest prints for no argument: the SHA-256 of
// "rust-s2i-musl", computed here.
func ringLine() string {
	sum := sha256.Sum256([]byte("rust-s2i-musl"))
	return "sha256(rust-s2i-musl) = " + hex.EncodeToString(sum[:])
}

// The hello crate, the git-dependency crate and ring (C and assembly through the
// cc crate, with each target's cross compiler) built for both platforms and
// pushed: the tag names an index of exactly the two platforms, in the order
// asked for; the digest output is the index's; each image's binary is a static
// ELF of its platform's machine, and each image runs on its platform and prints
// the right thing (ring the same SHA-256 on both).
func TestPlatformsPushedIndex(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []struct {
		crate string
		src   func(*testing.T) string
		args  []string
		want  string
	}{
		{"hello", func(t *testing.T) string { return copyTree(t, crate("hello")) }, []string{"e2e"}, "Hello, e2e!"},
		{"gitdep", withGitDep, nil, "greetings, gitdep"},
		{"ringdigest", func(t *testing.T) string { return copyTree(t, crate("ringdigest")) }, nil, ringLine()},
	}
	for _, tc := range tests {
		t.Run(tc.crate, func(t *testing.T) {
			t.Parallel()
			_, tmp := names(t)
			ref := pushedName(t, tc.crate, "two")
			r := runCmd(t, nil, platformArgs(t, tc.src(t), tc.crate, ref, tmp, "--push")...)
			if r.code != 0 {
				t.Fatalf("two-platform build and push failed:\n%s", r)
			}
			if !strings.Contains(r.stderr, "--target x86_64-unknown-linux-musl --target aarch64-unknown-linux-musl") {
				t.Errorf("the build log lacks one cargo run for both targets:\n%s", r.stderr)
			}
			digest, images := pushedIndex(t, ref, tc.crate)
			if got := output(r, "digest"); got != digest.String() {
				t.Errorf("digest output %q, the registry's index is %s", got, digest)
			}
			checkPlatformOutputs(t, r, images)
			repo := strings.TrimSuffix(ref, ":two")
			for i, img := range images {
				want := wantPlatforms[i]
				checkStaticFor(t, img.binary, want.machine)
				if got := runPlatform(t, want.platform, repo+"@"+img.digest.String(), tc.args...); !strings.Contains(got, tc.want) {
					t.Errorf("the %s image printed %q, want %q", want.platform, got, tc.want)
				}
			}
			if tc.crate == "hello" {
				checkPullPlatforms(t, ref)
			}
		})
	}
}

// checkPlatformOutputs checks the platforms and metadata outputs against the
// pushed images: a line per platform with its binary's size and its digest, and
// the metadata's per-platform digests.
func checkPlatformOutputs(t *testing.T, r result, images []pushedImage) {
	t.Helper()
	platforms, metadata := output(r, "platforms"), output(r, "metadata")
	for i, img := range images {
		line := fmt.Sprintf("%s %d %s", wantPlatforms[i].platform, len(img.binary), img.digest)
		if !strings.Contains(platforms, line) {
			t.Errorf("platforms output %q lacks %q", platforms, line)
		}
		if !strings.Contains(metadata, img.digest.String()) {
			t.Errorf("metadata %s lacks the %s image's digest %s", metadata, wantPlatforms[i].platform, img.digest)
		}
	}
	if !strings.Contains(metadata, `"rust-s2i.platforms"`) {
		t.Errorf("metadata %s lacks rust-s2i.platforms", metadata)
	}
}

// checkPullPlatforms pulls ref for each platform, as a user on either machine
// does, and checks that the daemon then has that platform's image under it.
func checkPullPlatforms(t *testing.T, ref string) {
	t.Helper()
	t.Cleanup(func() { command("docker", "rmi", "-f", ref) })
	for _, want := range []string{"linux/arm64", "linux/amd64"} {
		if out, err := command("docker", "pull", "--platform", want, ref); err != nil {
			t.Fatalf("docker pull --platform %s %s: %v\n%s", want, ref, err, out)
		}
		out, err := command("docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", ref)
		if err != nil {
			t.Fatalf("docker image inspect %s: %v\n%s", ref, err, out)
		}
		if got := strings.TrimSpace(out); got != want {
			t.Errorf("docker pull --platform %s gave a %s image", want, got)
		}
	}
}

// Rebuilding the same commit from scratch (--clean) gives the same index digest;
// with push and oci-output both, the layout holds the index that was pushed.
func TestPlatformsReproducible(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	initRepo(t, src)
	_, tmp := names(t)
	first, second := pushedName(t, "reproducible", "1"), pushedName(t, "reproducible", "2")
	if r := runCmd(t, nil, platformArgs(t, src, "hello", first, tmp, "--push")...); r.code != 0 {
		t.Fatalf("first build:\n%s", r)
	}
	oci := filepath.Join(t.TempDir(), "oci")
	r := runCmd(t, nil, platformArgs(t, src, "hello", second, tmp, "--push", "--clean", "--oci-output", oci)...)
	if r.code != 0 {
		t.Fatalf("clean rebuild:\n%s", r)
	}
	d1, images := pushedIndex(t, first, "hello")
	d2, _ := pushedIndex(t, second, "hello")
	if d1 != d2 {
		t.Errorf("the same commit gave the index %s, then %s", d1, d2)
	}
	if inLayout := layoutIndex(t, oci); inLayout.String() != d2.String() {
		t.Errorf("the OCI layout holds %s, the pushed index is %s", inLayout, d2)
	}
	r1, _ := name.ParseReference(first)
	idx, err := remote.Index(r1)
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(images[1].digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Labels["org.opencontainers.image.created"]; got != "2024-01-02T03:04:05Z" {
		t.Errorf("the arm64 image's created label is %q, want the commit's time", got)
	}
}

// layoutIndex is the digest of the image index an OCI layout's index.json names,
// failing unless it names exactly one, of exactly the two platforms.
func layoutIndex(t *testing.T, dir string) v1.Hash {
	t.Helper()
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("%s is no OCI layout: %v", dir, err)
	}
	im, err := outer.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("%s/index.json: %+v, %v; want one entry", dir, im, err)
	}
	inner, err := outer.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := inner.IndexManifest(); err != nil || len(imageManifests(t, dir, m.Manifests)) != len(wantPlatforms) {
		t.Errorf("the layout's index holds %+v (%v), want the two platforms", m, err)
	}
	return im.Manifests[0].Digest
}

// Without push, the daemon's own platform's image is loaded under the image's
// name, so that docker run NAME works as after a single-platform build; with
// oci-output the layout holds both platforms, and pushes from there as crane
// push does. Without oci-output the log says the other platform was not kept.
func TestPlatformsWithoutPush(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	oci := filepath.Join(t.TempDir(), "oci")
	r := runCmd(t, nil, platformArgs(t, src, "hello", final, tmp, "--oci-output", oci)...)
	if r.code != 0 {
		t.Fatalf("two-platform build without push:\n%s", r)
	}
	if got := runImage(t, final, "daemon"); !strings.Contains(got, "Hello, daemon!") {
		t.Errorf("docker run %s printed %q", final, got)
	}
	in, err := docker.ImageInspect(context.Background(), final)
	if err != nil {
		t.Fatal(err)
	}
	info, err := docker.Info(context.Background(), client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"x86_64": "amd64", "aarch64": "arm64"}[info.Info.Architecture]; in.Architecture != want {
		t.Errorf("loaded a %s image on a %s daemon, want its own platform's", in.Architecture, info.Info.Architecture)
	}
	if output(r, "image-id") != in.ID {
		t.Errorf("image-id output %q, the daemon has %s", output(r, "image-id"), in.ID)
	}
	d := layoutIndex(t, oci)
	lp, err := layout.FromPath(oci)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	inner, err := idx.ImageIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	later := pushedName(t, "from-layout", "1")
	ref, _ := name.ParseReference(later)
	if err := remote.WriteIndex(ref, inner); err != nil {
		t.Fatalf("pushing the layout's index as crane push does: %v", err)
	}
	if pushed, _ := pushedIndex(t, later, "hello"); pushed != d {
		t.Errorf("pushed from the layout: %s, the layout's index is %s", pushed, d)
	}

	again := runCmd(t, nil, platformArgs(t, src, "hello", final, tmp)...)
	if again.code != 0 {
		t.Fatalf("rebuild without oci-output:\n%s", again)
	}
	if !strings.Contains(again.stderr, "image was not kept") || !strings.Contains(again.stderr, "--oci-output") {
		t.Errorf("without push or oci-output the log does not say where the other platform went:\n%s", again.stderr)
	}
}

// x86OnlyBuilder is the test builder labelled as serving x86_64 only, as a
// builder without the aarch64 std is; removed when the test ends.
func x86OnlyBuilder(t *testing.T) string {
	t.Helper()
	return relabelledBuilder(t, "x86-only", "io.rust-s2i.targets=x86_64-unknown-linux-musl")
}

// containersOf lists the containers, running or not, of image, and the
// container events for it since since: none means no container was made.
func containersOf(t *testing.T, image string, since time.Time) string {
	t.Helper()
	ps, err := command("docker", "ps", "-aq", "--filter", "ancestor="+image)
	if err != nil {
		t.Fatalf("docker ps: %v\n%s", err, ps)
	}
	events, err := command("docker", "events", "--since", since.Format(time.RFC3339Nano), "--until", time.Now().Format(time.RFC3339Nano),
		"--filter", "type=container", "--filter", "image="+image, "--format", "{{.Action}} {{.Actor.ID}}")
	if err != nil {
		t.Fatalf("docker events: %v\n%s", err, events)
	}
	return strings.TrimSpace(ps + events)
}

// A builder without the arm64 target asked for linux/arm64 is bad input (exit 2)
// naming the builder and the targets it has, found before any container is
// made: no container of that builder exists, and the daemon's events name none.
// (The whole daemon's container list is no measure: the other tests build in
// parallel.)
func TestPlatformsBuilderLacksTarget(t *testing.T) {
	needDocker(t)
	b := x86OnlyBuilder(t)
	final, tmp := names(t)
	start := time.Now()
	r := runCmd(t, nil, "build", "--source", copyTree(t, crate("hello")), "--binary", "hello", "--builder", b,
		"--runtime-image", testenv.MultiArchBase(t), "--image", final, "--tmp-image", tmp, "--platform", "linux/arm64")
	if r.code != 2 {
		t.Fatalf("a builder without the arm64 target: want exit 2\n%s", r)
	}
	if want := "builder image " + b + " serves only x86_64-unknown-linux-musl, not linux/arm64 (aarch64-unknown-linux-musl)"; !strings.Contains(r.stderr, want) {
		t.Errorf("the error does not say %q:\n%s", want, r.stderr)
	}
	if made := containersOf(t, b, start); made != "" {
		t.Errorf("containers of the refused builder: %s", made)
	}
}

// amd64Only pushes the amd64 image of the two-platform base alone, as a base
// without arm64, and returns its name.
func amd64Only(t *testing.T) string {
	t.Helper()
	base, err := name.ParseReference(testenv.MultiArchBase(t))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(base)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range im.Manifests {
		if desc.Platform != nil && desc.Platform.Architecture == "amd64" {
			img, err := idx.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := name.ParseReference(pushedName(t, "amd64-only", "1"))
			if err := remote.Write(ref, img); err != nil {
				t.Fatal(err)
			}
			return ref.String()
		}
	}
	t.Fatalf("%s has no amd64 image", base)
	return ""
}

// An unknown platform is bad input reported with the other bad inputs of the
// run, with the supported platforms listed (the action's inputs, which are all
// read before any is refused; flags stop at the first bad one); a base without a
// platform asked for is bad input naming the base and the platform, reported
// with a builder that lacks the platform's target, both before any container is
// made.
func TestPlatformsBadInputsTogether(t *testing.T) {
	needDocker(t)
	final, tmp := names(t)
	ws, src := inWorkspace(t, "hello", "hello")
	env, _, _ := actionsEnv(t, ws, map[string]string{
		"binary": "bad name!", "source": src, "builder": builderImage, "runtime-image": testenv.MultiArchBase(t),
		"image": final, "tmp-image": tmp, "cache": "none", "platforms": "linux/amd64\nlinux/s390x",
	})
	r := runCmd(t, env, "build")
	if r.code != 2 {
		t.Fatalf("an unknown platform and a bad binary: want exit 2\n%s", r)
	}
	for _, want := range []string{`"linux/s390x" is not a supported platform`, "linux/amd64, linux/arm64", "binary: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stderr)
		}
	}

	base, b := amd64Only(t), x86OnlyBuilder(t)
	start := time.Now()
	r = runCmd(t, nil, "build", "--source", src, "--binary", "hello", "--builder", b,
		"--runtime-image", base, "--image", final, "--tmp-image", tmp, "--platform", bothPlatforms)
	if r.code != 2 {
		t.Fatalf("a base and a builder without arm64: want exit 2\n%s", r)
	}
	for _, want := range []string{
		"--runtime-image: " + base + " has no image for linux/arm64 (it has linux/amd64)",
		"--builder: builder image " + b + " serves only x86_64-unknown-linux-musl",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stderr)
		}
	}
	if made := containersOf(t, b, start); made != "" {
		t.Errorf("containers of the refused build: %s", made)
	}
}

// Two fresh runners sharing only a cache: the second restores the state of both
// targets, and a one-line change compiles no dependency for either (ring, with
// its C, included), only the crate itself, once per target.
func TestPlatformsCacheAcrossRunners(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("ringdigest"))
	final, tmp := names(t)
	cache := []string{"--cache", "local", "--cache-dir", t.TempDir()}
	if r := runCmd(t, nil, platformArgs(t, src, "ringdigest", final, tmp+"-first", cache...)...); r.code != 0 {
		t.Fatalf("first runner:\n%s", r)
	}
	t.Cleanup(func() { command("docker", "rmi", "-f", tmp+"-first", tmp+"-second") })
	main := filepath.Join(src, "src", "main.rs")
	data, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, append(data, []byte("// a one-line change\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, nil, platformArgs(t, src, "ringdigest", final, tmp+"-second", cache...)...)
	if r.code != 0 {
		t.Fatalf("second runner:\n%s", r)
	}
	if !regexp.MustCompile(`cache: restored target from \S*target-ringdigest-aarch64-unknown-linux-musl\+x86_64-unknown-linux-musl-`).MatchString(r.stderr) {
		t.Errorf("the second runner did not restore the two targets' entry:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Compiling ring ") || strings.Contains(r.stderr, "Compiling cc ") {
		t.Errorf("the one-line change compiled a dependency:\n%s", r.stderr)
	}
	// cargo names a package once in its progress however many targets it builds it
	// for: the crate itself was compiled, and each target's binary came out.
	if !strings.Contains(r.stderr, "Compiling ringdigest ") {
		t.Errorf("the one-line change did not compile the crate:\n%s", r.stderr)
	}
	for _, target := range []string{"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"} {
		if !strings.Contains(r.stderr, "Built /opt/app-root/bin/"+target+"/ringdigest") {
			t.Errorf("no %s binary came out of the second runner's build:\n%s", target, r.stderr)
		}
	}
}

// The README's two-platform snippet, as the action gets it: platforms, the
// newline-separated tags and labels docker/metadata-action outputs, and push. Every
// tag names the same two-platform index, which carries the labels.
func TestPlatformsReadmeSnippet(t *testing.T) {
	needDocker(t)
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"platforms: linux/amd64,linux/arm64", "tags: ${{ steps.meta.outputs.tags }}", "labels: ${{ steps.meta.outputs.labels }}"} {
		if !strings.Contains(string(readme), line) {
			t.Fatalf("the README's snippet no longer has %q: keep this test in step", line)
		}
	}
	ws, src := inWorkspace(t, "hello", "svc")
	_, tmp := names(t)
	tags := []string{pushedName(t, "snippet", "sha-1234567"), pushedName(t, "snippet", "main")}
	env, _, _ := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": testenv.MultiArchBase(t),
		"tmp-image": tmp, "platforms": "linux/amd64,linux/arm64", "push": "true",
		"tags":   strings.Join(tags, "\n") + "\n",
		"labels": "org.opencontainers.image.title=svc\norg.opencontainers.image.revision=1234567\n",
	})
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("the README's two-platform step failed:\n%s", r)
	}
	var first v1.Hash
	for i, tag := range tags {
		digest, images := pushedIndex(t, tag, "hello") // exactly the two platforms
		if i == 0 {
			first = digest
			for j, img := range images {
				checkStaticFor(t, img.binary, wantPlatforms[j].machine)
			}
		} else if digest != first {
			t.Errorf("%s names %s, %s names %s: want one index under every tag", tags[0], first, tag, digest)
		}
	}
	ref, err := name.ParseReference(tags[0])
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	for _, desc := range im.Manifests {
		if desc.Platform == nil || desc.Platform.OS == "unknown" {
			continue // an attestation manifest
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.Labels["org.opencontainers.image.title"] != "svc" || cf.Config.Labels["org.opencontainers.image.revision"] != "1234567" {
			t.Errorf("the %s image lacks the metadata-action labels: %v", desc.Platform, cf.Config.Labels)
		}
	}
}
