package source

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestWalk(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, f := range []string{"Cargo.toml", "src/main.rs", "target/release/big", "crates/a/target/keep.rs", ".git/HEAD",
		".s2i/bin/assemble", ".s2i/environment", ".sti/bin/save-artifacts", ".s2iignore", "crates/a/.s2i/kept"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("main.rs", filepath.Join(root, "src/link.rs")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "src/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := Walk(root, func(p, rel string, _ os.FileInfo) error {
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".", ".git", ".git/HEAD", "Cargo.toml", "crates", "crates/a", "crates/a/.s2i", "crates/a/.s2i/kept",
		"crates/a/target", "crates/a/target/keep.rs", "src", "src/link.rs", "src/main.rs"}
	if !slices.Equal(got, want) {
		t.Errorf("visited %q\nwant    %q\n(the root's target/, S2I's conventions at the root and the fifo are no source; a member's target/ is)", got, want)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://x-access-token:ghs_secret@github.com/o/r.git": "https://github.com/o/r.git",
		"https://user@example.com/r.git":                       "https://example.com/r.git",
		"git@github.com:o/r.git":                               "git@github.com:o/r.git",
		"/home/me/src":                                         "/home/me/src",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
