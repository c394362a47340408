package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/sbom"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// A build whose -sys crate's build script failed ends with the error and, on
// the line after it, the hint naming the crate and what the builder brings, by
// the builder's name as the user gave it; the error is still a failed build's.
// Another failure gets no hint.
func TestBuildFailureCLibsHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		libs clibs.Set
		want string // the line after the error; "" for none
	}{
		{"a -sys crate's build script", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"libdbus-sys"}},
			clibs.Set{"zlib": "1.3.1", "openssl": "3.0.17"},
			"hint: libdbus-sys's build script failed; builder example.org/builder:1 brings static musl C libraries: openssl 3.0.17, zlib 1.3.1 (docs/builder.md#c-libraries)."},
		{"a builder that brings none", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"openssl-sys"}}, clibs.Set{},
			"hint: openssl-sys's build script failed; builder example.org/builder:1 brings no static musl C libraries"},
		{"another crate's build script", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"prost-build"}}, clibs.Set{"zlib": "1.3.1"}, ""},
		{"a compile error", &s2i.FailedError{ExitCode: 1}, clibs.Set{"zlib": "1.3.1"}, ""},
		{"no build ran", errors.New("s2i build: no daemon"), clibs.Set{"zlib": "1.3.1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
			cfg.Builder = "example.org/builder:1"
			s := &buildStage{logs: logs{Report: &memReport{}, Log: io.Discard}, s2i: func(context.Context, s2i.Request) (s2i.Result, error) {
				return s2i.Result{}, tc.err
			}}
			_, err := s.Build(t.Context(), testPlan(t, cfg), State{Target: testenv.MuslTarget, CLibs: tc.libs}, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Build = %v, want it to wrap %v", err, tc.err)
			}
			first, hint, _ := strings.Cut(err.Error(), "\n")
			if first != tc.err.Error() {
				t.Errorf("the error's first line is %q, want %q", first, tc.err.Error())
			}
			if tc.want == "" && hint != "" || !strings.HasPrefix(hint, tc.want) || strings.Contains(hint, "\n") {
				t.Errorf("after the error: %q, want one line starting %q", hint, tc.want)
			}
		})
	}
}

// sysMetadata is cargo metadata of a crate hello that links zlib and SQLite
// through libz-sys and libsqlite3-sys (pkg-config in their build scripts), as
// testdata/crates/zsqlite does.
const sysMetadata = `{"version":1,
 "workspace_members":["path+file:///src#hello@0.1.0"],
 "packages":[
  {"id":"path+file:///src#hello@0.1.0","name":"hello","version":"0.1.0","source":null,"license":"MIT",
   "targets":[{"name":"hello","kind":["bin"]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#libz-sys@1.1.8","name":"libz-sys","version":"1.1.8",
   "source":"registry+https://github.com/rust-lang/crates.io-index","license":"MIT OR Apache-2.0","targets":[{"name":"libz_sys","kind":["lib"]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#libsqlite3-sys@0.25.1","name":"libsqlite3-sys","version":"0.25.1",
   "source":"registry+https://github.com/rust-lang/crates.io-index","license":"MIT","targets":[{"name":"libsqlite3_sys","kind":["lib"]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#pkg-config@0.3.25","name":"pkg-config","version":"0.3.25",
   "source":"registry+https://github.com/rust-lang/crates.io-index","license":"MIT OR Apache-2.0","targets":[{"name":"pkg_config","kind":["lib"]}]}],
 "resolve":{"root":"path+file:///src#hello@0.1.0","nodes":[
  {"id":"path+file:///src#hello@0.1.0","features":[],"deps":[
   {"name":"libz_sys","pkg":"registry+https://github.com/rust-lang/crates.io-index#libz-sys@1.1.8","dep_kinds":[{"kind":null,"target":null}]},
   {"name":"libsqlite3_sys","pkg":"registry+https://github.com/rust-lang/crates.io-index#libsqlite3-sys@0.25.1","dep_kinds":[{"kind":null,"target":null}]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#libz-sys@1.1.8","features":["default","libc","stock-zlib"],"deps":[
   {"name":"pkg_config","pkg":"registry+https://github.com/rust-lang/crates.io-index#pkg-config@0.3.25","dep_kinds":[{"kind":"build","target":null}]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#libsqlite3-sys@0.25.1","features":["default","min_sqlite_version_3_6_8","pkg-config"],"deps":[
   {"name":"pkg_config","pkg":"registry+https://github.com/rust-lang/crates.io-index#pkg-config@0.3.25","dep_kinds":[{"kind":"build","target":null}]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#pkg-config@0.3.25","features":[],"deps":[]}]}}`

