package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// digestLabel labels an image with the digest of its inputs; nil for none.
func digestLabel(digest string) map[string]string {
	if digest == "" {
		return nil
	}
	return map[string]string{tmpimage.LabelInputs: digest}
}

// checkEngine is the part of the Docker client the check stage uses.
type checkEngine interface {
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageHistory(ctx context.Context, image string, _ ...client.ImageHistoryOption) (client.ImageHistoryResult, error)
}

// checkStage stops a build whose images were built from exactly its inputs. Only a
// local source's inputs are known before the build: a git URL's commit is known
// only once S2I has cloned it.
type checkStage struct {
	logs
	e checkEngine
}

// Check implements Checker.
func (s *checkStage) Check(ctx context.Context, pl *plan.Plan, st *State) (Result, bool) {
	if pl.Source.Git {
		return Result{}, false
	}
	end := s.Report.Phase("check inputs")
	res, ok := s.check(ctx, pl, st)
	end()
	if ok {
		fmt.Fprintf(s.Log, "%s is up to date: the source, builder and settings are unchanged\n", res.Image)
	}
	return res, ok
}

// check hashes the inputs into st.Digest and looks for images made from them.
func (s *checkStage) check(ctx context.Context, pl *plan.Plan, st *State) (Result, bool) {
	labels, created := pl.ImageLabels(nil)
	digest, err := inputsDigest(pl, st.Target, st.Toolchain.Key, st.RuntimeID, created, labels)
	if err != nil {
		s.Report.Warn("building without the unchanged-input check: %v", err)
		return Result{}, false
	}
	st.Digest = digest
	// A multi-platform build's result is an image index, which no image in the
	// daemon holds: it is always built, incrementally from the -tmp image.
	if pl.Clean || st.foreign != "" || pl.MultiPlatform() {
		return Result{}, false
	}
	return s.upToDate(ctx, pl, digest)
}

// inputsDigest hashes what the final image is made of: the source tree as the build
// sees it (by content, so that a fresh checkout of the same commit matches), the
// builder by what it is (its toolchain key: the builder's image ID changes when a
// fresh runner builds it again), the runtime image, and the settings. It leaves out
// .git, whose contents change with every `git status`, and stands in for it with
// the commit's labels.
func inputsDigest(pl *plan.Plan, target, toolchainKey, runtimeID string, created time.Time, labels map[string]string) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s=%q\n", k, v) }
	// 3: the binary carries its crate list (auditable), which changes the image.
	field("version", "3")
	field("binary", pl.Binary)
	field("auditable", strconv.FormatBool(pl.Auditable))
	field("target", target)
	if pl.MultiPlatform() { // the single-platform digest stays as it was
		field("platforms", platformNames(pl.Platforms))
	}
	field("toolchain", toolchainKey)
	field("runtime", runtimeID)
	field("created", created.UTC().Format(time.RFC3339))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		field("label "+k, labels[k])
	}
	for _, e := range pl.Env {
		field("env", e)
	}
	for _, l := range pl.Labels {
		field("user label", l)
	}
	for _, e := range pl.CargoEnv {
		field("cargo", e)
	}
	if err := hashTree(h, field, pl.Source.Location); err != nil {
		return "", fmt.Errorf("hashing source: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree writes the source tree at dir, as the build sees it, into h.
func hashTree(h io.Writer, field func(k, v string), dir string) error {
	return source.Walk(dir, func(p, rel string, info fs.FileInfo) error {
		if info.IsDir() && info.Name() == ".git" {
			return filepath.SkipDir // stood in for by the commit's labels
		}
		field("path", filepath.ToSlash(rel))
		field("mode", info.Mode().String())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			field("link", target)
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			fmt.Fprintf(h, "size=%d\n", info.Size())
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
		}
		return nil
	})
}

// upToDate reports whether the -tmp and final images were built from exactly these
// inputs, and returns the result they hold.
func (s *checkStage) upToDate(ctx context.Context, pl *plan.Plan, digest string) (Result, bool) {
	tmp, err := s.e.ImageInspect(ctx, pl.TmpImage)
	if err != nil || tmpimage.Label(tmp, tmpimage.LabelInputs) != digest {
		return Result{}, false
	}
	final, err := s.e.ImageInspect(ctx, pl.Image)
	if err != nil || tmpimage.Label(final, tmpimage.LabelInputs) != digest {
		return Result{}, false
	}
	hist, err := s.e.ImageHistory(ctx, final.ID)
	if err != nil || len(hist.Items) == 0 {
		return Result{}, false
	}
	return Result{
		Image: pl.Image, Tags: pl.Tags, TmpImage: pl.TmpImage, Incremental: true,
		ImageID: final.ID, ImageSize: final.Size,
		BinarySize: hist.Items[0].Size, // the newest layer holds only the binary
	}, true
}
