package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
	"github.com/rust-s2i/rust-s2i-musl/test/spdxschema"
)

// sum is a made-up SHA-256 (hex) for a crate, as Cargo.lock records one.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// representativeGraph has a crate of every kind the documents describe: the
// root, crates from crates.io with their checksums, one from another registry
// (with "_" and "+" in its name and version, which SPDX ids do not allow), a git
// dependency at a commit, a path dependency, build dependencies and proc-macros,
// the same name and version from two sources (ids with a suffix), and licenses
// as a single id, an expression (OR, AND with parentheses, WITH, LicenseRef),
// cargo's old "MIT/Apache-2.0", free text and none.
func representativeGraph() *cratedeps.Graph {
	const cratesIo = "registry+https://github.com/rust-lang/crates.io-index"
	cratesIoSource := cratedeps.Source{Kind: cratedeps.CratesIo, URL: "https://github.com/rust-lang/crates.io-index", Raw: cratesIo}
	git := func(url, commit string) cratedeps.Source {
		return cratedeps.Source{Kind: cratedeps.Git, URL: url, Commit: commit, Raw: "git+" + url + "?branch=main#" + commit}
	}
	normal := func(i int) cratedeps.Dep { return cratedeps.Dep{Crate: i, Kind: cratedeps.Normal} }
	buildDep := func(i int) cratedeps.Dep { return cratedeps.Dep{Crate: i, Kind: cratedeps.BuildDep} }
	return &cratedeps.Graph{Root: 0, Binary: "app", Target: "x86_64-unknown-linux-musl", Crates: []cratedeps.Crate{
		{ID: "path+file:///src/app#0.1.0", Name: "app", Version: "0.1.0", Source: cratedeps.Source{Kind: cratedeps.Local},
			License: "MIT OR Apache-2.0", Kind: cratedeps.Runtime, Root: true,
			Deps: []cratedeps.Dep{buildDep(1), normal(2), normal(3), normal(4),
				normal(5), normal(7), normal(9)}},
		{ID: cratesIo + "#cc@1.0.90", Name: "cc", Version: "1.0.90", Source: cratesIoSource, Checksum: sum("cc"),
			License: "MIT/Apache-2.0", Kind: cratedeps.Build},
		{ID: "sparse+https://index.corp.example/#corp_lib@2.0.0+build.1", Name: "corp_lib", Version: "2.0.0+build.1",
			Source:   cratedeps.Source{Kind: cratedeps.Registry, URL: "https://index.corp.example/", Raw: "sparse+https://index.corp.example/"},
			Checksum: sum("corp_lib"), License: "LicenseRef-Corp", Kind: cratedeps.Runtime},
		{ID: cratesIo + "#dup@1.0.0", Name: "dup", Version: "1.0.0", Source: cratesIoSource, Checksum: sum("dup"),
			License: "Apache-2.0 WITH LLVM-exception", Kind: cratedeps.Runtime},
		{ID: "git+https://github.com/example/dup?branch=main#89abcdef0123456789abcdef0123456789abcdef", Name: "dup", Version: "1.0.0",
			Source: git("https://github.com/example/dup", "89abcdef0123456789abcdef0123456789abcdef"), Kind: cratedeps.Runtime},
		{ID: "git+https://github.com/example/greet?branch=main#0123456789abcdef0123456789abcdef01234567", Name: "greet", Version: "0.1.0",
			Source: git("https://github.com/example/greet", "0123456789abcdef0123456789abcdef01234567"), License: "MIT", Kind: cratedeps.Runtime},
		{ID: cratesIo + "#proc-macro2@1.0.80", Name: "proc-macro2", Version: "1.0.80", Source: cratesIoSource,
			Checksum: sum("proc-macro2"), License: "MIT OR Apache-2.0", Kind: cratedeps.Build, Deps: []cratedeps.Dep{normal(10)}},
		{ID: cratesIo + "#serde@1.0.200", Name: "serde", Version: "1.0.200", Source: cratesIoSource, Checksum: sum("serde"),
			License: "MIT OR Apache-2.0", Kind: cratedeps.Runtime, Deps: []cratedeps.Dep{normal(8)}},
		{ID: cratesIo + "#serde_derive@1.0.200", Name: "serde_derive", Version: "1.0.200", Source: cratesIoSource,
			Checksum: sum("serde_derive"), License: "MIT OR Apache-2.0", Kind: cratedeps.Build, Deps: []cratedeps.Dep{normal(6)}},
		{ID: "path+file:///src/shout#0.2.0", Name: "shout", Version: "0.2.0",
			Source: cratedeps.Source{Kind: cratedeps.Local, Raw: "path+file:///src/shout"}, License: "see LICENSE, (c) me", Kind: cratedeps.Runtime},
		{ID: cratesIo + "#unicode-ident@1.0.12", Name: "unicode-ident", Version: "1.0.12", Source: cratesIoSource,
			Checksum: sum("unicode-ident"), License: "(MIT OR Apache-2.0) AND Unicode-DFS-2016", Kind: cratedeps.Build},
	}}
}

