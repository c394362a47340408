package cratedeps

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// walker walks the resolve graph from the root package.
type walker struct {
	packages map[string]*metaPackage
	nodes    map[string]*metaNode
	root     string
	target   platform
	host     platform

	kinds map[string]Kind   // reached package id → strongest kind it was reached as
	edges map[edge]struct{} // active edges between reached packages
}

type edge struct {
	from, to string
	kind     DepKind
}

// state is a package reached in a compilation context: Runtime means compiled
// for the target, Build for the host. A package can be reached in both.
type state struct {
	id   string
	kind Kind
}

func newWalker(m *metadata, opt Options) (*walker, error) {
	w := &walker{
		packages: make(map[string]*metaPackage, len(m.Packages)),
		nodes:    make(map[string]*metaNode, len(m.Resolve.Nodes)),
		target:   newPlatform(opt.Target),
		host:     newPlatform(cmp.Or(opt.Host, opt.Target)),
		kinds:    map[string]Kind{},
		edges:    map[edge]struct{}{},
	}
	for i := range m.Packages {
		w.packages[m.Packages[i].ID] = &m.Packages[i]
	}
	for i := range m.Resolve.Nodes {
		w.nodes[m.Resolve.Nodes[i].ID] = &m.Resolve.Nodes[i]
	}
	root, err := rootID(m, opt.Package, opt.Binary)
	if err != nil {
		return nil, err
	}
	if w.packages[root] == nil || w.nodes[root] == nil {
		return nil, fmt.Errorf("cargo metadata: root package %s is not in the resolve", root)
	}
	w.root = root
	return w, nil
}

// rootID finds the package id of the workspace member named name. Without a name
// it is the member that has the bin target binary, as `cargo build --workspace
// --bin NAME` finds it (in a virtual workspace too), else the resolve root.
func rootID(m *metadata, name, binary string) (string, error) {
	if name == "" && binary != "" {
		if id, ok := binaryMember(m, binary); ok {
			return id, nil
		}
	}
	if name == "" {
		if m.Resolve.Root == nil {
			return "", fmt.Errorf("cargo metadata: virtual workspace: name the package that holds the binary")
		}
		return *m.Resolve.Root, nil
	}
	for _, id := range m.WorkspaceMembers {
		for i := range m.Packages {
			if m.Packages[i].ID == id && m.Packages[i].Name == name {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("cargo metadata: no workspace member named %q", name)
}

// binaryMember is the one workspace member with a bin target named binary; false
// when none or several have one (then the caller's rules decide).
func binaryMember(m *metadata, binary string) (string, bool) {
	var found []string
	for _, id := range m.WorkspaceMembers {
		for i := range m.Packages {
			if m.Packages[i].ID == id && m.Packages[i].hasBin(binary) {
				found = append(found, id)
			}
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

// checkRoot makes sure the metadata describes the build opt asks for: the binary
// exists in the root package and every requested feature is resolved.
func (w *walker) checkRoot(opt Options) error {
	enabled := w.nodes[w.root].Features
	pkg := w.packages[w.root]
	for _, f := range splitFeatures(opt.Features) {
		if f == "default" || strings.ContainsAny(f, "/:") {
			continue
		}
		if !slices.Contains(enabled, f) {
			return fmt.Errorf("cargo metadata of %s: %q: %w", pkg.Name, f, ErrNotEnabled)
		}
	}
	if opt.Binary == "" {
		return nil
	}
	for _, t := range pkg.Targets {
		if t.Name != opt.Binary || !slices.Contains(t.Kind, "bin") {
			continue
		}
		for _, f := range t.RequiredFeatures {
			if !slices.Contains(enabled, f) {
				return fmt.Errorf("binary %s requires feature %q: %w", opt.Binary, f, ErrNotEnabled)
			}
		}
		return nil
	}
	return fmt.Errorf("cargo metadata: package %s has no binary %q", pkg.Name, opt.Binary)
}

// splitFeatures accepts features given one by one or as cargo's comma or space
// separated list.
func splitFeatures(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	return out
}

// walk visits every (package, context) reachable from the root, breadth first.
func (w *walker) walk() {
	seen := map[state]bool{{w.root, Runtime}: true}
	queue := []state{{w.root, Runtime}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if w.kinds[s.id] != Runtime {
			w.kinds[s.id] = s.kind
		}
		for _, next := range w.step(s) {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
}

// step returns the states s leads to and records the edges it takes. Each way a
// dependency is declared is judged on its own: a dev-dependency is never built
// for the binary; a normal dependency is compiled in s's context; a build
// dependency and everything below a proc-macro is compiled for the host. A
// platform condition is evaluated on the platform the depending unit is compiled
// for, as cargo does: the target for a normal dependency of a target crate, the
// host for a build script's dependencies and for anything compiled for the host.
func (w *walker) step(s state) []state {
	var out []state
	for _, d := range w.nodes[s.id].Deps {
		child := w.packages[d.Pkg]
		if child == nil || w.nodes[d.Pkg] == nil {
			continue // reported by graph(), which needs every reached package
		}
		kinds := d.DepKinds
		if len(kinds) == 0 { // cargo before 1.41 listed no kinds: a normal dependency
			kinds = []metaDepKind{{}}
		}
		for _, dk := range kinds {
			depKind, ok := declKind(dk.Kind)
			if !ok {
				continue
			}
			onTarget := s.kind == Runtime && depKind == Normal
			plat := w.host
			if onTarget {
				plat = w.target
			}
			if dk.Target != nil && !plat.matches(*dk.Target) {
				continue
			}
			next := state{d.Pkg, Build}
			if onTarget && !child.isProcMacro() {
				next.kind = Runtime
			}
			w.edges[edge{s.id, d.Pkg, depKind}] = struct{}{}
			out = append(out, next)
		}
	}
	return out
}

// declKind maps dep_kinds[].kind; ok is false for dev-dependencies and kinds
// cargo may add that no build of a binary uses.
func declKind(k *string) (DepKind, bool) {
	switch {
	case k == nil || *k == "normal":
		return Normal, true
	case *k == "build":
		return BuildDep, true
	}
	return "", false
}
