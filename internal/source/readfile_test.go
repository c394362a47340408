package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Cargo.toml", "[package]\n")
	write("big", strings.Repeat("x", 101))
	write("sub/Cargo.toml", "[package]\n")
	links := map[string]string{"zero": "/dev/zero", "out": outside, "in": "Cargo.toml", "up": "../" + filepath.Base(outside), "dirout": filepath.Dir(outside)}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  string
		want string // the content, or the error it wraps
		err  error
	}{
		{"Cargo.toml", "[package]\n", nil},
		{"sub/Cargo.toml", "[package]\n", nil},
		{"big", "", ErrTooLarge},
		{"zero", "", ErrNotRegular}, // a symlink to /dev/zero: not followed, never read
		{"out", "", ErrNotRegular},  // a symlink out of the tree
		{"in", "", ErrNotRegular},   // a symlink inside it is no regular file either
		{"fifo", "", ErrNotRegular}, // would block an open
		{"sub", "", ErrNotRegular},  // a directory
		{"dirout/secret", "", nil},  // through a directory link out of the tree: os.Root refuses
		{"../secret", "", nil},      // a path out of the tree
		{"missing", "", fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.rel, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFile(root, tc.rel, 100)
			switch {
			case tc.want != "":
				if err != nil || string(got) != tc.want {
					t.Errorf("ReadFile = %q, %v; want %q", got, err, tc.want)
				}
			case err == nil:
				t.Errorf("ReadFile = %q, want an error", got)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("ReadFile error %v, want %v", err, tc.err)
			}
			if strings.Contains(string(got), "host secret") {
				t.Error("read a file outside the tree")
			}
		})
	}
}
