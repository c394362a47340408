package tmpimage

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// Split sends each state directory to its entry, filtered as Export filters it
// (the workspace's own artifacts left out of target/, with hard links to them),
// keeps the collected files, and drops the rest (the source, other files in bin/).
func TestSplit(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	add := func(name string, typ byte, body, link string) {
		t.Helper()
		hdr := &tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Size: int64(len(body)), Linkname: link, Uid: 1001}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	add("./", tar.TypeDir, "", "")
	add("./bin/", tar.TypeDir, "", "")
	add("./bin/app", tar.TypeReg, "ELF", "")
	add("./bin/.cargo-ms", tar.TypeReg, "12", "")
	add("./bin/stray", tar.TypeReg, "x", "")
	add("./bin/x86_64-unknown-linux-musl/app", tar.TypeLink, "", "./bin/app")
	add("./cargo/registry/cache/serde.crate", tar.TypeReg, "crate", "")
	add("./src/main.rs", tar.TypeReg, "fn main(){}", "")
	add("./target/release/deps/libserde-0123456789abcdef.rlib", tar.TypeReg, "rlib", "")
	add("./target/release/deps/app-0123456789abcdef", tar.TypeReg, "own", "")
	add("./target/release/app", tar.TypeLink, "", "./target/release/deps/app-0123456789abcdef")
	tw.Close()

	var reg, tgt bytes.Buffer
	s := &Split{Own: []string{"app"}, Collect: CollectedFiles("app", "x86_64-unknown-linux-musl"),
		Entries: map[string]io.Writer{cache.EntryRegistry: &reg, cache.EntryTarget: &tgt}}
	if err := s.Read(&in); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Files["app"]); got != "ELF" {
		t.Errorf("collected binary %q", got)
	}
	if got := string(s.Files["x86_64-unknown-linux-musl/app"]); got != "ELF" {
		t.Errorf("the target's binary, a hard link to the binary, collected as %q", got)
	}
	if _, ok := s.Files["stray"]; ok {
		t.Error("a file in bin/ that is not collected was kept")
	}
	if got, want := files(t, reg.Bytes()), []string{"cargo/registry/cache/serde.crate"}; !slices.Equal(got, want) {
		t.Errorf("registry entry %q, want %q", got, want)
	}
	if got, want := files(t, tgt.Bytes()), []string{"target/release/deps/libserde-0123456789abcdef.rlib"}; !slices.Equal(got, want) {
		t.Errorf("target entry %q, want %q", got, want)
	}
}

// A stream cut short is an error: nothing of it may be saved.
func TestSplitTruncated(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	tw.WriteHeader(&tar.Header{Name: "target/big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1000})
	tw.Write(make([]byte, 1000))
	tw.Close()
	cut := in.Bytes()[:700]
	var tgt bytes.Buffer
	s := &Split{Entries: map[string]io.Writer{cache.EntryTarget: &tgt}}
	if err := s.Read(bytes.NewReader(cut)); err == nil {
		t.Fatal("a truncated stream was read without an error")
	}
}

// files are the names in a tar, directories left out.
func files(t *testing.T, data []byte) []string {
	t.Helper()
	return slices.DeleteFunc(names(t, data), func(n string) bool { return n[len(n)-1] == '/' })
}
