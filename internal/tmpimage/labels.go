package tmpimage

import (
	"strings"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
)

// LabelTarget, on the builder image, is the target triple it builds for.
const LabelTarget = "io.rust-s2i.target"

// LabelTargets, on the builder image, is every target triple it serves (its std
// and C toolchain are installed), separated by spaces, LabelTarget among them: a
// multi-platform build needs each of its platforms' targets there.
const LabelTargets = "io.rust-s2i.targets"

// BuilderTargets are the targets the builder img serves: its LabelTargets, else
// (a builder from before multi-platform builds) its LabelTarget alone; nil when it
// has neither.
func BuilderTargets(img client.ImageInspectResult) []string {
	if targets := strings.Fields(Label(img, LabelTargets)); len(targets) > 0 {
		return targets
	}
	if t := strings.TrimSpace(Label(img, LabelTarget)); t != "" {
		return []string{t}
	}
	return nil
}

// LabelCLibs, on the builder image, is the C libraries it brings built for musl
// as NAME=VERSION pairs (clibs.Label): exactly what its CLIBS build argument built.
const LabelCLibs = clibs.Label

// BuilderCLibs are the C libraries the builder img brings: empty for one that
// brings none, or was made before builders brought any (it has no label).
func BuilderCLibs(img client.ImageInspectResult) clibs.Set {
	return clibs.ParseLabel(Label(img, LabelCLibs))
}

// LabelBuilderToolchain, on the builder image, is the rustup toolchain it was
// built with (`rust-s2i-musl builder --toolchain`), for the command that rebuilds
// it. It is not LabelToolchain, which names what a -tmp image was built with.
const LabelBuilderToolchain = "io.rust-s2i.toolchain"

// LabelInputs holds the digest of everything a build's result depends on, on both
// the -tmp and the final image: a build whose inputs match both stops early.
const LabelInputs = "io.rust-s2i.inputs"

// LabelDisplayName is the label S2I puts on every image it commits, the tag it
// was built as: it finds the dangling -tmp images of a binary.
const LabelDisplayName = "io.k8s.display-name"

// Label is img's label key, "" when it has none.
func Label(img client.ImageInspectResult, key string) string {
	if img.Config == nil {
		return ""
	}
	return img.Config.Labels[key]
}

// LabelRef, on a -tmp image of a build of a ref other than the default branch,
// is that ref (plan.Ref.Own): a pull request's state is its own, and the default
// branch never builds on it, nor it on the default branch's. A default-branch
// image has none, as images had before refs counted.
const LabelRef = "io.rust-s2i.ref"

// BuildLabels are the labels an S2I build puts on the -tmp image: the builder it
// was made with (LabelBuilder), what that builder is (LabelRustc, LabelToolchain)
// and whose state it is: the source (LabelSource) and the ref (LabelRef), "" for
// the default branch.
func BuildLabels(builderID, rustc, toolchain, source, ref string) map[string]string {
	labels := SourceLabels(source, ref)
	labels[LabelBuilder], labels[LabelRustc], labels[LabelToolchain] = builderID, rustc, toolchain
	return labels
}

// SourceLabels are the labels of a -tmp image made from cache entries for source
// and ref: FromEntries adds LabelBuilder itself.
func SourceLabels(source, ref string) map[string]string {
	labels := map[string]string{LabelSource: source}
	if ref != "" {
		labels[LabelRef] = ref
	}
	return labels
}

// Owner is whose state a -tmp image holds, as OwnerName puts it; "" when it does
// not say (an image from `rust-s2i-musl bootstrap`, or from before the label):
// such an image is used by whichever source builds next.
func Owner(img client.ImageInspectResult) string {
	source := Label(img, LabelSource)
	if source == "" {
		return ""
	}
	return OwnerName(source, Label(img, LabelRef))
}

// OwnerName is the owner of the state of a build of source at ref ("" for the
// default branch), for comparing with Owner and for people: the source alone for
// the default branch, so that images from before refs counted stay their own.
func OwnerName(source, ref string) string {
	if ref == "" {
		return source
	}
	return source + " (" + ref + ")"
}

// Toolchain is what the -tmp image prev remembers of the builder builderID: the
// compiler's release and builder.Identity.Key; "" for both when it was made with
// another builder or does not say.
func Toolchain(prev client.ImageInspectResult, builderID string) (release, key string) {
	if Label(prev, LabelBuilder) != builderID {
		return "", ""
	}
	release, key = Label(prev, LabelRustc), Label(prev, LabelToolchain)
	if release == "" || key == "" {
		return "", ""
	}
	return release, key
}

// maxStack is how many layers a -tmp image may grow above its builder by builds on
// top of it before a build starts over from the builder. overlay2 allows 128
// layers in all; fewer also keeps the image's dead weight (files replaced in
// later layers) small.
const maxStack = 20

// CanStack reports whether the next build may run on top of the -tmp image prev:
// it was made with this very builder (builderID, of builderLayers layers) and has
// not grown too deep.
func CanStack(prev client.ImageInspectResult, builderID string, builderLayers int) bool {
	if builderID == "" || Label(prev, LabelBuilder) != builderID {
		return false
	}
	return len(prev.RootFS.Layers)-builderLayers < maxStack
}
