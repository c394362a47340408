package cratedeps

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind says how a crate takes part in the binary, in cargo-auditable's terms.
type Kind string

const (
	// Runtime crates are compiled into the binary for the target.
	Runtime Kind = "runtime"
	// Build crates only run while the binary is built (build scripts, their
	// dependencies, proc-macros): compiled for the host, absent from the binary.
	Build Kind = "build"
)

// DepKind is the table a dependency is declared in.
type DepKind string

const (
	// Normal is [dependencies].
	Normal DepKind = "normal"
	// BuildDep is [build-dependencies].
	BuildDep DepKind = "build"
)

// Dep is one edge of the graph: the crate at index Crate of Graph.Crates.
type Dep struct {
	Crate int
	Kind  DepKind
}

// Crate is one package that goes into the build.
type Crate struct {
	ID      string // cargo's package id, unique in the graph
	Name    string
	Version string
	Source  Source
	// Checksum is the SHA-256 (hex) Cargo.lock records: registry crates only.
	Checksum string
	// License is the manifest's license expression as written; empty when the
	// manifest has none (or only a license-file).
	License string
	Kind    Kind
	Root    bool
	// Features are the crate's features that cargo metadata's resolve enabled,
	// sorted: whether a -sys crate builds its own copy of a C library (openssl-sys
	// with vendored, libsqlite3-sys with bundled) shows here. The resolve unifies
	// them over the target and the host, as a build with resolver 1 does.
	Features []string
	// Deps are the crate's dependencies that are part of this build, sorted by
	// index and kind. A crate declared both as a normal and as a build dependency
	// has two edges.
	Deps []Dep
}

// Graph is the crates of one binary for one target, sorted by name, version and
// package id, so that indices are stable for the same input.
type Graph struct {
	Crates []Crate
	Root   int // index of the root package in Crates
	Binary string
	Target string
}

// Options say which binary the graph is for.
type Options struct {
	// Package is the workspace member that holds the binary; empty means the
	// package cargo metadata ran in (resolve.root).
	Package string
	// Binary, when set, must be a bin target of Package; its required-features
	// must be enabled.
	Binary string
	// Target is the triple the binary is compiled for, such as
	// x86_64-unknown-linux-musl. Required: dependency conditions are evaluated on it.
	Target string
	// Host is the triple build scripts and proc-macros are compiled for; empty
	// means the same as Target.
	Host string
	// Features are the features the build asked for; each must be enabled in the
	// resolve (see the package comment). "default" and "dep/feature" forms are not
	// checked.
	Features []string
}

// ErrNotEnabled means cargo metadata did not resolve a feature the build asks for:
// its output was made with other feature flags than the build.
var ErrNotEnabled = errors.New("feature not enabled in cargo metadata's resolve")

// Resolve computes the graph of opt's binary from `cargo metadata --format-version 1`
// output and Cargo.lock's content (which may be empty: no checksums then).
func Resolve(metadataJSON, cargoLock []byte, opt Options) (*Graph, error) {
	if opt.Target == "" {
		return nil, errors.New("cratedeps: no target triple")
	}
	m, err := parseMetadata(metadataJSON)
	if err != nil {
		return nil, err
	}
	sums, err := checksums(cargoLock)
	if err != nil {
		return nil, err
	}
	w, err := newWalker(m, opt)
	if err != nil {
		return nil, err
	}
	if err := w.checkRoot(opt); err != nil {
		return nil, err
	}
	w.walk()
	return w.graph(sums, opt)
}

// graph turns the walk into the sorted Graph.
func (w *walker) graph(sums map[lockKey]string, opt Options) (*Graph, error) {
	ids := make([]string, 0, len(w.kinds))
	for id := range w.kinds {
		if w.packages[id] == nil {
			return nil, fmt.Errorf("cargo metadata: package %s is in the resolve but not in packages", id)
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		pa, pb := w.packages[a], w.packages[b]
		return cmp.Or(strings.Compare(pa.Name, pb.Name), compareVersions(pa.Version, pb.Version), strings.Compare(a, b))
	})
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	g := &Graph{Crates: make([]Crate, len(ids)), Root: index[w.root], Binary: opt.Binary, Target: opt.Target}
	for i, id := range ids {
		p := w.packages[id]
		src := parseSource(p.Source)
		c := Crate{ID: id, Name: p.Name, Version: p.Version, Source: src, Kind: w.kinds[id], Root: id == w.root}
		c.Checksum = sums[lockKey{p.Name, p.Version, src.Raw}]
		if p.License != nil {
			c.License = strings.TrimSpace(*p.License)
		}
		c.Features = slices.Sorted(slices.Values(w.nodes[id].Features))
		g.Crates[i] = c
	}
	for e := range w.edges {
		from := &g.Crates[index[e.from]]
		from.Deps = append(from.Deps, Dep{Crate: index[e.to], Kind: e.kind})
	}
	for i := range g.Crates {
		slices.SortFunc(g.Crates[i].Deps, func(a, b Dep) int {
			return cmp.Or(cmp.Compare(a.Crate, b.Crate), strings.Compare(string(a.Kind), string(b.Kind)))
		})
	}
	return g, nil
}