// representativeDoc is representativeGraph's document with the toolchain as a
// creator.
func representativeDoc(t *testing.T) []byte {
	t.Helper()
	out, err := SPDX(representativeGraph(), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The documents validate against the SPDX 2.3 JSON schema (test/spdxschema: the
// copy syft's module ships, SPDX_SCHEMA): the fixture's, for each target it
// resolves for, and the representative graph's, with and without a toolchain
// creator. What the schema cannot see, such as the form of SPDX ids and
// relationships to elements that exist, TestSPDXStructure and the SPDX tools'
// reader check.
func TestSPDXSchema(t *testing.T) {
	t.Parallel()
	schema := spdxschema.ForTest(t)
	docs := map[string][]byte{"representative": representativeDoc(t)}
	for _, target := range []string{"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"} {
		_, docs["fixture "+target] = fixtureDoc(t, target, testInfo)
	}
	bare, err := SPDX(representativeGraph(), Info{Name: "app", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	docs["representative, no toolchain or tool version"] = bare
	for name, doc := range docs {
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The representative document has what it is meant to have.
	var doc Document
	if err := json.Unmarshal(docs["representative"], &doc); err != nil {
		t.Fatal(err)
	}
	var sums, ids []string
	for _, p := range doc.Packages {
		ids = append(ids, p.SPDXID)
		if len(p.Checksums) > 0 {
			sums = append(sums, p.Name)
		}
	}
	wantSums := []string{"cc", "corp_lib", "dup", "proc-macro2", "serde", "serde_derive", "unicode-ident"}
	if !slices.Equal(sums, wantSums) || !slices.Contains(ids, "SPDXRef-Package-cargo-corp-lib-2.0.0-build.1") ||
		!slices.Contains(doc.CreationInfo.Creators, "Tool: rustc-1.85.0") {
		t.Errorf("checksums on %q, ids %q, creators %q", sums, ids, doc.CreationInfo.Creators)
	}
}

// The validator does reject: each edit of the representative document that
// breaks SPDX 2.3 is reported where it is, by the keyword it breaks. (An id such
// as "SPDXRef-Package-cargo-serde_derive" is not among them: the schema gives ids
// no pattern, which is why TestSPDXStructure checks their form.)
func TestSPDXSchemaRejects(t *testing.T) {
	t.Parallel()
	schema := spdxschema.ForTest(t)
	tests := []struct {
		name     string
		edit     func(doc map[string]any)
		at, kind string
	}{
		{"no documentNamespace", func(d map[string]any) { delete(d, "documentNamespace") }, "", "required"},
		{"a package without downloadLocation", func(d map[string]any) { delete(pkg(d, 7), "downloadLocation") }, "/packages/7", "required"},
		{"no creators", func(d map[string]any) { d["creationInfo"].(map[string]any)["creators"] = []any{} }, "/creationInfo/creators", "minItems"},
		{"a relationship type SPDX does not have", func(d map[string]any) { rel(d, 1)["relationshipType"] = "USES" },
			"/relationships/1/relationshipType", "enum"},
		{"a checksum algorithm SPDX does not name", func(d map[string]any) {
			pkg(d, 7)["checksums"].([]any)[0].(map[string]any)["algorithm"] = "SHA-256"
		}, "/packages/7/checksums/0/algorithm", "enum"},
		{"a package purpose SPDX does not have", func(d map[string]any) { pkg(d, 0)["primaryPackagePurpose"] = "BINARY" },
			"/packages/0/primaryPackagePurpose", "enum"},
		{"a field SPDX does not have", func(d map[string]any) { pkg(d, 0)["purl"] = "pkg:cargo/app@0.1.0" }, "/packages/0", "additionalProperties"},
		{"filesAnalyzed as a string", func(d map[string]any) { pkg(d, 0)["filesAnalyzed"] = "false" }, "/packages/0/filesAnalyzed", "type"},
	}
	for _, tt := range tests {
		var doc map[string]any
		if err := json.Unmarshal(representativeDoc(t), &doc); err != nil {
			t.Fatal(err)
		}
		if name := pkg(doc, 7)["name"]; name != "serde" {
			t.Fatalf("package 7 is %v, want serde (one with a checksum)", name)
		}
		tt.edit(doc)
		bad, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		err = schema.Validate(bad)
		e, ok := err.(*spdxschema.Error)
		if !ok {
			t.Errorf("%s: the schema accepts it (err = %v)", tt.name, err)
			continue
		}
		if !slices.ContainsFunc(e.Violations, func(v spdxschema.Violation) bool { return v.At == tt.at && v.Keyword == tt.kind }) {
			t.Errorf("%s: no %s violation at %q: %v", tt.name, tt.kind, tt.at, err)
		}
	}
}

func pkg(doc map[string]any, i int) map[string]any {
	return doc["packages"].([]any)[i].(map[string]any)
}

func rel(doc map[string]any, i int) map[string]any {
	return doc["relationships"].([]any)[i].(map[string]any)
}
