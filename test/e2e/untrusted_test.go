package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/builder"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
)

// A cache entry is untrusted input: one that would write outside its destination
// is refused with a warning, the build goes on cold, and nothing outside changes.
func TestHostileCacheEntry(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []struct {
		name    string
		entries []*tar.Header
	}{
		{"dotdot", []*tar.Header{{Name: "target/../../../canary/pwned", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644}}},
		{"absolute", []*tar.Header{{Name: "/tmp/pwned-by-cache", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644}}},
		{"symlink out, then a file through it", []*tar.Header{
			{Name: "target/out", Typeflag: tar.TypeSymlink, Linkname: "../../../canary"},
			{Name: "target/out/pwned", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644},
		}},
		{"hard link out", []*tar.Header{{Name: "target/passwd", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}},
		{"device", []*tar.Header{{Name: "target/mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1, Mode: 0o666}}},
	}
	b, err := docker.ImageInspect(context.Background(), builderImage)
	if err != nil {
		t.Fatal(err)
	}
	id, err := builder.Identify(context.Background(), docker, builderImage)
	if err != nil {
		t.Fatal(err)
	}
	// A key the build falls back to: same scope (the source's, of the default
	// branch), prefix, binary, target and toolchain.
	const repoURL = "https://example.com/o/hostile"
	key := cache.Primary(cache.EntryTarget, cache.KeyParts{
		Scopes: []string{cache.Scope(repoURL, "")},
		Prefix: "hostile", Binary: "hello", Target: b.Config.Labels["io.rust-s2i.target"],
		Rustc: id.Release(), Toolchain: id.Key(), Settings: "planted",
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runnerTemp := t.TempDir()
			canary := filepath.Join(runnerTemp, "canary")
			if err := os.Mkdir(canary, 0o755); err != nil {
				t.Fatal(err)
			}
			cacheDir := t.TempDir()
			store, err := local.New(cacheDir, 0)
			if err != nil {
				t.Fatal(err)
			}
			var raw bytes.Buffer
			zw, _ := archive.Compress(&raw)
			tw := tar.NewWriter(zw)
			for _, h := range tc.entries {
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				if h.Size > 0 {
					tw.Write([]byte("pwned"))
				}
			}
			tw.Close()
			zw.Close()
			if err := store.Save(context.Background(), key, bytes.NewReader(raw.Bytes())); err != nil {
				t.Fatal(err)
			}

			final, tmp := names(t)
			r := runCmd(t, append(ciEnv(repoURL), "RUNNER_TEMP="+runnerTemp), buildArgs(crate("hello"), "hello", final, tmp,
				"--cache", "local", "--cache-dir", cacheDir, "--cache-key-prefix", "hostile")...)
			if r.code != 0 {
				t.Fatalf("a hostile cache entry failed the build:\n%s", r)
			}
			if !strings.Contains(r.stderr, "warning: cache entry target not restored") || !strings.Contains(r.stderr, "unsafe entry") {
				t.Errorf("no warning refusing the entry:\n%s", r.stderr)
			}
			if left, _ := os.ReadDir(canary); len(left) != 0 {
				t.Errorf("the entry wrote outside its destination: %v", left)
			}
			if _, err := os.Stat("/tmp/pwned-by-cache"); err == nil {
				t.Error("the entry wrote an absolute path")
			}
			// The canary, and the SBOM output, which stays for the job's later steps.
			left, _ := os.ReadDir(runnerTemp)
			left = slices.DeleteFunc(left, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "rust-s2i-sbom-") })
			if len(left) != 1 {
				t.Errorf("staging files left in RUNNER_TEMP: %v", left)
			}
			if got := runImage(t, final); !strings.Contains(got, "Hello, world!") {
				t.Errorf("image printed %q", got)
			}
		})
	}
}
