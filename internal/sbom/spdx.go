// Package sbom writes the software bill of materials of one Rust binary: the
// crates cratedeps found in its build, as an SPDX 2.3 JSON document.
//
// Everything in the document follows from its inputs: the creation time is passed
// in (SOURCE_DATE_EPOCH or the commit time, never the clock), the namespace is
// derived from the image name and a hash of the content instead of a random UUID,
// and packages and relationships are sorted. The same build gives the same bytes.
package sbom

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// PredicateType is the in-toto predicate type of an SPDX document, the one
// BuildKit's SBOM attestations use.
const PredicateType = "https://spdx.dev/Document"

// NamespaceBase prefixes every documentNamespace this package writes.
const NamespaceBase = "https://github.com/rust-s2i/rust-s2i-musl/spdx/"

// noAssertion is SPDX's "the creator makes no statement".
const noAssertion = "NOASSERTION"

// Info is what the document says about its making, besides the crates.
type Info struct {
	// Name names the document, such as the image reference or the binary.
	Name string
	// Image is the image name the namespace is derived from (no tag or digest
	// needed); Name when empty.
	Image string
	// ToolVersion is this tool's version, for the creator "Tool: rust-s2i-musl-…".
	ToolVersion string
	// Rustc is `rustc -vV` output; its first line ("rustc 1.85.0 (4d91de4e4 2025-02-17)")
	// names the compiler as the second creator.
	Rustc string
	// Created is when the document counts as made: SOURCE_DATE_EPOCH or the
	// commit time, so that rebuilds give the same document. Required.
	Created time.Time
	// CLibraries are the builder's C libraries the binary links statically
	// (clibs.Linked): packages of their own, which the binary STATIC_LINKs and the
	// crates that link them DEPEND_ON.
	CLibraries []clibs.Link
}

// Document is an SPDX 2.3 document, with the fields this package fills.
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	Packages          []Package      `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

// CreationInfo says who made the document and when.
type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
	Comment  string   `json:"comment,omitempty"`
}

// Package is one crate.
type Package struct {
	SPDXID                string        `json:"SPDXID"`
	Name                  string        `json:"name"`
	VersionInfo           string        `json:"versionInfo"`
	DownloadLocation      string        `json:"downloadLocation"`
	FilesAnalyzed         bool          `json:"filesAnalyzed"`
	Checksums             []Checksum    `json:"checksums,omitempty"`
	LicenseConcluded      string        `json:"licenseConcluded"`
	LicenseDeclared       string        `json:"licenseDeclared"`
	CopyrightText         string        `json:"copyrightText"`
	ExternalRefs          []ExternalRef `json:"externalRefs"`
	PrimaryPackagePurpose string        `json:"primaryPackagePurpose"`
	Comment               string        `json:"comment,omitempty"`
}

// Checksum is a package checksum; SHA256 from Cargo.lock.
type Checksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

// ExternalRef is a package URL reference.
type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

// Relationship links two elements: "A DEPENDS_ON B", "B BUILD_DEPENDENCY_OF A".
type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// SPDX returns the SPDX 2.3 JSON document of g's crates.
func SPDX(g *cratedeps.Graph, info Info) ([]byte, error) {
	doc, err := NewDocument(g, info)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return append(out, '\n'), nil
}

// NewDocument builds the document of g's crates; see SPDX.
func NewDocument(g *cratedeps.Graph, info Info) (*Document, error) {
	if info.Created.IsZero() {
		return nil, errors.New("sbom: no creation time (pass SOURCE_DATE_EPOCH or the commit time)")
	}
	if len(g.Crates) == 0 || g.Root < 0 || g.Root >= len(g.Crates) {
		return nil, errors.New("sbom: graph has no root crate")
	}
	ids := spdxIDs(g)
	doc := &Document{
		SPDXVersion:  "SPDX-2.3",
		DataLicense:  "CC0-1.0",
		SPDXID:       "SPDXRef-DOCUMENT",
		Name:         cmp.Or(info.Name, g.Crates[g.Root].Name),
		CreationInfo: creationInfo(info),
	}
	for i, c := range g.Crates {
		doc.Packages = append(doc.Packages, spdxPackage(c, ids[i]))
	}
	for _, l := range info.CLibraries {
		doc.Packages = append(doc.Packages, spdxCLib(l))
	}
	doc.Relationships = relationships(g, ids, info.CLibraries)
	ns, err := namespace(doc, cmp.Or(info.Image, info.Name, g.Crates[g.Root].Name))
	if err != nil {
		return nil, err
	}
	doc.DocumentNamespace = ns
	return doc, nil
}

func creationInfo(info Info) CreationInfo {
	ci := CreationInfo{
		Created:  info.Created.UTC().Format(time.RFC3339),
		Creators: []string{"Tool: rust-s2i-musl-" + cmp.Or(info.ToolVersion, "unknown")},
	}
	first, _, _ := strings.Cut(strings.TrimSpace(info.Rustc), "\n")
	if fields := strings.Fields(first); len(fields) >= 2 {
		ci.Creators = append(ci.Creators, "Tool: "+fields[0]+"-"+fields[1])
		ci.Comment = "Built with " + first + "."
	}
	return ci
}

// namespace derives documentNamespace from the image name and a hash of the
// document without it: unique per content as SPDX asks, yet reproducible.
func namespace(doc *Document, image string) (string, error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("sbom: %w", err)
	}
	sum := sha256.Sum256(js)
	return NamespaceBase + url.PathEscape(image) + "-" + hex.EncodeToString(sum[:]), nil
}

func relationships(g *cratedeps.Graph, ids []string, libs []clibs.Link) []Relationship {
	rels := []Relationship{{"SPDXRef-DOCUMENT", "DESCRIBES", ids[g.Root]}}
	rels = append(rels, cLibRelationships(g, ids, libs)...)
	for i, c := range g.Crates {
		for _, d := range c.Deps {
			if d.Kind == cratedeps.BuildDep {
				rels = append(rels, Relationship{ids[d.Crate], "BUILD_DEPENDENCY_OF", ids[i]})
			} else {
				rels = append(rels, Relationship{ids[i], "DEPENDS_ON", ids[d.Crate]})
			}
		}
	}
	slices.SortFunc(rels[1:], func(a, b Relationship) int {
		return cmp.Or(strings.Compare(a.SPDXElementID, b.SPDXElementID),
			strings.Compare(a.RelationshipType, b.RelationshipType),
			strings.Compare(a.RelatedSPDXElement, b.RelatedSPDXElement))
	})
	return rels
}
