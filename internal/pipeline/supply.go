package pipeline

// The supply chain of the final image (docs/supply-chain.md): the crates compiled
// into each binary, found from the files assemble hands over beside it (cargo
// metadata of the build's resolve per target, Cargo.lock, rustc -vV); the binary
// gets them as cargo-auditable's .dep-v0 section before it goes into the image,
// so the image's digest covers them; the SPDX SBOM of them goes to a file (the
// sbom output); and where the image goes to a registry (or a multi-platform OCI
// layout), the SBOM and the SLSA provenance go with it in BuildKit's attestation
// layout. Everything here follows from the build's inputs: the image's time, not
// the clock; names without tags; sorted lists.

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rust-s2i/rust-s2i-musl/internal/auditable"
	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/sbom"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// Supply is what a build's SBOM and attestations are made of, known once its
// final image is.
type Supply struct {
	Created time.Time         // the image's time (SOURCE_DATE_EPOCH, the commit's): the SBOM's
	Labels  map[string]string // the image's source and revision labels
	Rustc   string            // rustc -vV, as the build's toolchain said it
	Builder provenance.Image  // the builder image, by digest
	// Parts are the images: the one of a single-platform build, else one per
	// platform in the order built.
	Parts []SupplyPart
	// SBOMPath is the sbom output: the first part's SBOM file; "" when none was
	// written.
	SBOMPath string
}

// SupplyPart is one image's share of the Supply.
type SupplyPart struct {
	Platform string           // linux/amd64
	Target   string           // its binary's Rust target
	Graph    *cratedeps.Graph // its binary's crates; nil when they are not known
	Runtime  provenance.Image // its runtime base, by digest
	SBOM     []byte           // its SPDX document; nil without sbom or a Graph
	// CLibs are the builder's C libraries its binary links (clibs.Linked); none
	// when its crates are not known.
	CLibs []clibs.Link
}

// sbomPath is the sbom output; "" for a nil Supply.
func (sup *Supply) sbomPath() string {
	if sup == nil {
		return ""
	}
	return sup.SBOMPath
}

// errNoMetadata says that assemble handed over no cargo metadata for a target: its
// cargo metadata failed (it said why in the build log), or the builder is older.
var errNoMetadata = errors.New("the build handed over no cargo metadata (its log says why)")

// wantsCrates reports whether the build needs the binaries' crates at all.
func wantsCrates(pl *plan.Plan) bool { return pl.Auditable || pl.SBOM }

// attaches reports whether the final image goes where attestations can go with
// it: a registry, or the OCI layout of an image index. A daemon holds none.
func attaches(pl *plan.Plan) bool { return pl.Push || (pl.MultiPlatform() && pl.OCIOutput != "") }

// resolveCrates is the crate graph of the build's binary for target, from the
// files the build handed over (multi: a multi-platform build's, per target).
func resolveCrates(pl *plan.Plan, files map[string][]byte, target string, multi bool) (*cratedeps.Graph, error) {
	meta, ok := files[tmpimage.MetadataOf(target, multi)]
	if !ok {
		return nil, errNoMetadata
	}
	g, err := cratedeps.Resolve(meta, files[tmpimage.LockFile], cratedeps.Options{
		Binary: pl.Binary, Target: target, Host: rustcHost(files[tmpimage.RustcFile]), Features: pl.Cargo.Features,
	})
	if err != nil {
		return nil, fmt.Errorf("listing the crates of %s for %s: %w", pl.Binary, target, err)
	}
	return g, nil
}

// rustcHost is the host triple of `rustc -vV` output (its "host:" line): the
// platform build scripts and proc-macros are compiled for. "" when unknown, which
// cratedeps takes as the target.
func rustcHost(vv []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(vv))
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "host: "); ok {
			return strings.TrimSpace(h)
		}
	}
	return ""
}

// withCrates returns the build's files with the binary named bin carrying the
// crate list of target (with auditable), and the crate graph. files is not
// changed. problem says why the binary carries no list, or why there is no graph;
// the files are then as they came, and the build goes on without either.
func withCrates(pl *plan.Plan, files map[string][]byte, bin, target string, multi bool) (out map[string][]byte, g *cratedeps.Graph, problem error) {
	if !wantsCrates(pl) {
		return files, nil, nil
	}
	g, err := resolveCrates(pl, files, target, multi)
	if err != nil || !pl.Auditable {
		return files, g, err
	}
	data, ok := files[bin]
	if !ok {
		return files, g, nil // the caller reads the binary elsewhere, and says so
	}
	embedded, err := auditable.Embed(data, auditable.FromGraph(g))
	if err != nil {
		return files, g, fmt.Errorf("embedding the crate list in %s: %w", pl.Binary, err)
	}
	out = maps.Clone(files)
	out[bin] = embedded
	return out, g, nil
}

// warnCrates says, once per target, why a binary has no crate list or SBOM.
func warnCrates(r Reporter, pl *plan.Plan, target string, problem error) {
	if problem == nil {
		return
	}
	what := "no SBOM"
	if pl.Auditable {
		what = "no embedded crate list and no SBOM"
	}
	r.Warn("the %s binary for %s gets %s: %v", pl.Binary, target, what, problem)
}

