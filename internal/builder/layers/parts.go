package layers

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Part is one layer of the published image: the paths its globs claim.
type Part struct {
	Name string
	// Globs are path.Match patterns of whole paths, relative to the root (no
	// leading slash). A path belongs to the part of the most specific glob that
	// matches it or one of its ancestors (see matcher).
	Globs []string
}

// rustlibs are the two places a toolchain keeps its per-target std: rustup's
// toolchains and a Debian-packaged rustc's /usr/lib.
func rustlibs(targets ...string) []string {
	var globs []string
	for _, root := range []string{"usr/lib/rustlib", "usr/local/rustup/toolchains/*/lib/rustlib"} {
		for _, t := range targets {
			globs = append(globs, root+"/"+t)
		}
	}
	return globs
}

// Parts are the builder image's layers in the order they are stacked: what
// changes least first, so that a change re-pulls its own part and the ones after
// it at most (a registry and a daemon share layers by digest, whatever their
// place). Anything no glob claims goes to the first part. The table is the one
// place to tune the split: rerun `rust-s2i-musl builder --push` and read its table
// of parts.
func Parts() []Part {
	return []Part{
		{Name: "system"}, // the base OS and everything below claims nothing else
		{Name: "c-toolchain", Globs: []string{
			"usr/lib/gcc", "usr/lib/gcc-cross", "usr/libexec/gcc",
			"usr/aarch64-linux-gnu", "usr/x86_64-linux-gnu",
			"usr/lib/musl", "usr/lib/x86_64-linux-musl", "usr/lib/aarch64-linux-musl",
			"usr/include",
			"usr/bin/mold", "usr/libexec/mold", "usr/lib/mold",
			// The cross gcc's and binutils' drivers (cross.sh), and musl-gcc.
			"usr/bin/*-linux-gnu-*", "usr/bin/*-linux-musl-*", "usr/bin/musl-gcc",
		}},
		{Name: "c-libraries", Globs: []string{"usr/local/musl"}},
		{Name: "rust", Globs: []string{
			// rustup's toolchains and cargo home, with its proxies in bin/.
			"usr/local/rustup", "usr/local/cargo", "usr/local/bin/cargo",
			// A Debian-packaged toolchain lives in /usr.
			"usr/bin/rustc", "usr/bin/cargo", "usr/lib/rustlib",
			"usr/lib/*/librustc_driver-*", "usr/lib/*/libLLVM*", "usr/lib/*-linux-gnu/libstd-*.so",
		}},
		{Name: "std-host", Globs: rustlibs("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")},
		{Name: "std-x86_64-musl", Globs: rustlibs("x86_64-unknown-linux-musl")},
		{Name: "std-aarch64-musl", Globs: rustlibs("aarch64-unknown-linux-musl")},
		{Name: "s2i", Globs: []string{
			"usr/libexec/s2i", "opt/app-root",
			// The records every run of a step that installs packages or adds the
			// build user rewrites, with the time in them (logs, debconf's and
			// dpkg's state, the user's password age): left in system, they would
			// make it a new layer at every toolchain bump. Small, so kept with
			// what changes most.
			"var/log", "var/cache/debconf", "var/cache/ldconfig", "var/lib/dpkg", "var/lib/apt",
			"etc/passwd*", "etc/group*", "etc/shadow*", "etc/gshadow*", "etc/subuid*", "etc/subgid*",
		}},
	}
}

// rule is one glob of one part.
type rule struct {
	glob  string
	depth int // the glob's number of path elements: the paths it can match have as many
	wild  int // its wildcard characters: fewer is more specific
	part  int
}

// matcher finds the part of a path.
type matcher struct{ rules []rule }

// newMatcher checks every glob and orders them most specific first: deeper
// first (a deeper glob names a smaller tree), then fewer wildcards, then the
// table's order.
func newMatcher(parts []Part) (matcher, error) {
	var m matcher
	for i, p := range parts {
		for _, g := range p.Globs {
			if _, err := path.Match(g, ""); err != nil || g == "" || strings.HasPrefix(g, "/") || path.Clean(g) != g {
				return matcher{}, fmt.Errorf("part %s: bad glob %q", p.Name, g)
			}
			m.rules = append(m.rules, rule{glob: g, depth: strings.Count(g, "/") + 1, wild: strings.Count(g, "*") + strings.Count(g, "?") + strings.Count(g, "["), part: i})
		}
	}
	slices.SortStableFunc(m.rules, func(a, b rule) int {
		if a.depth != b.depth {
			return b.depth - a.depth
		}
		return a.wild - b.wild
	})
	return m, nil
}

// part is the index of name's part: that of the first rule, most specific first,
// that matches name or one of its ancestors; 0 when none does. path.Match's *
// never crosses a /, so a rule of depth d can only match the ancestor of d elements.
func (m matcher) part(name string) int {
	elems := strings.Split(name, "/")
	for _, r := range m.rules {
		if r.depth > len(elems) {
			continue
		}
		if ok, _ := path.Match(r.glob, strings.Join(elems[:r.depth], "/")); ok {
			return r.part
		}
	}
	return 0
}