// outputReport keeps the outputs it is given.
type outputReport struct {
	memReport
	out map[string]string
}

func (r *outputReport) Output(k, v string) { r.out[k] = v }

// A two-platform build's binaries link the builder's zlib and SQLite: each
// platform's part of the Supply says so, each SBOM lists them as packages, and
// the c-libraries output names each library once with the crates that link it;
// a build whose crates are not known has an empty one.
func TestBuildCLibraries(t *testing.T) {
	t.Parallel()
	w := newIndexWorld(t, false, "")
	w.pl.SBOMDir = t.TempDir()
	w.st.CLibs = clibs.Set{clibs.OpenSSL: "3.0.17", clibs.Zlib: "1.3.1", clibs.SQLite: "3.46.1"}
	for _, tg := range w.st.Targets {
		w.built.Collected[tmpimage.TargetFile(tg, tmpimage.MetadataFile)] = []byte(sysMetadata)
	}
	w.built.Collected[tmpimage.RustcFile] = []byte(helloRustc)
	out, err := w.pkg.Package(t.Context(), w.pl, w.st, nil, w.built)
	if err != nil {
		t.Fatal(err)
	}
	want := "zlib 1.3.1 (libz-sys); sqlite 3.46.1 (libsqlite3-sys)"
	for _, p := range out.Supply.Parts {
		var got []string
		for _, l := range p.CLibs {
			got = append(got, l.String())
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("%s links %q, want %q", p.Platform, got, want)
		}
		var doc sbom.Document
		if err := json.Unmarshal(p.SBOM, &doc); err != nil {
			t.Fatal(err)
		}
		var purls []string
		for _, pkg := range doc.Packages {
			if r := pkg.ExternalRefs[0].ReferenceLocator; strings.HasPrefix(r, "pkg:generic/") {
				purls = append(purls, r)
			}
		}
		if !slices.Equal(purls, []string{"pkg:generic/zlib@1.3.1", "pkg:generic/sqlite@3.46.1"}) {
			t.Errorf("the %s SBOM lists the C libraries %q", p.Platform, purls)
		}
	}
	if data, err := os.ReadFile(out.Supply.SBOMPath); err != nil || !strings.Contains(string(data), "pkg:generic/sqlite@3.46.1") {
		t.Errorf("the SBOM file %s lacks sqlite (%v)", out.Supply.SBOMPath, err)
	}
	for _, tc := range []struct {
		supply *Supply
		want   string
	}{
		{out.Supply, "zlib 1.3.1 libz-sys\nsqlite 3.46.1 libsqlite3-sys"},
		{nil, ""},
	} {
		rep := &outputReport{out: map[string]string{}}
		(&Pipeline{Report: rep}).outputs(Result{Supply: tc.supply}, Restored{})
		if got, ok := rep.out["c-libraries"]; !ok || got != tc.want {
			t.Errorf("c-libraries output %q (given: %v), want %q", got, ok, tc.want)
		}
	}
}

// An up-to-date image's Supply is read for what its first build made: the SBOM,
// the provenance of a push, and the c-libraries output when the builder brings a
// library and the crates are known (auditable alone will do); else not at all.
func TestDescribes(t *testing.T) {
	t.Parallel()
	zlib := State{CLibs: clibs.Set{clibs.Zlib: "1.3.1"}}
	tests := []struct {
		name                        string
		auditable, sbom, provenance bool
		push                        bool
		st                          State
		want                        bool
	}{
		{"the defaults", true, true, true, false, zlib, true},
		{"auditable alone, a builder with C libraries", true, false, false, false, zlib, true},
		{"auditable alone, a builder with none", true, false, false, false, State{}, false},
		{"provenance without a push", false, false, true, false, zlib, false},
		{"provenance with a push", false, false, true, true, State{}, true},
		{"nothing on", false, false, false, true, zlib, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pl := supplyPlan(t, tc.auditable, tc.sbom, tc.provenance)
			pl.Push = tc.push
			if got := describes(pl, tc.st); got != tc.want {
				t.Errorf("describes = %v, want %v", got, tc.want)
			}
		})
	}
	multi := platformsPlan(t)
	if describes(multi, zlib) {
		t.Error("a multi-platform image is described as up to date")
	}
}
