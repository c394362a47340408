package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// spdxIDs names each crate "SPDXRef-Package-cargo-NAME-VERSION", with the
// characters SPDX ids do not allow (such as "_" and "+") replaced by "-". When two
// crates get the same id (same name and version from two sources, or names that
// differ only in "_" and "-"), each gets a suffix from its package id.
func spdxIDs(g *cratedeps.Graph) []string {
	ids := make([]string, len(g.Crates))
	count := map[string]int{}
	for i, c := range g.Crates {
		ids[i] = "SPDXRef-Package-cargo-" + idChars.ReplaceAllString(c.Name+"-"+c.Version, "-")
		count[ids[i]]++
	}
	for i, c := range g.Crates {
		if count[ids[i]] > 1 {
			sum := sha256.Sum256([]byte(c.ID))
			ids[i] += "-" + hex.EncodeToString(sum[:4])
		}
	}
	return ids
}

var idChars = regexp.MustCompile(`[^A-Za-z0-9.-]`)

func spdxPackage(c cratedeps.Crate, id string) Package {
	p := Package{
		SPDXID:           id,
		Name:             c.Name,
		VersionInfo:      c.Version,
		DownloadLocation: downloadLocation(c),
		LicenseConcluded: noAssertion,
		LicenseDeclared:  licenseExpression(c.License),
		CopyrightText:    noAssertion,
		ExternalRefs: []ExternalRef{{
			ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: PURL(c),
		}},
		PrimaryPackagePurpose: "LIBRARY",
	}
	if c.Root {
		p.PrimaryPackagePurpose = "APPLICATION"
	}
	if c.Checksum != "" {
		p.Checksums = []Checksum{{Algorithm: "SHA256", ChecksumValue: c.Checksum}}
	}
	if c.Kind == cratedeps.Build {
		p.Comment = "Build dependency: runs while the binary is built (build script or proc-macro); not part of the binary."
	}
	return p
}

// downloadLocation is where the crate's source can be had: crates.io's download
// URL, or the git repository at the locked commit in SPDX's VCS form.
func downloadLocation(c cratedeps.Crate) string {
	switch c.Source.Kind {
	case cratedeps.CratesIo:
		return "https://crates.io/api/v1/crates/" + c.Name + "/" + c.Version + "/download"
	case cratedeps.Git:
		loc := "git+" + c.Source.URL
		if c.Source.Commit != "" {
			loc += "@" + c.Source.Commit
		}
		return loc
	}
	return noAssertion
}

// PURL is the crate's package URL: pkg:cargo/NAME@VERSION, with the git
// repository and commit as vcs_url for a git crate and the index as
// repository_url for another registry's, so that a scanner does not match them
// to the crates.io crate of the same name.
func PURL(c cratedeps.Crate) string {
	purl := "pkg:cargo/" + c.Name + "@" + url.PathEscape(c.Version)
	switch c.Source.Kind {
	case cratedeps.Git:
		vcs := "git+" + c.Source.URL
		if c.Source.Commit != "" {
			vcs += "@" + c.Source.Commit
		}
		purl += "?vcs_url=" + url.QueryEscape(vcs)
	case cratedeps.Registry:
		purl += "?repository_url=" + url.QueryEscape(c.Source.URL)
	}
	return purl
}

// licenseExpression turns a manifest's license field into an SPDX expression:
// cargo's deprecated "MIT/Apache-2.0" means "MIT OR Apache-2.0"; an empty field or
// one that is no expression (free text) is NOASSERTION, since SPDX readers reject
// the document otherwise. License ids are not checked against SPDX's list.
func licenseExpression(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return noAssertion
	}
	if strings.Contains(s, "/") {
		parts := strings.Split(s, "/")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		s = strings.Join(parts, " OR ")
	}
	depth := 0
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)) {
		switch {
		case tok == "(":
			depth++
		case tok == ")":
			if depth--; depth < 0 {
				return noAssertion
			}
		case tok == "AND" || tok == "OR" || tok == "WITH":
		case !licenseID.MatchString(tok):
			return noAssertion
		}
	}
	if depth != 0 {
		return noAssertion
	}
	return s
}

var licenseID = regexp.MustCompile(`^[A-Za-z0-9.-]+\+?$|^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$`)
