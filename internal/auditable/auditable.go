// Package auditable writes and reads the dependency list cargo-auditable embeds in
// Rust binaries: JSON in the schema of the auditable-serde crate, zlib-compressed,
// in an ELF section named .dep-v0. Scanners (syft, grype, trivy, cargo audit bin)
// read that section to list the crates of a binary that is otherwise opaque to them.
//
// cargo-auditable adds the section at link time through a rustc wrapper. This
// package adds it to the finished binary instead (see Embed), from the graph
// cratedeps computed, so that the builder needs no extra tool.
package auditable

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// SectionName is the section cargo-auditable's readers look up by name.
const SectionName = ".dep-v0"

// Format is the format revision written: 1 is cargo metadata as the data source
// with proc-macros and their dependencies recorded as build dependencies, which is
// what cratedeps computes.
const Format = 1

// maxJSON bounds decompression, as the format's parsing notes advise against zip
// bombs: 8 MiB is far more than any real dependency list.
const maxJSON = 8 << 20

// VersionInfo is the embedded document. Field order and omitted defaults follow
// auditable-serde's serialization, so the bytes are the ones cargo-auditable would
// write for the same list.
type VersionInfo struct {
	Packages []Package `json:"packages"`
	// Format is omitted when 0, as auditable-serde does.
	Format int `json:"format,omitempty"`
}

// Package is one crate. Dependencies are indices into VersionInfo.Packages.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Source is "crates.io", "registry", "git" or "local" (or another word for
	// a source kind cargo adds later).
	Source string `json:"source"`
	// Kind is "build" or empty: auditable-serde omits the default, "runtime".
	Kind         string `json:"kind,omitempty"`
	Dependencies []int  `json:"dependencies,omitempty"`
	Root         bool   `json:"root,omitempty"`
}

// IsBuild reports whether the crate only runs while the binary is built.
func (p Package) IsBuild() bool { return p.Kind == string(cratedeps.Build) }

// FromGraph converts a cratedeps graph. The package order is the graph's (name,
// version, package id), like cargo-auditable's sort by name and id; dependency
// indices are sorted and unique, whether a crate is a normal or a build dependency
// or both.
func FromGraph(g *cratedeps.Graph) VersionInfo {
	v := VersionInfo{Packages: make([]Package, len(g.Crates)), Format: Format}
	for i, c := range g.Crates {
		p := Package{Name: c.Name, Version: c.Version, Source: string(c.Source.Kind), Root: c.Root}
		if c.Kind == cratedeps.Build {
			p.Kind = string(cratedeps.Build)
		}
		for _, d := range c.Deps {
			if n := len(p.Dependencies); n == 0 || p.Dependencies[n-1] != d.Crate {
				p.Dependencies = append(p.Dependencies, d.Crate)
			}
		}
		v.Packages[i] = p
	}
	return v
}

// Encode returns the section's content: the JSON, zlib-compressed. It refuses a
// document its readers would reject.
func (v VersionInfo) Encode() ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("auditable: %w", err)
	}
	var buf bytes.Buffer
	// Level 7, as cargo-auditable uses; compress/zlib's output only depends on the
	// input and the level, so the section is the same on every machine.
	zw, err := zlib.NewWriterLevel(&buf, 7)
	if err != nil {
		return nil, fmt.Errorf("auditable: %w", err)
	}
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("auditable: compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("auditable: compress: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode reads a section's content back, validating it as auditable-serde does.
func Decode(section []byte) (VersionInfo, error) {
	zr, err := zlib.NewReader(bytes.NewReader(section))
	if err != nil {
		return VersionInfo{}, fmt.Errorf("auditable: %w", err)
	}
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return VersionInfo{}, fmt.Errorf("auditable: decompress: %w", err)
	}
	if len(js) > maxJSON {
		return VersionInfo{}, fmt.Errorf("auditable: more than %d bytes of JSON", maxJSON)
	}
	var v VersionInfo
	if err := json.Unmarshal(js, &v); err != nil {
		return VersionInfo{}, fmt.Errorf("auditable: %w", err)
	}
	if err := v.Validate(); err != nil {
		return VersionInfo{}, err
	}
	return v, nil
}

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("auditable: invalid dependency list")

// Validate checks what auditable-serde checks before anyone walks the tree: at
// most one root, indices in range, and no cycle.
func (v VersionInfo) Validate() error {
	roots := 0
	for i, p := range v.Packages {
		if p.Root {
			roots++
		}
		if p.Kind != "" && p.Kind != string(cratedeps.Build) && p.Kind != string(cratedeps.Runtime) {
			return fmt.Errorf("%w: package %d has kind %q", ErrInvalid, i, p.Kind)
		}
		for _, d := range p.Dependencies {
			if d < 0 || d >= len(v.Packages) {
				return fmt.Errorf("%w: package %d depends on index %d of %d", ErrInvalid, i, d, len(v.Packages))
			}
		}
	}
	if roots > 1 {
		return fmt.Errorf("%w: %d root packages", ErrInvalid, roots)
	}
	if hasCycle(v.Packages) {
		return fmt.Errorf("%w: cyclic dependencies", ErrInvalid)
	}
	return nil
}

// hasCycle runs Kahn's algorithm: what never reaches in-degree zero is on a cycle.
func hasCycle(pkgs []Package) bool {
	indeg := make([]int, len(pkgs))
	for _, p := range pkgs {
		for _, d := range p.Dependencies {
			indeg[d]++
		}
	}
	var queue []int
	for i, n := range indeg {
		if n == 0 {
			queue = append(queue, i)
		}
	}
	done := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		done++
		for _, d := range pkgs[i].Dependencies {
			if indeg[d]--; indeg[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	return done != len(pkgs)
}