// newSupply is the Supply of the final image's parts, with each part's SBOM
// made, and written to files under pl.SBOMDir when sbom is on.
func newSupply(pl *plan.Plan, files map[string][]byte, created time.Time, labels map[string]string, builder provenance.Image, parts []SupplyPart) (*Supply, error) {
	sup := &Supply{
		Created: created, Labels: labels, Rustc: strings.TrimSpace(string(files[tmpimage.RustcFile])),
		Builder: builder, Parts: parts,
	}
	if !pl.SBOM {
		return sup, nil
	}
	repo := repository(pl.Image)
	for i := range sup.Parts {
		p := &sup.Parts[i]
		if p.Graph == nil {
			continue
		}
		name := repo
		if pl.MultiPlatform() {
			name += " (" + p.Platform + ")"
		}
		doc, err := sbom.SPDX(p.Graph, sbom.Info{Name: name, Image: repo, ToolVersion: pl.ToolVersion, Rustc: sup.Rustc, Created: created, CLibraries: p.CLibs})
		if err != nil {
			return sup, fmt.Errorf("the SBOM of the %s image: %w", p.Platform, err)
		}
		p.SBOM = doc
	}
	return sup, sup.writeSBOMs(pl)
}

// writeSBOMs writes each part's SBOM to the directory of this image under
// pl.SBOMDir: BINARY.spdx.json, or with platforms BINARY.OS-ARCH.spdx.json each.
// SBOMPath is the first one's. The directory is named for the image and -tmp image,
// so a rebuild reports the same path (an unchanged rebuild's outputs are the
// first's); a file goes in by rename, so a build of the same image side by side
// never leaves half of one.
func (sup *Supply) writeSBOMs(pl *plan.Plan) error {
	var dir string
	for _, p := range sup.Parts {
		if p.SBOM == nil {
			continue
		}
		if dir == "" {
			sum := sha256.Sum256([]byte(pl.Image + "\x00" + pl.TmpImage))
			dir = filepath.Join(pl.SBOMDir, "rust-s2i-sbom-"+hex.EncodeToString(sum[:6]))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("writing the SBOM: %w", err)
			}
		}
		name := pl.Binary + ".spdx.json"
		if pl.MultiPlatform() {
			name = pl.Binary + "." + strings.ReplaceAll(p.Platform, "/", "-") + ".spdx.json"
		}
		path := filepath.Join(dir, name)
		if err := writeByRename(path, p.SBOM); err != nil {
			return fmt.Errorf("writing the SBOM: %w", err)
		}
		if sup.SBOMPath == "" {
			sup.SBOMPath = path
		}
	}
	return nil
}

// repository is the image's name without tag or digest, as a user writes it
// (ghcr.io/o/app, rust-musl-hello): what the SBOM and the statements name, so that
// the same build pushed under another tag says the same.
func repository(img string) string {
	named, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return img
	}
	return reference.FamiliarName(named)
}

// Statements are the in-toto statements about part i's image, whose manifest has
// digest d: its SBOM (with sbom, when its crates are known) and its provenance
// (with provenance). problem says why the provenance is left out.
func (sup *Supply) Statements(pl *plan.Plan, i int, d v1.Hash) (sts []intoto.Statement, problem error) {
	p := sup.Parts[i]
	subject, err := intoto.DigestSubject("pkg:docker/"+repository(pl.Image)+"?platform="+url.QueryEscape(p.Platform), d.String())
	if err != nil {
		return nil, err
	}
	if pl.SBOM && p.SBOM != nil {
		st, err := intoto.New(sbom.PredicateType, p.SBOM, subject)
		if err != nil {
			return nil, fmt.Errorf("the SBOM statement: %w", err)
		}
		sts = append(sts, st)
	}
	if pl.Provenance {
		st, err := provenance.Statement(sup.build(pl, p), subject)
		if err != nil {
			return sts, fmt.Errorf("no provenance: %w (it needs the source's repository URL and commit: a CI checkout, or a git repository with an origin remote)", err)
		}
		sts = append(sts, st)
	}
	return sts, nil
}

// build is what the provenance says of part p's build: the settings that enter
// the cache key and the image, never an env or secret-env value.
func (sup *Supply) build(pl *plan.Plan, p SupplyPart) provenance.Build {
	targets := pl.Targets()
	if len(targets) == 0 {
		targets = []string{p.Target}
	}
	return provenance.Build{
		Source: provenance.Source{URI: sourceURI(pl, sup.Labels), Ref: pl.Ref.Name, Commit: sup.Labels[image.LabelRevision]},
		Settings: provenance.Settings{
			Binary: pl.Binary, Features: pl.Cargo.Features, NoDefaultFeatures: pl.Cargo.NoDefaultFeatures,
			AllFeatures: pl.Cargo.AllFeatures, Profile: pl.Cargo.Profile, Targets: targets,
			Builder: sup.Builder, Runtime: p.Runtime, Auditable: pl.Auditable,
		},
		ToolVersion: pl.ToolVersion,
		Rustc:       sup.Rustc,
	}
}

// sourceURI is the source's repository: the image's source label (the CI's
// repository, or the git URL), else a local checkout's remote. A local path is
// none: it names a directory of one machine, not where the source lives.
func sourceURI(pl *plan.Plan, labels map[string]string) string {
	if u := labels[image.LabelSource]; u != "" {
		return u
	}
	id := pl.Source.Identity
	if strings.Contains(id, "://") || (strings.Contains(id, "@") && strings.Contains(id, ":")) {
		return id
	}
	return ""
}

// imageDigest is the digest an image is known by in a registry: its repo digest
// for the repository of ref when the daemon has one, else any repo digest, else
// its ID (a local image, never pulled).
func imageDigest(ref string, repoDigests []string, id string) string {
	repo := repository(ref)
	var any string
	for _, rd := range repoDigests {
		name, digest, ok := strings.Cut(rd, "@")
		if !ok {
			continue
		}
		if repository(name) == repo {
			return digest
		}
		any = cmp.Or(any, digest)
	}
	return cmp.Or(any, id)
}

// writeByRename writes data to path through a temporary file beside it.
func writeByRename(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".sbom-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
