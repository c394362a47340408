package clibs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// Link is a C library of the builder's that a binary links statically, and the
// crates it comes in through.
type Link struct {
	Name    string
	Version string
	// Crates are the -sys crates that link it, by name, sorted: the one whose
	// library it is, and for a library another links (libpq's OpenSSL) that one's.
	Crates []string
}

// String is the link for people: "openssl 3.0.17 (openssl-sys, pq-sys)".
func (l Link) String() string {
	return fmt.Sprintf("%s %s (%s)", l.Name, l.Version, strings.Join(l.Crates, ", "))
}

// sysCrate is a -sys crate that links a library a builder brings, unless it
// builds a copy of its own.
type sysCrate struct {
	crate   string
	library string
	// alongside are the builder's libraries that library itself links, when the
	// builder brings them: s2i/Dockerfile builds libpq with its OpenSSL. (Not with
	// zlib: libpq's Makefile keeps -lz out of what libpq links; only the server
	// and pg_dump use it.)
	alongside []string
	// ownFeatures are the features with which the crate builds its own copy of
	// the library (or another library, such as SQLCipher) instead.
	ownFeatures []string
	// ownCrates are crates whose presence in the graph means the same: the
	// source crates a vendored build compiles (openssl-src, pq-src), in case a
	// feature of another name pulled them in.
	ownCrates []string
}

// sysCrates are the -sys crates that link the libraries a builder brings, as
// their build scripts decide it. The features are upstream's; Debian's packaged
// crates have none of them (they link the system's only). libz-sys without a
// feature links a zlib it finds (pkg-config, then a test compile with -lz) and
// only builds its bundled copy when there is none: with a builder that brings
// zlib it finds that one.
var sysCrates = []sysCrate{
	{crate: "openssl-sys", library: OpenSSL, ownFeatures: []string{"vendored", "unstable_boringssl"}, ownCrates: []string{"openssl-src"}},
	{crate: "pq-sys", library: LibPQ, alongside: []string{OpenSSL}, ownFeatures: []string{"bundled", "bundled_without_openssl"}, ownCrates: []string{"pq-src"}},
	{crate: "libz-sys", library: Zlib, ownFeatures: []string{"static", "zlib-ng", "zlib-ng-no-cmake-experimental-community-maintained"}},
	{crate: "libsqlite3-sys", library: SQLite, ownFeatures: []string{"bundled", "bundled-sqlcipher", "bundled-sqlcipher-vendored-openssl", "sqlcipher"}},
}

// Linked are the libraries of have (the builder's) that the binary of g links,
// sorted by Names' order, each with the crates that link it. A crate counts only
// when it is compiled into the binary (a build script's own -sys dependency runs
// on the host and is linked into nothing that ships) and does not build its own
// copy. Nil when g is nil or links none.
func Linked(g *cratedeps.Graph, have Set) []Link {
	if g == nil || len(have) == 0 {
		return nil
	}
	via := map[string][]string{} // library → crates
	for _, c := range g.Crates {
		r, ok := ruleFor(c.Name)
		if !ok || c.Kind != cratedeps.Runtime || have[r.library] == "" || r.ownCopy(g, c) {
			continue
		}
		for _, lib := range append([]string{r.library}, r.alongside...) {
			if have[lib] != "" && !slices.Contains(via[lib], c.Name) {
				via[lib] = append(via[lib], c.Name)
			}
		}
	}
	var links []Link
	for _, lib := range have.sorted() {
		if crates := via[lib]; len(crates) > 0 {
			slices.Sort(crates)
			links = append(links, Link{Name: lib, Version: have[lib], Crates: crates})
		}
	}
	return links
}

// ruleFor is the sysCrate of crate; false when it links no library a builder brings.
func ruleFor(crate string) (sysCrate, bool) {
	i := slices.IndexFunc(sysCrates, func(r sysCrate) bool { return r.crate == crate })
	if i < 0 {
		return sysCrate{}, false
	}
	return sysCrates[i], true
}

// ownCopy reports whether crate c of g builds its own copy of the library.
func (r sysCrate) ownCopy(g *cratedeps.Graph, c cratedeps.Crate) bool {
	for _, f := range c.Features {
		if slices.Contains(r.ownFeatures, f) {
			return true
		}
	}
	return slices.ContainsFunc(g.Crates, func(o cratedeps.Crate) bool { return slices.Contains(r.ownCrates, o.Name) })
}

// Merge is the libraries of every list, each once, with the crates of all: what
// the binaries of a multi-platform build link between them.
func Merge(lists ...[]Link) []Link {
	have, via := Set{}, map[string][]string{}
	for _, list := range lists {
		for _, l := range list {
			have[l.Name] = l.Version
			for _, c := range l.Crates {
				if !slices.Contains(via[l.Name], c) {
					via[l.Name] = append(via[l.Name], c)
				}
			}
		}
	}
	var out []Link
	for _, lib := range have.sorted() {
		slices.Sort(via[lib])
		out = append(out, Link{Name: lib, Version: have[lib], Crates: via[lib]})
	}
	return out
}

// Output is the c-libraries output of links: one line per library, its fields
// separated by spaces as the platforms output's are: NAME VERSION CRATE... No
// field holds a comma, so the KEY=VALUE form on stdout, which joins a value's
// lines with commas, stays unambiguous.
func Output(links []Link) string {
	lines := make([]string, len(links))
	for i, l := range links {
		lines[i] = strings.Join(append([]string{l.Name, l.Version}, l.Crates...), " ")
	}
	return strings.Join(lines, "\n")
}
