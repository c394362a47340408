package sbom

import (
	"net/url"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// The builder's C libraries that the binary links statically (Info.CLibraries)
// are in it as much as its crates are: a scanner must see OpenSSL 3.0.17 as it sees
// openssl-sys. Each is a package with a generic package URL (no ecosystem has
// them: they are built from upstream's or Debian's sources in the builder), which
// the binary statically links and the crates that link it depend on.

// cLibID is a library's SPDX id, apart from the crates' by its "generic" part.
func cLibID(l clibs.Link) string {
	return "SPDXRef-Package-generic-" + idChars.ReplaceAllString(l.Name+"-"+l.Version, "-")
}

// cLibPURL is pkg:generic/NAME@VERSION.
func cLibPURL(l clibs.Link) string {
	return "pkg:generic/" + l.Name + "@" + url.PathEscape(l.Version)
}

// cLibComment says where the library comes from and what links it.
func cLibComment(l clibs.Link) string {
	return "C library from the builder image, built for musl and linked statically into the binary through " + strings.Join(l.Crates, ", ") + "."
}

func spdxCLib(l clibs.Link) Package {
	return Package{
		SPDXID:           cLibID(l),
		Name:             l.Name,
		VersionInfo:      l.Version,
		DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion,
		LicenseDeclared:  noAssertion,
		CopyrightText:    noAssertion,
		ExternalRefs: []ExternalRef{{
			ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: cLibPURL(l),
		}},
		PrimaryPackagePurpose: "LIBRARY",
		Comment:               cLibComment(l),
	}
}

// linkers are the indices of g's crates compiled into the binary that l names:
// those that depend on it.
func linkers(g *cratedeps.Graph, l clibs.Link) []int {
	var out []int
	for i, c := range g.Crates {
		for _, name := range l.Crates {
			if c.Name == name && c.Kind == cratedeps.Runtime {
				out = append(out, i)
			}
		}
	}
	return out
}

// cLibRelationships are "ROOT STATIC_LINK LIB" and "CRATE DEPENDS_ON LIB" for each
// library and each crate that links it.
func cLibRelationships(g *cratedeps.Graph, ids []string, libs []clibs.Link) []Relationship {
	var rels []Relationship
	for _, l := range libs {
		rels = append(rels, Relationship{ids[g.Root], "STATIC_LINK", cLibID(l)})
		for _, i := range linkers(g, l) {
			rels = append(rels, Relationship{ids[i], "DEPENDS_ON", cLibID(l)})
		}
	}
	return rels
}

// cdxCLib is the library as a CycloneDX component; its bom-ref is its SPDX id
// without the prefix, as a crate's is.
func cdxCLib(l clibs.Link) cdxComponent {
	return cdxComponent{Type: "library", BOMRef: cdxCLibRef(l), Name: l.Name, Version: l.Version, Scope: "required", PURL: cLibPURL(l)}
}

func cdxCLibRef(l clibs.Link) string { return strings.TrimPrefix(cLibID(l), "SPDXRef-Package-") }
