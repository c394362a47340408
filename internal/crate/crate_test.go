package crate

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBinaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "single package", in: "single", want: []string{"hello"}},
		{name: "library only", in: "library", want: nil},
		{name: "bin entries beside src/main.rs", in: "explicit", want: []string{"alpha", "beta", "tool"}},
		{name: "bin entry claims src/main.rs", in: "renamed", want: []string{"server"}},
		{name: "src/bin files and dirs", in: "bindir", want: []string{"multi", "one", "two"}},
		{name: "workspace members under crates/*", in: "workspace", want: []string{"api", "worker"}},
		{name: "root package is also a workspace", in: "rootpkg", want: []string{"admin", "app", "gen", "gen-docs"}},
		{name: "autobins false", in: "noautobins", want: []string{"shown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := binaries(filepath.Join("testdata", tt.in))
			if err != nil {
				t.Fatalf("binaries(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("binaries(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBinariesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error text
	}{
		{name: "broken Cargo.toml", in: "broken", want: []string{"parse", filepath.Join("testdata", "broken", "Cargo.toml") + ":1:"}},
		{name: "broken member Cargo.toml", in: "brokenmember", want: []string{"parse", filepath.Join("testdata", "brokenmember", "bad", "Cargo.toml")}},
		{name: "bin entry without name", in: "unnamedbin", want: []string{"[[bin]] entry has no name", filepath.Join("testdata", "unnamedbin", "Cargo.toml")}},
		{name: "neither package nor workspace", in: "nosection", want: []string{"neither [package] nor [workspace]"}},
		{name: "no Cargo.toml", in: "nomanifest", want: []string{"no Cargo.toml in " + filepath.Join("testdata", "nomanifest")}},
		{name: "missing dir", in: "does-not-exist", want: []string{"no Cargo.toml in " + filepath.Join("testdata", "does-not-exist")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := binaries(filepath.Join("testdata", tt.in))
			if err == nil {
				t.Fatalf("binaries(%q) = %q, want an error", tt.in, got)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("binaries(%q) error %q does not contain %q", tt.in, err, s)
				}
			}
		})
	}
}

func TestCheckBinary(t *testing.T) {
	t.Parallel()
	type input struct{ dir, binary string }
	tests := []struct {
		name string
		in   input
		want string // exact error text; "" means nil
	}{
		{name: "package binary", in: input{"single", "hello"}, want: ""},
		{name: "workspace member binary", in: input{"workspace", "worker"}, want: ""},
		{name: "excluded member binary", in: input{"workspace", "legacy"}, want: `binary "legacy" is not a binary of ` + filepath.Join("testdata", "workspace") + ": it has api, worker"},
		{name: "unknown binary", in: input{"workspace", "nope"}, want: `binary "nope" is not a binary of ` + filepath.Join("testdata", "workspace") + ": it has api, worker"},
		{name: "autobins false hides src/bin", in: input{"noautobins", "hidden"}, want: `binary "hidden" is not a binary of ` + filepath.Join("testdata", "noautobins") + ": it has shown"},
		{name: "library only", in: input{"library", "helpers"}, want: `binary "helpers" is not a binary of ` + filepath.Join("testdata", "library") + ": it has no binaries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckBinary(filepath.Join("testdata", tt.in.dir), tt.in.binary)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckBinary(%q, %q) = %v, want nil", tt.in.dir, tt.in.binary, err)
			case tt.want != "" && err == nil:
				t.Errorf("CheckBinary(%q, %q) = nil, want %q", tt.in.dir, tt.in.binary, tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("CheckBinary(%q, %q) = %q, want %q", tt.in.dir, tt.in.binary, err, tt.want)
			}
		})
	}
}

func TestCheckBinaryListsExisting(t *testing.T) {
	t.Parallel()
	err := CheckBinary(filepath.Join("testdata", "rootpkg"), "nope")
	if err == nil {
		t.Fatal("CheckBinary(rootpkg, nope) = nil, want an error")
	}
	for _, bin := range []string{`"nope"`, "admin", "app", "gen", "gen-docs"} {
		if !strings.Contains(err.Error(), bin) {
			t.Errorf("error %q does not mention %s", err, bin)
		}
	}
}

func TestCheckBinaryNoManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := CheckBinary(dir, "app")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("CheckBinary(empty dir) = %v, want an error wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "no Cargo.toml in "+dir) {
		t.Errorf("error %q does not say that %s has no Cargo.toml", err, dir)
	}
}

func TestOwnNames(t *testing.T) {
	t.Parallel()
	got, err := ownNames(filepath.Join("..", "..", "testdata", "crates", "workspace"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"api", "worker"}
	if !slices.Equal(got, want) {
		t.Errorf("OwnNames = %v, want %v", got, want)
	}
}

func TestManifests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir  string
		want []string
	}{
		{"rootpkg", []string{"Cargo.toml", "libs/core/Cargo.toml", "tools/gen/Cargo.toml"}},
		{"single", []string{"Cargo.toml"}},
	}
	for _, tc := range tests {
		got, err := manifests(filepath.Join("testdata", tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Manifests(%s) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

// ownNames and manifests read the workspace at dir and ask it.
func ownNames(dir string) ([]string, error) {
	w, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return w.OwnNames()
}

func manifests(dir string) ([]string, error) {
	w, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return w.Manifests()
}
