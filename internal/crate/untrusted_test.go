package crate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// A source is untrusted: a manifest that is a symbolic link (to /dev/zero, which
// would be read until memory runs out, or to a file outside the tree), or a
// workspace member whose directory leads out of the tree, is refused quickly,
// never read.
func TestManifestsMustBeRegularFilesInTheTree(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "Cargo.toml"), []byte("[package]\nname = \"host\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
	}{
		{"Cargo.toml -> /dev/zero", func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "Cargo.toml")) }, source.ErrNotRegular},
		{"Cargo.toml -> outside", func(t *testing.T, dir string) {
			symlink(t, filepath.Join(outside, "Cargo.toml"), filepath.Join(dir, "Cargo.toml"))
		}, source.ErrNotRegular},
		{"member directory -> outside", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "Cargo.toml"), "[workspace]\nmembers = [\"m\"]\n")
			symlink(t, outside, filepath.Join(dir, "m"))
		}, nil},
		{".cargo/config.toml -> /dev/zero", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "Cargo.toml"), "[package]\nname = \"x\"\n")
			symlink(t, "/dev/zero", filepath.Join(dir, ".cargo", "config.toml"))
		}, source.ErrNotRegular},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.setup(t, dir)
			done := make(chan error, 1)
			go func() {
				_, err := Open(dir)
				if err == nil {
					_, err = Profiles(dir)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("read without error")
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
				if strings.Contains(err.Error(), "host") {
					t.Errorf("error %v shows the file outside", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("still reading after 10s")
			}
		})
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
