package cratedeps

import (
	"encoding/json"
	"fmt"
	"slices"
)

// metadata is the part of `cargo metadata --format-version 1` output this package
// reads. Every other field is ignored.
type metadata struct {
	Packages         []metaPackage `json:"packages"`
	WorkspaceMembers []string      `json:"workspace_members"`
	Resolve          *metaResolve  `json:"resolve"`
	Version          int           `json:"version"`
}

type metaPackage struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Version string       `json:"version"`
	Source  *string      `json:"source"` // null for path (local) packages
	License *string      `json:"license"`
	Targets []metaTarget `json:"targets"`
}

type metaTarget struct {
	Name             string   `json:"name"`
	Kind             []string `json:"kind"`
	RequiredFeatures []string `json:"required-features"`
}

type metaResolve struct {
	Nodes []metaNode `json:"nodes"`
	Root  *string    `json:"root"` // null in a virtual workspace
}

type metaNode struct {
	ID       string        `json:"id"`
	Deps     []metaNodeDep `json:"deps"`
	Features []string      `json:"features"`
}

type metaNodeDep struct {
	Name     string        `json:"name"`
	Pkg      string        `json:"pkg"`
	DepKinds []metaDepKind `json:"dep_kinds"`
}

// metaDepKind is one way a dependency is declared: Kind is null for a normal
// dependency, "build" or "dev"; Target is the platform condition of a
// [target.'…'.dependencies] table, null when there is none.
type metaDepKind struct {
	Kind   *string `json:"kind"`
	Target *string `json:"target"`
}

// parseMetadata decodes cargo metadata's JSON and refuses output this package
// cannot walk: another format version, or a run with --no-deps (no resolve).
func parseMetadata(data []byte) (*metadata, error) {
	var m metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cargo metadata: %w", err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("cargo metadata: format version %d, want 1", m.Version)
	}
	if m.Resolve == nil {
		return nil, fmt.Errorf("cargo metadata: no resolve graph (was it run with --no-deps?)")
	}
	return &m, nil
}

// isProcMacro reports whether p is a proc-macro crate: it runs inside the compiler
// on the host, so it and its dependencies are build dependencies of the binary even
// when declared as normal ones (cargo-auditable's format 1 counts them so too).
func (p *metaPackage) isProcMacro() bool {
	for _, t := range p.Targets {
		for _, k := range t.Kind {
			if k == "proc-macro" {
				return true
			}
		}
	}
	return false
}

// hasBin reports whether p has a bin target named name.
func (p *metaPackage) hasBin(name string) bool {
	for _, t := range p.Targets {
		if t.Name == name && slices.Contains(t.Kind, "bin") {
			return true
		}
	}
	return false
}
