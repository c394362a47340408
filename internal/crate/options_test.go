package crate

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFeatures(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "options")
	tests := []struct {
		binary string
		want   []string
	}{
		// [features], plus the optional dependencies that no dep:NAME hides, from
		// [dependencies], [target.*.dependencies] and [build-dependencies].
		{"app", []string{"default", "gen", "json", "loud", "nix", "tls"}},
		// A workspace member's binary: that package's features alone.
		{"tool", []string{"fast"}},
	}
	for _, tt := range tests {
		got, err := Features(dir, tt.binary)
		if err != nil {
			t.Fatalf("Features(%q): %v", tt.binary, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Features(%q) = %q, want %q", tt.binary, got, tt.want)
		}
	}
	if got, err := Features(filepath.Join("testdata", "single"), "hello"); err != nil || len(got) != 0 {
		t.Errorf("a package without features: %q, %v", got, err)
	}
	if _, err := Features(dir, "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown binary: %v", err)
	}
	if _, err := Features(filepath.Join("testdata", "broken"), "hello"); err == nil {
		t.Error("broken manifest: want an error")
	}
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	got, err := Profiles(filepath.Join("testdata", "options"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"release":   "",        // Cargo.toml configures a built-in profile
		"small":     "release", // Cargo.toml; .cargo/config.toml adds a key, not inherits
		"ci":        "dev",     // .cargo/config.toml
		"noinherit": "",
	}
	if !maps.Equal(got, want) {
		t.Errorf("Profiles = %v, want %v", got, want)
	}

	if got, err := Profiles(filepath.Join("testdata", "single")); err != nil || len(got) != 0 {
		t.Errorf("no profiles: %v, %v", got, err)
	}

	// The older .cargo/config, and an unparsable config.
	dir := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Cargo.toml", "[package]\nname = \"x\"\n")
	write(".cargo/config", "[profile.old]\ninherits = \"release\"\n")
	if got, err := Profiles(dir); err != nil || !maps.Equal(got, map[string]string{"old": "release"}) {
		t.Errorf(".cargo/config: %v, %v", got, err)
	}
	write(".cargo/config.toml", "[profile.bad\n")
	if _, err := Profiles(dir); err == nil || !strings.Contains(err.Error(), "config.toml") {
		t.Errorf("broken .cargo/config.toml: %v", err)
	}
	if _, err := Profiles(filepath.Join("testdata", "nomanifest")); err == nil {
		t.Error("no Cargo.toml: want an error")
	}
}
