package clibs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// builderSet is what the default builder brings.
var builderSet = Set{OpenSSL: "3.0.17", LibPQ: "15.14", Zlib: "1.3.1", SQLite: "3.46.1"}

// graph is a binary's graph: the root app, then each crate as NAME, NAME+FEATURE
// (with a feature enabled) or build:NAME (compiled for the host only).
func graph(crates ...string) *cratedeps.Graph {
	g := &cratedeps.Graph{Crates: []cratedeps.Crate{{Name: "app", Kind: cratedeps.Runtime, Root: true}}}
	for _, spec := range crates {
		c := cratedeps.Crate{Kind: cratedeps.Runtime}
		if rest, ok := strings.CutPrefix(spec, "build:"); ok {
			c.Kind, spec = cratedeps.Build, rest
		}
		name, feature, _ := strings.Cut(spec, "+")
		c.Name = name
		if feature != "" {
			c.Features = []string{"default", feature}
		}
		g.Crates = append(g.Crates, c)
	}
	return g
}

func TestLinked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		graph *cratedeps.Graph
		have  Set
		want  string // Link.String()s joined with "; "
	}{
		{"native-tls over openssl-sys", graph("native-tls", "openssl", "openssl-sys", "build:cc", "build:pkg-config"), builderSet,
			"openssl 3.0.17 (openssl-sys)"},
		{"libpq brings the builder's OpenSSL along", graph("pq-sys"), builderSet,
			"openssl 3.0.17 (pq-sys); libpq 15.14 (pq-sys)"},
		{"diesel-like: libpq and openssl-sys both", graph("openssl-sys", "pq-sys"), builderSet,
			"openssl 3.0.17 (openssl-sys, pq-sys); libpq 15.14 (pq-sys)"},
		{"zlib and sqlite", graph("libsqlite3-sys+min_sqlite_version_3_6_8", "libz-sys+stock-zlib"), builderSet,
			"zlib 1.3.1 (libz-sys); sqlite 3.46.1 (libsqlite3-sys)"},
		{"vendored OpenSSL by its feature", graph("openssl-sys+vendored", "build:openssl-src"), builderSet, ""},
		{"vendored OpenSSL by its source crate alone", graph("openssl-sys", "build:openssl-src"), builderSet, ""},
		{"bundled SQLite", graph("libsqlite3-sys+bundled", "build:cc"), builderSet, ""},
		{"SQLCipher is not SQLite", graph("libsqlite3-sys+sqlcipher"), builderSet, ""},
		{"libz-sys building its own zlib", graph("libz-sys+static"), builderSet, ""},
		{"bundled libpq still takes openssl-sys's OpenSSL", graph("pq-sys+bundled", "build:pq-src", "openssl-sys"), builderSet,
			"openssl 3.0.17 (openssl-sys)"},
		{"a build script's own -sys dependency ships in nothing", graph("build:libz-sys"), builderSet, ""},
		{"a library the builder does not bring", graph("pq-sys"), Set{Zlib: "1.3.1"}, ""},
		{"libpq without an OpenSSL from the builder", graph("pq-sys"), Set{LibPQ: "15.14"}, "libpq 15.14 (pq-sys)"},
		{"a builder that brings none", graph("openssl-sys", "libz-sys"), Set{}, ""},
		{"no -sys crate at all", graph("serde", "ring"), builderSet, ""},
		{"no graph", nil, builderSet, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, l := range Linked(tt.graph, tt.have) {
				got = append(got, l.String())
			}
			if s := strings.Join(got, "; "); s != tt.want {
				t.Errorf("Linked = %q, want %q", s, tt.want)
			}
		})
	}
}

// A multi-platform build's binaries link between them the union, each library
// once, with every crate; the output lists them a line each.
func TestMergeAndOutput(t *testing.T) {
	t.Parallel()
	amd64 := Linked(graph("openssl-sys", "libz-sys"), builderSet)
	arm64 := Linked(graph("pq-sys", "libz-sys"), builderSet)
	merged := Merge(amd64, arm64)
	want := []Link{
		{Name: OpenSSL, Version: "3.0.17", Crates: []string{"openssl-sys", "pq-sys"}},
		{Name: LibPQ, Version: "15.14", Crates: []string{"pq-sys"}},
		{Name: Zlib, Version: "1.3.1", Crates: []string{"libz-sys"}},
	}
	if !reflect.DeepEqual(merged, want) {
		t.Errorf("Merge = %+v, want %+v", merged, want)
	}
	if got, want := Output(merged), "openssl 3.0.17 openssl-sys pq-sys\nlibpq 15.14 pq-sys\nzlib 1.3.1 libz-sys"; got != want {
		t.Errorf("Output = %q, want %q", got, want)
	}
	if Merge() != nil || Output(nil) != "" {
		t.Errorf("nothing linked: Merge %v, Output %q", Merge(), Output(nil))
	}
}

func TestHint(t *testing.T) {
	t.Parallel()
	const tail = "(docs/builder.md#c-libraries). A library it does not bring needs a custom builder (rust-s2i-musl builder --base ...) or the crate's vendored/bundled feature."
	tests := []struct {
		name   string
		crates []string
		have   Set
		want   string
	}{
		{"one -sys crate", []string{"libdbus-sys"}, builderSet,
			"hint: libdbus-sys's build script failed; builder b:1 brings static musl C libraries: openssl 3.0.17, libpq 15.14, zlib 1.3.1, sqlite 3.46.1 " + tail},
		{"several, and a crate that is no -sys one", []string{"openssl-sys", "mycrate", "curl-sys", "zstd_sys"}, Set{Zlib: "1.3.1"},
			"hint: the build scripts of openssl-sys, curl-sys and zstd_sys failed; builder b:1 brings static musl C libraries: zlib 1.3.1 " + tail},
		{"a builder that brings none", []string{"openssl-sys"}, Set{},
			"hint: openssl-sys's build script failed; builder b:1 brings no static musl C libraries (its io.rust-s2i.clibs label names none) " + tail},
		{"no -sys crate failed: no hint", []string{"mycrate", "prost-build"}, builderSet, ""},
		{"nothing failed: no hint", nil, builderSet, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Hint(tt.crates, "b:1", tt.have); got != tt.want {
				t.Errorf("Hint =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}
