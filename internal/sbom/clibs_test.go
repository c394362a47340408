package sbom

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// sysGraph is a binary with openssl-sys and pq-sys compiled in, and a build
// script's own libz-sys, which ships in nothing.
func sysGraph() *cratedeps.Graph {
	return &cratedeps.Graph{Root: 0, Crates: []cratedeps.Crate{
		{ID: "app", Name: "app", Version: "0.1.0", Kind: cratedeps.Runtime, Root: true,
			Deps: []cratedeps.Dep{{Crate: 1, Kind: cratedeps.BuildDep}, {Crate: 2, Kind: cratedeps.Normal}, {Crate: 3, Kind: cratedeps.Normal}}},
		{ID: "libz-sys", Name: "libz-sys", Version: "1.1.8", Kind: cratedeps.Build},
		{ID: "openssl-sys", Name: "openssl-sys", Version: "0.9.80", Kind: cratedeps.Runtime},
		{ID: "pq-sys", Name: "pq-sys", Version: "0.4.6", Kind: cratedeps.Runtime},
	}}
}

// sysInfo is testInfo with the libraries the default builder's label gives sysGraph.
func sysInfo() Info {
	info := testInfo
	info.CLibraries = clibs.Linked(sysGraph(), clibs.Set{"openssl": "3.0.17", "libpq": "15.14", "zlib": "1.3.1"})
	return info
}

// The builder's libraries the binary links are packages with a generic package
// URL, which the binary STATIC_LINKs and each crate that links one DEPENDS_ON;
// zlib, which only a build script links, is none.
func TestSPDXCLibraries(t *testing.T) {
	t.Parallel()
	out, err := SPDX(sysGraph(), sysInfo())
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var libs []string
	for _, p := range doc.Packages {
		if strings.HasPrefix(p.SPDXID, "SPDXRef-Package-generic-") {
			libs = append(libs, p.Name+" "+p.VersionInfo+" "+p.ExternalRefs[0].ReferenceLocator+" "+p.PrimaryPackagePurpose)
		}
	}
	wantLibs := []string{"openssl 3.0.17 pkg:generic/openssl@3.0.17 LIBRARY", "libpq 15.14 pkg:generic/libpq@15.14 LIBRARY"}
	if !slices.Equal(libs, wantLibs) {
		t.Errorf("C library packages %q, want %q", libs, wantLibs)
	}
	var rels []string
	for _, r := range doc.Relationships {
		if strings.Contains(r.RelatedSPDXElement, "generic") {
			rels = append(rels, strings.TrimPrefix(r.SPDXElementID, "SPDXRef-Package-")+" "+r.RelationshipType+" "+strings.TrimPrefix(r.RelatedSPDXElement, "SPDXRef-Package-"))
		}
	}
	wantRels := []string{
		"cargo-app-0.1.0 STATIC_LINK generic-libpq-15.14",
		"cargo-app-0.1.0 STATIC_LINK generic-openssl-3.0.17",
		"cargo-openssl-sys-0.9.80 DEPENDS_ON generic-openssl-3.0.17",
		"cargo-pq-sys-0.4.6 DEPENDS_ON generic-libpq-15.14",
		"cargo-pq-sys-0.4.6 DEPENDS_ON generic-openssl-3.0.17",
	}
	if !slices.Equal(rels, wantRels) {
		t.Errorf("relationships to the C libraries:\n got %q\nwant %q", rels, wantRels)
	}
	without, err := SPDX(sysGraph(), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(without, []byte("generic")) {
		t.Error("a binary that links no C library of the builder's lists one")
	}
}

// SPDX's own tools read the document with the C libraries back, STATIC_LINK and
// all, and every relationship names an element that exists.
func TestSPDXCLibrariesReadBack(t *testing.T) {
	t.Parallel()
	out, err := SPDX(sysGraph(), sysInfo())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := spdxjson.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("SPDX's reader refuses the document: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("spdxlib: %v", err)
	}
	if len(doc.Packages) != 6 {
		t.Errorf("SPDX's reader sees %d packages, want the 4 crates and 2 libraries", len(doc.Packages))
	}
}

// In CycloneDX the libraries are components, and the binary and the crates that
// link them depend on them.
func TestCycloneDXCLibraries(t *testing.T) {
	t.Parallel()
	out, err := CycloneDX(sysGraph(), sysInfo())
	if err != nil {
		t.Fatal(err)
	}
	var bom cdxBOM
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{bom.Metadata.Component.BOMRef: true}
	var libs []string
	for _, c := range bom.Components {
		refs[c.BOMRef] = true
		if strings.HasPrefix(c.PURL, "pkg:generic/") {
			libs = append(libs, c.BOMRef+" "+c.PURL+" "+c.Scope)
		}
	}
	if want := []string{"generic-openssl-3.0.17 pkg:generic/openssl@3.0.17 required", "generic-libpq-15.14 pkg:generic/libpq@15.14 required"}; !slices.Equal(libs, want) {
		t.Errorf("C library components %q, want %q", libs, want)
	}
	deps := map[string][]string{}
	for _, d := range bom.Dependencies {
		deps[d.Ref] = d.DependsOn
		for _, r := range append([]string{d.Ref}, d.DependsOn...) {
			if !refs[r] {
				t.Errorf("dependency on unknown ref %q", r)
			}
		}
	}
	for ref, want := range map[string][]string{
		"cargo-app-0.1.0":          {"cargo-libz-sys-1.1.8", "cargo-openssl-sys-0.9.80", "cargo-pq-sys-0.4.6", "generic-openssl-3.0.17", "generic-libpq-15.14"},
		"cargo-pq-sys-0.4.6":       {"generic-openssl-3.0.17", "generic-libpq-15.14"},
		"cargo-openssl-sys-0.9.80": {"generic-openssl-3.0.17"},
		"generic-libpq-15.14":      {},
	} {
		if !slices.Equal(deps[ref], want) {
			t.Errorf("%s depends on %q, want %q", ref, deps[ref], want)
		}
	}
}
