package auditable

import (
	"bytes"
	"compress/zlib"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

func smallGraph() *cratedeps.Graph {
	return &cratedeps.Graph{
		Root: 0,
		Crates: []cratedeps.Crate{
			{Name: "app", Version: "0.1.0", Source: cratedeps.Source{Kind: cratedeps.Local}, Kind: cratedeps.Runtime, Root: true,
				Deps: []cratedeps.Dep{{Crate: 1, Kind: cratedeps.Normal}, {Crate: 1, Kind: cratedeps.BuildDep}, {Crate: 2, Kind: cratedeps.Normal}}},
			{Name: "cc", Version: "1.0.90", Source: cratedeps.Source{Kind: cratedeps.CratesIo}, Kind: cratedeps.Build},
			{Name: "gitdep", Version: "0.2.0", Source: cratedeps.Source{Kind: cratedeps.Git}, Kind: cratedeps.Runtime},
		},
	}
}

func zlibBytes(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestEncodeJSON(t *testing.T) {
	t.Parallel()
	enc, err := FromGraph(smallGraph()).Encode()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(zr)
	// Field order and omissions as auditable-serde serializes: kind only when
	// "build", dependencies only when any, root only when true, format last.
	want := `{"packages":[` +
		`{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},` +
		`{"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"},` +
		`{"name":"gitdep","version":"0.2.0","source":"git"}],"format":1}`
	if got.String() != want {
		t.Errorf("JSON:\n got %s\nwant %s", got.String(), want)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"minimal, from the format's docs", `{"packages":[{"name":"adler","version":"0.2.3","source":"registry"}]}`, ""},
		{"two roots", `{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true},{"name":"b","version":"1.0.0","source":"local","root":true}]}`, "2 root"},
		{"cycle", `{"packages":[{"name":"a","version":"1.0.0","source":"local","dependencies":[1]},{"name":"b","version":"1.0.0","source":"local","dependencies":[0]}]}`, "cyclic"},
		{"index out of range", `{"packages":[{"name":"a","version":"1.0.0","source":"local","dependencies":[5]}]}`, "index 5"},
		{"bad kind", `{"packages":[{"name":"a","version":"1.0.0","source":"local","kind":"dev"}]}`, `kind "dev"`},
		{"too big", `{"packages":[` + strings.Repeat(" ", maxJSON) + `]}`, "more than"},
		{"not json", `nope`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(zlibBytes(t, tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// fixtureInfo is the cratedeps fixture's list for x86_64 musl.
func fixtureInfo(t *testing.T) VersionInfo {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join("..", "cratedeps", "testdata", "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join("..", "cratedeps", "testdata", "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := cratedeps.Resolve(meta, lock, cratedeps.Options{Binary: "app", Target: "x86_64-unknown-linux-musl"})
	if err != nil {
		t.Fatal(err)
	}
	return FromGraph(g)
}

func TestFromGraphFixture(t *testing.T) {
	t.Parallel()
	v := fixtureInfo(t)
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range v.Packages {
		if p.IsBuild() {
			got = append(got, p.Name+"(build)")
		} else {
			got = append(got, p.Name)
		}
	}
	want := "app cc(build) gitdep jobserver(build) libc proc-macro2(build) serde serde_derive(build) unicode-ident(build) x86-helper(build)"
	if strings.Join(got, " ") != want {
		t.Errorf("packages = %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	t.Parallel()
	v := VersionInfo{Packages: []Package{{Name: "a", Version: "1", Source: "local", Dependencies: []int{0}}}}
	if _, err := v.Encode(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Encode of a self-dependency: err = %v, want ErrInvalid", err)
	}
}
