package pipeline

// The final image of a multi-platform build (plan.Plan.Platforms): the package
// stage assembles one image index from the binaries the one cargo run made, each
// on its platform's runtime base (internal/index); the publish stage pushes it,
// or loads the daemon's own platform's image under the image's names, and writes
// it to the OCI output when asked.

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/index"
	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// packageIndex assembles the image index, and breaks the "s2i build" phase down.
// Its Result is the first platform's image, until the publish stage loads one.
func (s *packageStage) packageIndex(ctx context.Context, pl *plan.Plan, st State, built Built) (Packaged, error) {
	end := s.Report.Phase("package")
	ix, files, sup, err := s.buildIndex(ctx, pl, st, built.Collected)
	if err == nil {
		err = s.attachIndex(pl, ix, sup)
	}
	end()
	if err != nil {
		return Packaged{}, err
	}
	recordS2IStages(s.Report, built.Result, files)
	first := ix.Images[0]
	out := image.Result{ID: first.ConfigDigest.String(), BinarySize: first.BinarySize, Size: pulledSize(first.Image)}
	for _, img := range ix.Images {
		fmt.Fprintf(s.Log, "%s: %s (binary %d bytes)\n", img.Platform, img.Digest, img.BinarySize)
	}
	fmt.Fprintf(s.Log, "image index %s\n", ix.Digest)
	return Packaged{Result: out, Index: ix, Supply: sup}, nil
}

// attachIndex puts each platform image's attestations (its SBOM, its
// provenance) into the index in BuildKit's layout, when the index goes where
// they can go with it (attaches): then the index's digest is that of the
// index with them, which the push and the OCI output both write.
func (s *packageStage) attachIndex(pl *plan.Plan, ix *index.Index, sup *Supply) error {
	if !attaches(pl) || sup == nil {
		return nil
	}
	statements := map[v1.Hash][]intoto.Statement{}
	var problem error
	for i, img := range ix.Images {
		sts, err := sup.Statements(pl, i, img.Digest)
		problem = cmp.Or(problem, err)
		if len(sts) > 0 {
			statements[img.Digest] = sts
		}
	}
	if problem != nil {
		s.Report.Warn("%v", problem)
	}
	if len(statements) == 0 {
		return nil
	}
	attached, err := attest.Attach(ix.Index, statements)
	if err != nil {
		return fmt.Errorf("attaching the attestations to the image index: %w", err)
	}
	return ix.Replace(attached)
}

// buildIndex is the index of every platform's binary on its base, with the labels
// and time the single-platform image would have (finalSpec), and the build's files
// it was made from. files are what the build collected; when they lack a binary
// (a git URL's build, or a hand-over that failed) they are read from the -tmp
// image.
func (s *packageStage) buildIndex(ctx context.Context, pl *plan.Plan, st State, files map[string][]byte) (*index.Index, map[string][]byte, *Supply, error) {
	names := tmpimage.CollectedFiles(pl.Binary, st.Targets...)
	for _, t := range st.Targets {
		if _, ok := files[tmpimage.TargetBinary(t, pl.Binary)]; ok {
			continue
		}
		var err error
		if files, err = engine.ReadFiles(ctx, s.e, pl.TmpImage, tmpimage.BinDir, names...); err != nil {
			return nil, nil, nil, fmt.Errorf("reading the binaries from %s: %w", pl.TmpImage, err)
		}
		break
	}
	s2iLabels, err := s.s2iLabels(ctx, pl)
	if err != nil {
		return nil, nil, nil, err
	}
	labels, created := pl.ImageLabels(s2iLabels)
	single := finalSpec(pl, labels, created, st.Digest)
	spec := index.Spec{Binary: pl.Binary, Base: pl.RuntimeImage, Created: created, Labels: single.Labels, UserLabels: single.UserLabels}
	parts, supplyParts, err := s.indexParts(pl, st, files)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err := index.Build(spec, parts)
	if err != nil {
		return nil, nil, nil, err
	}
	sup, err := newSupply(pl, files, created, single.Labels, builderImage(pl, st), supplyParts)
	if err != nil {
		s.Report.Warn("%v", err)
	}
	return ix, files, sup, nil
}

