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
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// labelInputs holds the digest of everything a build's result depends on, on both
// the -tmp and the final image.
const labelInputs = "io.rust-s2i.inputs"

func digestLabel(digest string) map[string]string {
	if digest == "" {
		return nil
	}
	return map[string]string{labelInputs: digest}
}

// inputsDigest hashes what the final image is made of: the source tree as the build
// sees it (by content, so that a fresh checkout of the same commit matches), the
// builder by what it is (its toolchain key: the builder's image ID changes when a
// fresh runner builds it again), the runtime image, and the settings. It leaves out .git, whose contents
// change with every `git status`, and stands in for it with the commit's labels.
func inputsDigest(cfg config.Config, target, toolchainKey, runtimeID string, created time.Time, labels map[string]string) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s=%q\n", k, v) }
	field("version", "2")
	field("binary", cfg.Binary)
	field("target", target)
	field("toolchain", toolchainKey)
	field("runtime", runtimeID)
	field("created", created.UTC().Format(time.RFC3339))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		field("label "+k, labels[k])
	}
	for _, e := range cfg.Env {
		field("env", e)
	}
	for _, l := range cfg.Labels {
		field("user label", l)
	}
	for _, e := range cfg.CargoEnv() {
		field("cargo", e)
	}
	err := source.Walk(cfg.Source, func(p, rel string, info fs.FileInfo) error {
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
	if err != nil {
		return "", fmt.Errorf("hashing source: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// upToDate reports whether the -tmp and final images were built from exactly these
// inputs, and fills res from them.
func (p *Pipeline) upToDate(ctx context.Context, res *Result, digest string) bool {
	tmp, err := p.Engine.ImageInspect(ctx, res.TmpImage)
	if err != nil || tmp.Config == nil || tmp.Config.Labels[labelInputs] != digest {
		return false
	}
	final, err := p.Engine.ImageInspect(ctx, res.Image)
	if err != nil || final.Config == nil || final.Config.Labels[labelInputs] != digest {
		return false
	}
	hist, err := p.Engine.ImageHistory(ctx, final.ID)
	if err != nil || len(hist.Items) == 0 {
		return false
	}
	res.ImageID, res.ImageSize = final.ID, final.Size
	res.BinarySize = hist.Items[0].Size // the newest layer holds only the binary
	res.Incremental = true
	return true
}
