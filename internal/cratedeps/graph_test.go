package cratedeps

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fixture is hand-written `cargo metadata` output (checksums in Cargo.lock are
// invented): app has a normal dependency (serde, whose derive is a proc-macro), a
// cfg(unix) one (libc), a git one, a build-dependency (cc, whose jobserver needs
// libc and whose x86-helper is for x86_64 hosts), a dev-dependency (tempfile), an
// optional dependency left off (flate2), dependencies for windows (one by cfg, one
// by triple) and one for aarch64; the workspace member other uses regex.
func readFixture(t *testing.T) (meta, lock []byte) {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join("testdata", "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err = os.ReadFile(filepath.Join("testdata", "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	return meta, lock
}

// kinds summarises a graph as "name@version:kind", root marked with "*".
func kinds(g *Graph) []string {
	var out []string
	for _, c := range g.Crates {
		s := c.Name + "@" + c.Version + ":" + string(c.Kind)
		if c.Root {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

func TestResolveCrateSet(t *testing.T) {
	t.Parallel()
	common := []string{
		"app@0.1.0:runtime*", "cc@1.0.90:build", "gitdep@0.2.0:runtime", "jobserver@0.1.28:build",
		"libc@0.2.153:runtime", "proc-macro2@1.0.80:build", "serde@1.0.200:runtime",
		"serde_derive@1.0.200:build", "unicode-ident@1.0.12:build",
	}
	with := func(extra ...string) []string {
		out := append([]string(nil), common...)
		for _, e := range extra {
			out = insertSorted(out, e)
		}
		return out
	}
	tests := []struct {
		name string
		opt  Options
		want []string
	}{
		{"x86_64 musl", Options{Binary: "app", Target: "x86_64-unknown-linux-musl"}, with("x86-helper@0.1.0:build")},
		{"aarch64 target on x86_64 host", Options{Binary: "app", Target: "aarch64-unknown-linux-musl", Host: "x86_64-unknown-linux-gnu"},
			with("aarch-only@1.0.0:runtime", "x86-helper@0.1.0:build")},
		{"aarch64 native", Options{Binary: "app", Target: "aarch64-unknown-linux-musl"}, with("aarch-only@1.0.0:runtime")},
		{"windows gnu", Options{Target: "x86_64-pc-windows-gnu"},
			[]string{"app@0.1.0:runtime*", "cc@1.0.90:build", "gitdep@0.2.0:runtime", "jobserver@0.1.28:build",
				"proc-macro2@1.0.80:build", "serde@1.0.200:runtime", "serde_derive@1.0.200:build",
				"unicode-ident@1.0.12:build", "winapi@0.3.9:runtime", "windows-gnu-only@1.0.0:runtime", "x86-helper@0.1.0:build"}},
		{"member by name", Options{Package: "other", Binary: "other", Target: "x86_64-unknown-linux-musl"},
			[]string{"other@0.1.0:runtime*", "regex@1.10.4:runtime"}},
		// cargo build --workspace --bin other, run in app's directory, builds other's.
		{"member by binary", Options{Binary: "other", Target: "x86_64-unknown-linux-musl"},
			[]string{"other@0.1.0:runtime*", "regex@1.10.4:runtime"}},
	}
	meta, lock := readFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := Resolve(meta, lock, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(g); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("crates:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func insertSorted(list []string, s string) []string {
	for i, v := range list {
		if s < v {
			return append(list[:i], append([]string{s}, list[i:]...)...)
		}
	}
	return append(list, s)
}

func TestResolveCrateFields(t *testing.T) {
	t.Parallel()
	meta, lock := readFixture(t)
	g, err := Resolve(meta, lock, Options{Binary: "app", Target: "x86_64-unknown-linux-musl"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Crate{}
	for _, c := range g.Crates {
		byName[c.Name] = c
	}
	tests := []struct {
		name     string
		source   Source
		checksum string
		license  string
	}{
		{"app", Source{Kind: Local}, "", "MIT OR Apache-2.0"},
		{"serde", Source{Kind: CratesIo, URL: "https://github.com/rust-lang/crates.io-index", Raw: cratesIoGit},
			"ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f", "MIT OR Apache-2.0"},
		{"gitdep", Source{Kind: Git, URL: "https://github.com/example/gitdep", Commit: "0123456789abcdef0123456789abcdef01234567",
			Raw: "git+https://github.com/example/gitdep?branch=main#0123456789abcdef0123456789abcdef01234567"}, "", ""},
		{"unicode-ident", Source{Kind: CratesIo, URL: "https://github.com/rust-lang/crates.io-index", Raw: cratesIoGit},
			"3354b9ac3fae1ff6755cb6db53683adb661634f67557942dea4facebec0fee4b", "(MIT OR Apache-2.0) AND Unicode-DFS-2016"},
	}
	for _, tt := range tests {
		c, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s missing", tt.name)
			continue
		}
		if c.Source != tt.source || c.Checksum != tt.checksum || c.License != tt.license {
			t.Errorf("%s: source %+v checksum %q license %q; want %+v %q %q", tt.name, c.Source, c.Checksum, c.License, tt.source, tt.checksum, tt.license)
		}
	}
	if g.Crates[g.Root].Name != "app" {
		t.Errorf("root is %s", g.Crates[g.Root].Name)
	}
}

func TestResolveEdges(t *testing.T) {
	t.Parallel()
	meta, lock := readFixture(t)
	g, err := Resolve(meta, lock, Options{Target: "x86_64-unknown-linux-musl"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range g.Crates {
		for _, d := range c.Deps {
			got = append(got, c.Name+"->"+g.Crates[d.Crate].Name+":"+string(d.Kind))
		}
	}
	want := []string{
		"app->cc:build", "app->gitdep:normal", "app->libc:normal", "app->serde:normal",
		"cc->jobserver:normal", "cc->x86-helper:normal", "jobserver->libc:normal",
		"proc-macro2->unicode-ident:normal", "serde->serde_derive:normal", "serde_derive->proc-macro2:normal",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("edges:\n got %q\nwant %q", got, want)
	}
}

func TestResolveRefuses(t *testing.T) {
	t.Parallel()
	meta, lock := readFixture(t)
	tests := []struct {
		name    string
		meta    []byte
		opt     Options
		wantErr string
		is      error
	}{
		{"no target", meta, Options{}, "no target triple", nil},
		{"feature not resolved", meta, Options{Target: "x86_64-unknown-linux-musl", Features: []string{"compress"}}, "compress", ErrNotEnabled},
		{"binary's required feature off", meta, Options{Binary: "extra", Target: "x86_64-unknown-linux-musl"}, "extra", ErrNotEnabled},
		{"no such binary", meta, Options{Binary: "nope", Target: "x86_64-unknown-linux-musl"}, "no binary", nil},
		{"no such member", meta, Options{Package: "regex", Target: "x86_64-unknown-linux-musl"}, "no workspace member", nil},
		{"no-deps output", []byte(`{"version":1,"packages":[]}`), Options{Target: "x86_64-unknown-linux-musl"}, "--no-deps", nil},
		{"virtual workspace", []byte(`{"version":1,"packages":[],"resolve":{"nodes":[],"root":null}}`), Options{Target: "x86_64-unknown-linux-musl"}, "virtual workspace", nil},
		{"other format", []byte(`{"version":2}`), Options{Target: "x86_64-unknown-linux-musl"}, "format version 2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Resolve(tt.meta, lock, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestResolveFeatureEnabled(t *testing.T) {
	t.Parallel()
	meta, lock := readFixture(t)
	// "default" is resolved; "serde/derive" names a dependency's feature: neither
	// is checked against the root's list beyond what cargo already did.
	if _, err := Resolve(meta, lock, Options{Target: "x86_64-unknown-linux-musl", Features: []string{"default,serde/derive"}}); err != nil {
		t.Fatal(err)
	}
}

// Each crate carries the features its resolve node enabled, sorted, for the
// callers that judge what a crate builds (a -sys crate's bundled C library).
func TestResolveCrateFeatures(t *testing.T) {
	t.Parallel()
	meta, lock := readFixture(t)
	g, err := Resolve(meta, lock, Options{Binary: "app", Target: "x86_64-unknown-linux-musl"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"serde":  {"default", "derive", "serde_derive", "std"},
		"cc":     {"parallel"},
		"gitdep": nil,
	}
	for _, c := range g.Crates {
		if w, ok := want[c.Name]; ok && !reflect.DeepEqual(c.Features, w) {
			t.Errorf("%s: features %q, want %q", c.Name, c.Features, w)
		}
		delete(want, c.Name)
	}
	for name := range want {
		t.Errorf("%s missing from the graph", name)
	}
}
