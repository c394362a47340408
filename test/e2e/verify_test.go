package e2e

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/test/zstdframe"
)

// A cache entry with one bit flipped in a stored (raw, incompressible) zstd block has
// an intact structure: only the frame checksum at the end of the stream can tell. The
// restore must read up to it, refuse the entry with a warning, and build cold; the
// binary, which prints a hash of the incompressible bytes, is right.
func TestFlippedBitInCacheEntry(t *testing.T) {
	needDocker(t)
	t.Parallel()
	blob := make([]byte, 256<<10)
	_, _ = rand.NewChaCha8([32]byte{'v', 'e', 'r', 'i', 'f', 'y'}).Read(blob)
	h := fnv.New32a()
	h.Write(blob)
	want := fmt.Sprintf("blob %08x", h.Sum32())

	src := withBlobDep(t, blob)
	final, tmp := names(t)
	cacheDir := t.TempDir()
	r := mustBuild(t, src, "verify", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if !strings.Contains(r.stderr, "Compiling blob") {
		t.Fatalf("the first build did not compile the dependency:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, want) {
		t.Fatalf("image printed %q, want %q", got, want)
	}

	entries, err := filepath.Glob(filepath.Join(cacheDir, "k-*target*"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one target entry in %s, got %v (%v)", cacheDir, entries, err)
	}
	data, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	// The entry file is a short header (see internal/cache/local) and the zstd stream.
	start := bytes.Index(data, []byte("\x28\xb5\x2f\xfd"))
	if start < 0 || start > 4096 {
		t.Fatalf("no zstd frame at the start of %s", entries[0])
	}
	blocks, _, err := zstdframe.Blocks(data[start:])
	if err != nil {
		t.Fatalf("%s: %v", entries[0], err)
	}
	var raw zstdframe.Block
	for _, b := range blocks {
		if b.Type == 0 && b.Size > raw.Size {
			raw = b
		}
	}
	if raw.Size < 1024 {
		t.Fatalf("the target entry has no stored block (%d blocks); the blob should have made some", len(blocks))
	}
	at := start + raw.Off + raw.Size/2
	data[at] ^= 0x04
	if err := os.WriteFile(entries[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped bit 2 of byte %d, in a stored block of %d bytes (%d blocks, %d bytes in all)", at, raw.Size, len(blocks), len(data))

	if out, err := command("docker", "rmi", "-f", tmp); err != nil {
		t.Fatalf("removing %s: %v\n%s", tmp, err, out)
	}
	r = mustBuild(t, src, "verify", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if !strings.Contains(r.stderr, "warning: cache entry target not restored") || !strings.Contains(r.stderr, "corrupt archive") {
		t.Errorf("no warning refusing the corrupt target entry:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Compiling blob") {
		t.Errorf("the dependency was not compiled again, so the corrupt entry was used:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, want) {
		t.Errorf("image printed %q, want %q", got, want)
	}
}

// withBlobDep writes a crate, binary "verify", with a path dependency "blob" that
// compiles in blob, incompressible bytes, and the binary prints a hash of them
// (FNV-1a, 32 bits). The dependency is no workspace member, so the target entry
// keeps its artifacts.
func withBlobDep(t *testing.T, blob []byte) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "verify")
	files := map[string]string{
		"Cargo.toml": "[package]\nname = \"verify\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[dependencies]\nblob = { path = \"blob\" }\n",
		"src/main.rs":       "fn main() {\n    println!(\"blob {:08x}\", blob::sum());\n}\n",
		"blob/Cargo.toml":   "[package]\nname = \"blob\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"blob/src/blob.bin": string(blob),
		"blob/src/lib.rs": `static BLOB: &[u8] = include_bytes!("blob.bin");

/// FNV-1a of BLOB, so that every one of its bytes shows in the output.
pub fn sum() -> u32 {
    BLOB.iter().fold(0x811c9dc5u32, |h, &b| (h ^ b as u32).wrapping_mul(0x01000193))
}
`,
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}
