package source

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Place leaves out target/, keeps modification times and symbolic links.
func TestPlace(t *testing.T) {
	t.Parallel()
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "upload")
	for name, data := range map[string]string{"Cargo.toml": "[package]", "src/main.rs": "fn main() {}", "target/release/big": "x"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "src/main.rs"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("main.rs", filepath.Join(src, "src/link.rs")); err != nil {
		t.Fatal(err)
	}
	if err := Place(src, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "target")); !os.IsNotExist(err) {
		t.Errorf("target/ was placed: %v", err)
	}
	st, err := os.Stat(filepath.Join(dst, "src/main.rs"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().Equal(old) {
		t.Errorf("mtime %v, want %v: cargo would rebuild an unchanged file", st.ModTime(), old)
	}
	if link, err := os.Readlink(filepath.Join(dst, "src/link.rs")); err != nil || link != "main.rs" {
		t.Errorf("symlink %q, %v", link, err)
	}
}