// indexParts are each platform's binary, carrying its crate list, on its base,
// and what the Supply says of each.
func (s *packageStage) indexParts(pl *plan.Plan, st State, files map[string][]byte) ([]index.Part, []SupplyPart, error) {
	parts := make([]index.Part, len(pl.Platforms))
	supply := make([]SupplyPart, len(pl.Platforms))
	for i, p := range pl.Platforms {
		name := tmpimage.TargetBinary(p.Target, pl.Binary)
		own, g, problem := withCrates(pl, files, name, p.Target, true)
		warnCrates(s.Report, pl, p.Target, problem)
		bin, ok := own[name]
		if !ok {
			return nil, nil, fmt.Errorf("the build left no %s binary for %s (%s) in %s", pl.Binary, p, p.Target, pl.TmpImage)
		}
		parts[i] = index.Part{Platform: p, Base: st.Bases[i], Binary: bin}
		supply[i] = SupplyPart{Platform: p.String(), Target: p.Target, Graph: g, Runtime: provenance.Image{Ref: pl.RuntimeImage},
			CLibs: clibs.Linked(g, st.CLibs)}
		if d, err := st.Bases[i].Digest(); err == nil {
			supply[i].Runtime.Digest = d.String()
		}
	}
	return parts, supply, nil
}

// pulledSize is what pulling img downloads: its layers, compressed, and its
// config. 0 when it cannot be read, which only the image-size output shows.
func pulledSize(img v1.Image) int64 {
	m, err := img.Manifest()
	if err != nil {
		return 0
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// publishIndex writes the index to the OCI output when asked, then pushes it
// under every name, or without push loads the daemon's own platform's image.
func (s *publishStage) publishIndex(ctx context.Context, pl *plan.Plan, res *Result) error {
	ix := res.Index
	if pl.OCIOutput != "" {
		if err := index.WriteLayout(pl.OCIOutput, ix, pl.Image); err != nil {
			return err
		}
		fmt.Fprintf(s.Log, "wrote image index %s (%s) to %s as an OCI image layout\n", ix.Digest, platformNames(pl.Platforms), pl.OCIOutput)
	}
	if !pl.Push {
		return s.loadOwn(ctx, pl, res)
	}
	end := s.Report.Phase("push")
	err := index.Push(ctx, ix, res.Tags, pl.Logins.Keychain())
	end()
	if err != nil {
		return withLoginHint(err)
	}
	res.Digest = ix.Digest.String()
	fmt.Fprintf(s.Log, "pushed image index %s (%s) as %s\n", ix.Digest, platformNames(pl.Platforms), strings.Join(res.Tags, ", "))
	return nil
}

// loadOwn loads the image of the daemon's own platform (else the first) into the
// daemon under every name, so that `docker run NAME` works as after a
// single-platform build, and says where the other platforms' images went.
func (s *publishStage) loadOwn(ctx context.Context, pl *plan.Plan, res *Result) error {
	own := s.ownImage(ctx, res.Index)
	in, err := image.Load(ctx, s.e, own.Image, res.Tags)
	if err != nil {
		return fmt.Errorf("loading the %s image into the daemon: %w", own.Platform, err)
	}
	res.ImageID, res.BinarySize, res.ImageSize = in.ID, own.BinarySize, in.Size
	fmt.Fprintf(s.Log, "loaded the %s image into the daemon as %s\n", own.Platform, strings.Join(res.Tags, ", "))
	var others []string
	for _, img := range res.Index.Images {
		if img.Platform != own.Platform {
			others = append(others, img.Platform.String())
		}
	}
	if len(others) > 0 && pl.OCIOutput == "" {
		fmt.Fprintf(s.Log, "the %s image was not kept (a daemon holds one platform under a name): set %s to write every platform to a directory as an OCI image layout, or %s to push the index\n",
			strings.Join(others, ", "), pl.Naming("oci-output"), pl.Naming("push"))
	}
	return nil
}

// ownImage is the index's image for the daemon's platform, else its first.
func (s *publishStage) ownImage(ctx context.Context, ix *index.Index) index.Image {
	if info, err := s.e.Info(ctx, client.InfoOptions{}); err == nil {
		if p, err := platform.ForTarget(builder.DefaultTarget(info.Info.Architecture)); err == nil {
			if img, ok := ix.For(p); ok {
				return img
			}
		}
	}
	return ix.Images[0]
}

// platformsOutput is the platforms output: one line per platform, in the order
// built, of the platform, its binary's size in bytes and its image's digest
// (linux/arm64 1234567 sha256:...), which the job summary shows as a table.
func platformsOutput(ix *index.Index) string {
	var lines []string
	for _, r := range ix.Rows() {
		lines = append(lines, r.Platform+" "+strconv.FormatInt(r.BinarySize, 10)+" "+r.Digest)
	}
	return strings.Join(lines, "\n")
}
