package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

var created = time.Unix(1700000000, 0)

const rustc = "rustc 1.85.0 (4d91de4e4 2025-02-17)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\n"

func fixtureGraph(t *testing.T, target string) *cratedeps.Graph {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join("..", "cratedeps", "testdata", "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join("..", "cratedeps", "testdata", "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := cratedeps.Resolve(meta, lock, cratedeps.Options{Binary: "app", Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func fixtureDoc(t *testing.T, target string, info Info) (*Document, []byte) {
	t.Helper()
	out, err := SPDX(fixtureGraph(t, target), info)
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc, out
}

var testInfo = Info{Name: "registry.example/app:1", Image: "registry.example/app", ToolVersion: "v1.2.3", Rustc: rustc, Created: created}

func TestSPDXPackages(t *testing.T) {
	t.Parallel()
	doc, _ := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	byName := map[string]Package{}
	var names []string
	for _, p := range doc.Packages {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	want := []string{"app", "cc", "gitdep", "jobserver", "libc", "proc-macro2", "serde", "serde_derive", "unicode-ident", "x86-helper"}
	if !slices.Equal(names, want) {
		t.Errorf("packages %q, want %q", names, want)
	}
	tests := []struct {
		name, purl, download, license, checksum, purpose string
	}{
		{"app", "pkg:cargo/app@0.1.0", "NOASSERTION", "MIT OR Apache-2.0", "", "APPLICATION"},
		{"serde", "pkg:cargo/serde@1.0.200", "https://crates.io/api/v1/crates/serde/1.0.200/download", "MIT OR Apache-2.0",
			"ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f", "LIBRARY"},
		{"gitdep", "pkg:cargo/gitdep@0.2.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fexample%2Fgitdep%400123456789abcdef0123456789abcdef01234567",
			"git+https://github.com/example/gitdep@0123456789abcdef0123456789abcdef01234567", "NOASSERTION", "", "LIBRARY"},
	}
	for _, tt := range tests {
		p := byName[tt.name]
		var sum string
		if len(p.Checksums) == 1 && p.Checksums[0].Algorithm == "SHA256" {
			sum = p.Checksums[0].ChecksumValue
		}
		if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].ReferenceLocator != tt.purl || p.DownloadLocation != tt.download ||
			p.LicenseDeclared != tt.license || sum != tt.checksum || p.PrimaryPackagePurpose != tt.purpose {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if !strings.HasPrefix(byName["cc"].Comment, "Build dependency") || byName["serde"].Comment != "" {
		t.Errorf("build comment: cc %q serde %q", byName["cc"].Comment, byName["serde"].Comment)
	}
}

func TestSPDXRelationships(t *testing.T) {
	t.Parallel()
	doc, _ := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	var got []string
	for _, r := range doc.Relationships {
		got = append(got, strings.TrimPrefix(r.SPDXElementID, "SPDXRef-Package-cargo-")+" "+r.RelationshipType+" "+
			strings.TrimPrefix(r.RelatedSPDXElement, "SPDXRef-Package-cargo-"))
	}
	want := []string{
		"SPDXRef-DOCUMENT DESCRIBES app-0.1.0",
		"app-0.1.0 DEPENDS_ON gitdep-0.2.0",
		"app-0.1.0 DEPENDS_ON libc-0.2.153",
		"app-0.1.0 DEPENDS_ON serde-1.0.200",
		"cc-1.0.90 BUILD_DEPENDENCY_OF app-0.1.0",
		"cc-1.0.90 DEPENDS_ON jobserver-0.1.28",
		"cc-1.0.90 DEPENDS_ON x86-helper-0.1.0",
		"jobserver-0.1.28 DEPENDS_ON libc-0.2.153",
		"proc-macro2-1.0.80 DEPENDS_ON unicode-ident-1.0.12",
		"serde-1.0.200 DEPENDS_ON serde-derive-1.0.200",
		"serde-derive-1.0.200 DEPENDS_ON proc-macro2-1.0.80",
	}
	if !slices.Equal(got, want) {
		t.Errorf("relationships:\n got %q\nwant %q", got, want)
	}
}

// TestSPDXStructure checks what the SPDX 2.3 JSON schema does not: ids are of
// SPDX's form and unique, and every relationship names an element of the document.
func TestSPDXStructure(t *testing.T) {
	t.Parallel()
	doc, _ := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	idForm := regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	ids := map[string]bool{doc.SPDXID: true}
	for _, p := range doc.Packages {
		if !idForm.MatchString(p.SPDXID) || ids[p.SPDXID] {
			t.Errorf("bad or duplicate id %q", p.SPDXID)
		}
		ids[p.SPDXID] = true
	}
	for _, r := range doc.Relationships {
		if !ids[r.SPDXElementID] || !ids[r.RelatedSPDXElement] {
			t.Errorf("relationship to unknown element: %+v", r)
		}
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("header: %+v", doc)
	}
	wantCreators := []string{"Tool: rust-s2i-musl-v1.2.3", "Tool: rustc-1.85.0"}
	if !slices.Equal(doc.CreationInfo.Creators, wantCreators) {
		t.Errorf("creators %q, want %q", doc.CreationInfo.Creators, wantCreators)
	}
	if !strings.HasPrefix(doc.DocumentNamespace, NamespaceBase+"registry.example%2Fapp-") || strings.Contains(doc.DocumentNamespace, "#") {
		t.Errorf("namespace %q", doc.DocumentNamespace)
	}
}

func TestSPDXDeterministic(t *testing.T) {
	t.Parallel()
	_, a := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	_, b := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	if !bytes.Equal(a, b) {
		t.Fatal("two documents of the same build differ")
	}
	later := testInfo
	later.Created = created.Add(time.Second)
	other := []struct {
		name   string
		target string
		info   Info
	}{
		{"another time", "x86_64-unknown-linux-musl", later},
		{"another crate set", "aarch64-unknown-linux-musl", testInfo},
	}
	ns := func(doc *Document) string { return doc.DocumentNamespace }
	base, _ := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	for _, tt := range other {
		doc, _ := fixtureDoc(t, tt.target, tt.info)
		if ns(doc) == ns(base) {
			t.Errorf("%s: same namespace %s", tt.name, ns(doc))
		}
	}
}

func TestSPDXRefuses(t *testing.T) {
	t.Parallel()
	g := fixtureGraph(t, "x86_64-unknown-linux-musl")
	if _, err := SPDX(g, Info{Name: "x"}); err == nil || !strings.Contains(err.Error(), "creation time") {
		t.Errorf("no Created: err = %v", err)
	}
	if _, err := SPDX(&cratedeps.Graph{}, testInfo); err == nil {
		t.Error("empty graph accepted")
	}
}

func TestLicenseExpression(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "NOASSERTION"},
		{"MIT", "MIT"},
		{"MIT OR Apache-2.0", "MIT OR Apache-2.0"},
		{"MIT/Apache-2.0", "MIT OR Apache-2.0"},
		{"MIT / Apache-2.0", "MIT OR Apache-2.0"},
		{"(MIT OR Apache-2.0) AND Unicode-DFS-2016", "(MIT OR Apache-2.0) AND Unicode-DFS-2016"},
		{"Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"},
		{"GPL-2.0+", "GPL-2.0+"},
		{"LicenseRef-Proprietary", "LicenseRef-Proprietary"},
		{"see LICENSE file, (c) me", "NOASSERTION"},
		{"(MIT", "NOASSERTION"},
		{"MIT)", "NOASSERTION"},
	}
	for _, tt := range tests {
		if got := licenseExpression(tt.in); got != tt.want {
			t.Errorf("licenseExpression(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		crate cratedeps.Crate
		want  string
	}{
		{cratedeps.Crate{Name: "serde", Version: "1.0.200", Source: cratedeps.Source{Kind: cratedeps.CratesIo}}, "pkg:cargo/serde@1.0.200"},
		{cratedeps.Crate{Name: "app", Version: "0.1.0", Source: cratedeps.Source{Kind: cratedeps.Local}}, "pkg:cargo/app@0.1.0"},
		{cratedeps.Crate{Name: "x", Version: "1.0.0+build.1", Source: cratedeps.Source{Kind: cratedeps.CratesIo}}, "pkg:cargo/x@1.0.0+build.1"},
		{cratedeps.Crate{Name: "corp", Version: "2.0.0", Source: cratedeps.Source{Kind: cratedeps.Registry, URL: "https://index.example/"}},
			"pkg:cargo/corp@2.0.0?repository_url=https%3A%2F%2Findex.example%2F"},
	}
	for _, tt := range tests {
		if got := PURL(tt.crate); got != tt.want {
			t.Errorf("PURL(%s) = %q, want %q", tt.crate.Name, got, tt.want)
		}
	}
}
