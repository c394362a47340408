package cratedeps

import "strings"

// SourceKind is where a crate's code came from, in cargo-auditable's terms.
type SourceKind string

// The source kinds cargo-auditable's format names. A source cargo may add later
// keeps the word before its "+" (such as "sparse" for an unknown sparse scheme).
const (
	CratesIo SourceKind = "crates.io"
	Registry SourceKind = "registry" // another registry than crates.io
	Git      SourceKind = "git"
	Local    SourceKind = "local" // a path dependency or a workspace member
)

// crates.io's index, as cargo writes it in package ids and Cargo.lock whichever
// protocol fetched it, and as its sparse form when a config spells it so.
const (
	cratesIoGit    = "registry+https://github.com/rust-lang/crates.io-index"
	cratesIoSparse = "sparse+https://index.crates.io/"
)

// Source is a crate's source, parsed from cargo's source string.
type Source struct {
	Kind SourceKind
	// URL is the registry index or the git repository, without cargo's query
	// (?branch=…) and fragment (#commit); empty for Local.
	URL string
	// Commit is the full commit id a git source is locked to; empty otherwise.
	Commit string
	// Raw is cargo's source string as is (empty for Local): the one Cargo.lock
	// uses, so it matches lock entries exactly.
	Raw string
}

// parseSource reads cargo's source string; nil means a path package.
func parseSource(s *string) Source {
	if s == nil || *s == "" {
		return Source{Kind: Local}
	}
	raw := *s
	if raw == cratesIoGit || raw == cratesIoSparse {
		return Source{Kind: CratesIo, URL: "https://github.com/rust-lang/crates.io-index", Raw: raw}
	}
	scheme, rest, ok := strings.Cut(raw, "+")
	if !ok {
		return Source{Kind: SourceKind(raw), Raw: raw}
	}
	switch scheme {
	case "registry", "sparse":
		return Source{Kind: Registry, URL: rest, Raw: raw}
	case "git":
		url, commit, _ := strings.Cut(rest, "#")
		url, _, _ = strings.Cut(url, "?")
		return Source{Kind: Git, URL: url, Commit: commit, Raw: raw}
	case "path":
		return Source{Kind: Local, Raw: raw}
	}
	return Source{Kind: SourceKind(scheme), URL: rest, Raw: raw}
}
