package s2i

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openshift/source-to-image/pkg/api"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Config(Request{
		Source: t.TempDir(), Copy: true, Builder: "b:1", Tag: "x-tmp",
		Env: []string{"BINARY=x", "A=b=c"}, Network: "none", Endpoint: "unix:///var/run/docker.sock",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ExcludeRegExp != "" {
		t.Errorf("ExcludeRegExp = %q: it must exclude nothing, or cargo's git checkouts lose .git", cfg.ExcludeRegExp)
	}
	for name, p := range map[string]api.PullPolicy{"builder": cfg.BuilderPullPolicy, "previous": cfg.PreviousImagePullPolicy, "runtime": cfg.RuntimeImagePullPolicy} {
		if p != api.PullNever {
			t.Errorf("%s pull policy %q, want never", name, p)
		}
	}
	if !cfg.ForceCopy || cfg.Incremental {
		t.Errorf("ForceCopy %v, Incremental %v: want a copy, and never S2I's incremental path (its save-artifacts untars on the host)", cfg.ForceCopy, cfg.Incremental)
	}
	if cfg.DockerNetworkMode != "none" {
		t.Errorf("network %q, want none (set past S2I's validation)", cfg.DockerNetworkMode)
	}
	if got := cfg.Environment[1]; got.Name != "A" || got.Value != "b=c" {
		t.Errorf("env %+v: the value keeps its =", got)
	}
	if _, err := Config(Request{Source: t.TempDir()}); err == nil {
		t.Error("a request without builder or endpoint was accepted")
	}
}

// placeTree leaves out target/, keeps modification times and symbolic links.
func TestPlaceTree(t *testing.T) {
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
	if err := placeTree(src, dst); err != nil {
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
