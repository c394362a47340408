// Package clibs knows the C libraries a builder image brings built for musl (static
// archives under /usr/local/musl/TARGET/, announced to cargo so that the -sys crates
// find them): their names, the set a builder names in its io.rust-s2i.clibs label
// or `rust-s2i-musl builder --c-libs` asks for, which of them a binary links (from
// its crate graph), and what to say when a -sys crate's build script fails.
package clibs

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Label, on a builder image, names the C libraries it brings as NAME=VERSION
// pairs separated by spaces: exactly what its CLIBS build argument built.
const Label = "io.rust-s2i.clibs"

// The libraries a builder can bring, by the names s2i/Dockerfile's CLIBS build
// argument and its io.rust-s2i.clibs label use.
const (
	OpenSSL = "openssl"
	LibPQ   = "libpq"
	Zlib    = "zlib"
	SQLite  = "sqlite"
)

// Names are the libraries a builder can bring, in the order s2i/Dockerfile builds
// them (libpq after openssl, which it is built with).
func Names() []string { return []string{OpenSSL, LibPQ, Zlib, SQLite} }

// Set is C libraries by name, each with its version: what a builder brings.
type Set map[string]string

// versionRe is a version as upstream releases (3.0.17, 15.14) and Debian's source
// packages (1:1.2.13.dfsg-1) write it. It goes into a build argument that the
// Dockerfile splits on spaces and puts into file names: nothing else is allowed.
var versionRe = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~:_-]*$`)

// ParseLabel reads a builder's io.rust-s2i.clibs label: NAME=VERSION pairs
// separated by spaces. The label is the builder's own statement, so it is read as
// it is, names this client does not know included; a field without a name and a
// version says nothing and is skipped. Empty for a builder that brings none (an
// empty or missing label).
func ParseLabel(label string) Set {
	set := Set{}
	for _, f := range strings.Fields(label) {
		name, version, ok := strings.Cut(f, "=")
		if ok && name != "" && version != "" {
			set[name] = version
		}
	}
	return set
}

// ParseList reads the libraries to build as a user writes them (builder
// --c-libs): NAME=VERSION entries separated by commas or spaces. Every entry that
// is wrong is a problem of its own, so that one run reports them all: an unknown
// name, a missing or malformed version, a library named twice. An empty list is
// a problem too; "none" is for that, and is the caller's to handle.
func ParseList(list string) (Set, []error) {
	set := Set{}
	var problems []error
	entries := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(entries) == 0 {
		return nil, []error{fmt.Errorf("names no library: list NAME=VERSION entries (%s) or say none", strings.Join(Names(), ", "))}
	}
	for _, e := range entries {
		name, version, err := parseEntry(e)
		if err == nil && set[name] != "" {
			err = fmt.Errorf("%q names %s a second time", e, name)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		set[name] = version
	}
	return set, problems
}

// parseEntry reads one NAME=VERSION entry of ParseList.
func parseEntry(e string) (name, version string, err error) {
	name, version, ok := strings.Cut(e, "=")
	switch {
	case !slices.Contains(Names(), name):
		return "", "", fmt.Errorf("%q: %q is not a library the builder can build (%s)", e, name, strings.Join(Names(), ", "))
	case !ok || version == "":
		return "", "", fmt.Errorf("%q has no version: write %s=VERSION", e, name)
	case !versionRe.MatchString(version):
		return "", "", fmt.Errorf("%q: %q is not a version such as 3.0.17", e, version)
	}
	return name, version, nil
}

// sorted is the set's names: the known libraries in Names' order, then any other
// a builder's label names, alphabetically.
func (s Set) sorted() []string {
	order := Names()
	rank := func(n string) int {
		if i := slices.Index(order, n); i >= 0 {
			return i
		}
		return len(order)
	}
	return slices.SortedFunc(maps.Keys(s), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
}

// String is the set as the CLIBS build argument and the label write it:
// NAME=VERSION pairs separated by spaces; "" for none.
func (s Set) String() string {
	pairs := make([]string, 0, len(s))
	for _, n := range s.sorted() {
		pairs = append(pairs, n+"="+s[n])
	}
	return strings.Join(pairs, " ")
}

// Describe is the set for people: "openssl 3.0.17, zlib 1.3.1"; "" for none.
func (s Set) Describe() string {
	parts := make([]string, 0, len(s))
	for _, n := range s.sorted() {
		parts = append(parts, n+" "+s[n])
	}
	return strings.Join(parts, ", ")
}
