package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzExtract from the test archives")

// ent is one tar entry to build; zero fields get plain defaults.
type ent struct {
	name string
	typ  byte
	body string
	link string
	mode int64
	size int64 // declared size when body is not written (a bomb's header)
}

var mtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// tarball writes ents as a tar stream, byte for byte what a hostile cache could
// send: archive/tar writes names such as "../x" without complaint.
func tarball(t testing.TB, ents ...ent) []byte {
	t.Helper()
	b, err := buildTar(ents)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func buildTar(ents []ent) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{
			Name:     e.name,
			Typeflag: e.typ,
			Linkname: e.link,
			Mode:     e.mode,
			Size:     int64(len(e.body)),
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			hdr.Size = 0
		}
		if e.size != 0 {
			hdr.Size = e.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("header %q: %w", e.name, err)
		}
		if e.size != 0 {
			// The data never comes: the extractor must refuse on the header alone.
			return buf.Bytes(), nil
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			return nil, fmt.Errorf("entry %q: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sandbox is a destination with a sibling canary: whatever an archive does, the
// canary must come out exactly as it went in.
type sandbox struct {
	base, dest, canary string
}

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	base := t.TempDir()
	// Archives may leave read-only directories; make them removable again before
	// TempDir's own cleanup, which was registered first and so runs after this.
	t.Cleanup(func() {
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	sb := sandbox{base: base, dest: filepath.Join(base, "dest"), canary: filepath.Join(base, "canary")}
	for _, d := range []string{sb.dest, sb.canary} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sb.canary, "file"), []byte("canary"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(sb.canary, "file"), sb.canary} {
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return sb
}

// outside describes everything under base but outside dest: names, types, modes,
// times and contents.
func (sb sandbox) outside(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(sb.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == sb.dest {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", p, info.Mode())
		if p != sb.base {
			fmt.Fprintf(&b, " %v", info.ModTime().UnixNano())
		}
		if info.Mode().IsRegular() {
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", c)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkContained fails if anything outside dest changed, or if a symlink in dest
// resolves to a place outside it.
func (sb sandbox) checkContained(t testing.TB, before string) {
	t.Helper()
	if after := sb.outside(t); after != before {
		t.Fatalf("files outside dest changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	realDest, err := filepath.EvalSymlinks(sb.dest)
	if err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(sb.dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if link, _ := os.Readlink(p); link == sb.canary {
			return nil // planted by the test, not extracted: archives cannot make absolute links
		}
		got, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil // dangling, or a loop: points nowhere
		}
		if rel, err := filepath.Rel(realDest, got); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			link, _ := os.Readlink(p)
			t.Errorf("symlink %s -> %q resolves outside dest, to %s", p, link, got)
		}
		return nil
	})
}

func TestExtractBenign(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	before := sb.outside(t)
	archive := tarball(t,
		ent{name: "./", typ: tar.TypeDir, mode: 0o700},
		ent{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		ent{name: "bin/tool", body: "#!/bin/sh\n", mode: 0o755},
		ent{name: "bin/tool2", typ: tar.TypeLink, link: "bin/tool"},
		ent{name: "src/", typ: tar.TypeDir, mode: 0o750},
		ent{name: "src/lib.rs", body: "pub fn f() {}\n"},
		ent{name: "src/link", typ: tar.TypeSymlink, link: "lib.rs"},
		ent{name: "src/deep/er/up", typ: tar.TypeSymlink, link: "../../../bin/tool"},
		ent{name: "src/self", typ: tar.TypeSymlink, link: "."},
		ent{name: "setuid", body: "x", mode: 0o6755},
		ent{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		ent{name: "ro/file", body: "read-only", mode: 0o444},
		ent{name: "dup", body: "first"},
		ent{name: "dup", body: "second"},
	)
	if err := extract(bytes.NewReader(archive), sb.dest, Limits{MaxBytes: 1 << 20, MaxFiles: 100}); err != nil {
		t.Fatalf("extract: %v", err)
	}
	sb.checkContained(t, before)

	files := []struct {
		name, body string
		mode       fs.FileMode
	}{
		{"bin/tool", "#!/bin/sh\n", 0o755},
		{"bin/tool2", "#!/bin/sh\n", 0o755},
		{"src/lib.rs", "pub fn f() {}\n", 0o644},
		{"setuid", "x", 0o755},
		{"ro/file", "read-only", 0o444},
		{"dup", "second", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(sb.dest, f.name)
		info, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		got, _ := os.ReadFile(p)
		if string(got) != f.body || info.Mode() != f.mode || !info.ModTime().Equal(mtime) {
			t.Errorf("%s: %q %v %v, want %q %v %v", f.name, got, info.Mode(), info.ModTime(), f.body, f.mode, mtime)
		}
	}
	dirs := []struct {
		name string
		mode fs.FileMode
	}{{"bin", 0o755}, {"src", 0o750}, {"ro", 0o555}}
	for _, d := range dirs {
		info, err := os.Lstat(filepath.Join(sb.dest, d.name))
		if err != nil || info.Mode() != fs.ModeDir|d.mode || !info.ModTime().Equal(mtime) {
			t.Errorf("dir %s: %v, %v; want mode %v, time %v", d.name, info, err, d.mode, mtime)
		}
	}
	links := map[string]string{"src/link": "lib.rs", "src/deep/er/up": "../../../bin/tool", "src/self": "."}
	for name, want := range links {
		if got, err := os.Readlink(filepath.Join(sb.dest, name)); err != nil || got != want {
			t.Errorf("symlink %s -> %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := os.ReadFile(filepath.Join(sb.dest, "src/deep/er/up")); err != nil || string(got) != "#!/bin/sh\n" {
		t.Errorf("reading through src/deep/er/up: %q, %v", got, err)
	}
	a, _ := os.Stat(filepath.Join(sb.dest, "bin/tool"))
	b, _ := os.Stat(filepath.Join(sb.dest, "bin/tool2"))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Error("bin/tool2 is not a hard link to bin/tool")
	}
	if info, err := os.Stat(sb.dest); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("dest mode changed by a ./ entry: %v, %v", info.Mode(), err)
	}
}

// TestExtractAddDirRoundTrip checks the reader against the project's own writer:
// whatever AddDir saves, extract restores with its modes and times.
func TestExtractAddDirRoundTrip(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	mk := func(name, body string, mode fs.FileMode) {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mk("target/release/app", "ELF", 0o755)
	mk("target/release/.fingerprint/app-123/bin-app", "fp", 0o644)
	mk("registry/src/crate-1.0/Cargo.toml", "[package]", 0o644)
	if err := os.Symlink("Cargo.toml", filepath.Join(src, "registry/src/crate-1.0/manifest")); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			_ = os.Chtimes(p, stamp, stamp)
		}
		return nil
	})

	for _, prefix := range []string{"", "state"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := AddDir(tw, prefix, src, Owner{UID: 1001, GID: 0}); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		sb := newSandbox(t)
		if err := extract(&buf, sb.dest, Limits{}); err != nil {
			t.Fatalf("prefix %q: extract: %v", prefix, err)
		}
		got := filepath.Join(sb.dest, prefix)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if rel == "." && prefix == "" {
				return nil // dest itself: extract leaves its mode and time to the caller
			}
			want, _ := os.Lstat(p)
			have, err := os.Lstat(filepath.Join(got, rel))
			if err != nil {
				t.Errorf("prefix %q: %s: %v", prefix, rel, err)
				return nil
			}
			if have.Mode() != want.Mode() {
				t.Errorf("prefix %q: %s: mode %v, want %v", prefix, rel, have.Mode(), want.Mode())
			}
			if d.Type()&fs.ModeSymlink == 0 && !have.ModTime().Equal(want.ModTime()) {
				t.Errorf("prefix %q: %s: mtime %v, want %v", prefix, rel, have.ModTime(), want.ModTime())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// hostile is one archive that must be refused, with the entry the error must name.
type hostile struct {
	name  string
	ents  []ent
	entry string
	setup func(t *testing.T, sb sandbox) // state planted in dest before extracting
	// absolute, when set, builds the entries from the sandbox's absolute paths.
	absolute func(sb sandbox) []ent
}

func hostileArchives() []hostile {
	return []hostile{
		{name: "dotdot", ents: []ent{{name: "../canary/pwned", body: "x"}}, entry: "../canary/pwned"},
		{name: "dotdot-nested", ents: []ent{{name: "a/b/../../../canary/pwned", body: "x"}}, entry: "a/b/../../../canary/pwned"},
		{name: "dotdot-dir", ents: []ent{{name: "../canary/sub/", typ: tar.TypeDir}}, entry: "../canary/sub/"},
		{name: "absolute", absolute: func(sb sandbox) []ent {
			return []ent{{name: filepath.Join(sb.canary, "pwned"), body: "x"}}
		}},
		{name: "absolute-overwrite", absolute: func(sb sandbox) []ent {
			return []ent{{name: filepath.Join(sb.canary, "file"), body: "pwned"}}
		}},
		{name: "symlink-out", ents: []ent{
			{name: "out", typ: tar.TypeSymlink, link: "../canary"},
			{name: "out/pwned", body: "x"},
		}, entry: "out"},
		{name: "symlink-out-deep", ents: []ent{
			{name: "a/b/out", typ: tar.TypeSymlink, link: "../../../canary"},
			{name: "a/b/out/pwned", body: "x"},
		}, entry: "a/b/out"},
		{name: "symlink-absolute", absolute: func(sb sandbox) []ent {
			return []ent{
				{name: "abs", typ: tar.TypeSymlink, link: sb.canary},
				{name: "abs/pwned", body: "x"},
			}
		}},
		{name: "symlink-absolute-root", ents: []ent{{name: "etc", typ: tar.TypeSymlink, link: "/etc"}}, entry: "etc"},
		{name: "symlink-chain-up", ents: []ent{
			// d/s -> .. is dest itself, allowed; s/.. from d is then dest's parent,
			// though lexically it cleans to d.
			{name: "d/s", typ: tar.TypeSymlink, link: ".."},
			{name: "d/x", typ: tar.TypeSymlink, link: "s/../canary"},
			{name: "d/x/pwned", body: "x"},
		}, entry: "d/x"},
		{name: "write-through-inner-symlink", ents: []ent{
			{name: "real/", typ: tar.TypeDir},
			{name: "alias", typ: tar.TypeSymlink, link: "real"},
			{name: "alias/file", body: "x"},
		}, entry: "alias/file"},
		{name: "dir-through-inner-symlink", ents: []ent{
			{name: "alias", typ: tar.TypeSymlink, link: "."},
			{name: "alias/sub/", typ: tar.TypeDir},
		}, entry: "alias/sub/"},
		{name: "write-through-preexisting-symlink", setup: func(t *testing.T, sb sandbox) {
			if err := os.Symlink(sb.canary, filepath.Join(sb.dest, "pre")); err != nil {
				t.Fatal(err)
			}
		}, ents: []ent{{name: "pre/pwned", body: "x"}}, entry: "pre/pwned"},
		{name: "hardlink-out", ents: []ent{{name: "h", typ: tar.TypeLink, link: "../canary/file"}}, entry: "h"},
		{name: "hardlink-absolute", absolute: func(sb sandbox) []ent {
			return []ent{{name: "h", typ: tar.TypeLink, link: filepath.Join(sb.canary, "file")}}
		}},
		{name: "hardlink-through-symlink", ents: []ent{
			{name: "out", typ: tar.TypeSymlink, link: "."},
			{name: "f", body: "x"},
			{name: "h", typ: tar.TypeLink, link: "out/f"},
		}, entry: "h"},
		{name: "hardlink-to-symlink", ents: []ent{
			{name: "f", body: "x"},
			{name: "f", typ: tar.TypeSymlink, link: "g"},
			{name: "h", typ: tar.TypeLink, link: "f"},
		}, entry: "h"},
		{name: "hardlink-to-preexisting", setup: func(t *testing.T, sb sandbox) {
			if err := os.WriteFile(filepath.Join(sb.dest, "secret"), []byte("s"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ents: []ent{{name: "h", typ: tar.TypeLink, link: "secret"}}, entry: "h"},
		{name: "hardlink-to-dir", ents: []ent{
			{name: "d/", typ: tar.TypeDir},
			{name: "h", typ: tar.TypeLink, link: "d"},
		}, entry: "h"},
		{name: "char-device", ents: []ent{{name: "null", typ: tar.TypeChar}}, entry: "null"},
		{name: "block-device", ents: []ent{{name: "sda", typ: tar.TypeBlock}}, entry: "sda"},
		{name: "fifo", ents: []ent{{name: "pipe", typ: tar.TypeFifo}}, entry: "pipe"},
		{name: "unknown-type", ents: []ent{{name: "cont", typ: tar.TypeCont, body: "x"}}, entry: "cont"},
		{name: "file-over-dir", ents: []ent{
			{name: "d/f", body: "x"},
			{name: "d", body: "x"},
		}, entry: "d"},
		{name: "file-under-file", ents: []ent{
			{name: "f", body: "x"},
			{name: "f/g", body: "x"},
		}, entry: "f/g"},
		{name: "dest-itself", ents: []ent{{name: ".", typ: tar.TypeSymlink, link: "../canary"}}, entry: "."},
		{name: "empty-name", ents: []ent{{name: "", body: "x"}}, entry: ""},
	}
}

// build returns the entries and the name the error must give.
func (h hostile) build(sb sandbox) ([]ent, string) {
	if h.absolute != nil {
		ents := h.absolute(sb)
		return ents, ents[0].name
	}
	return h.ents, h.entry
}

func TestExtractRefusesEscapes(t *testing.T) {
	t.Parallel()
	for _, h := range hostileArchives() {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			if h.setup != nil {
				h.setup(t, sb)
			}
			before := sb.outside(t)
			ents, entry := h.build(sb)
			err := extract(bytes.NewReader(tarball(t, ents...)), sb.dest, Limits{MaxBytes: 1 << 20, MaxFiles: 100})
			if !errors.Is(err, errUnsafe) {
				t.Fatalf("extract = %v, want errUnsafe", err)
			}
			if want := strconv.Quote(entry); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the entry %s", err, want)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error %q starts upper-case", msg)
			}
			sb.checkContained(t, before)
		})
	}
}

func TestExtractReplacesWithoutFollowing(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	before := sb.outside(t)
	archive := tarball(t,
		ent{name: "target", body: "original"},
		ent{name: "s", typ: tar.TypeSymlink, link: "target"},
		ent{name: "s", body: "replacement"}, // replaces the link, not what it points to
		ent{name: "h", typ: tar.TypeLink, link: "target"},
		ent{name: "target", body: "new target"}, // a new file; h keeps the old one
	)
	if err := extract(bytes.NewReader(archive), sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"target": "new target", "s": "replacement", "h": "original"} {
		p := filepath.Join(sb.dest, name)
		info, err := os.Lstat(p)
		got, _ := os.ReadFile(p)
		if err != nil || !info.Mode().IsRegular() || string(got) != want {
			t.Errorf("%s: %q (%v, %v), want regular file %q", name, got, info, err, want)
		}
	}
	sb.checkContained(t, before)

	// A symlink planted in dest beforehand is replaced too, never written through.
	sb = newSandbox(t)
	if err := os.Symlink(filepath.Join(sb.canary, "file"), filepath.Join(sb.dest, "pre")); err != nil {
		t.Fatal(err)
	}
	before = sb.outside(t)
	if err := extract(bytes.NewReader(tarball(t, ent{name: "pre", body: "pwned"})), sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	sb.checkContained(t, before)
}

func TestExtractLimits(t *testing.T) {
	t.Parallel()
	many := make([]ent, 50)
	for i := range many {
		many[i] = ent{name: fmt.Sprintf("f%d", i), body: strings.Repeat("x", 1000)}
	}
	tests := []struct {
		name string
		in   []byte
		lim  Limits
	}{
		{name: "one huge header", in: tarball(t, ent{name: "big", size: 1 << 40}), lim: Limits{MaxBytes: 1 << 20}},
		{name: "files add up", in: tarball(t, many...), lim: Limits{MaxBytes: 20_000}},
		{name: "too many entries", in: tarball(t, many...), lim: Limits{MaxFiles: 10}},
		{name: "too many dirs", in: tarball(t, ent{name: "a/", typ: tar.TypeDir}, ent{name: "b/", typ: tar.TypeDir}), lim: Limits{MaxFiles: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			err := extract(bytes.NewReader(tt.in), sb.dest, tt.lim)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("extract = %v, want ErrLimit", err)
			}
			if tt.lim.MaxBytes > 0 {
				if n := bytesUnder(t, sb.dest); n > tt.lim.MaxBytes {
					t.Errorf("wrote %d bytes, over the %d limit", n, tt.lim.MaxBytes)
				}
			}
		})
	}
}

// TestExtractZstdBomb feeds a compressed archive of a few kilobytes that expands to
// half a gigabyte: it must fail cleanly, quickly and without writing past the limit.
func TestExtractZstdBomb(t *testing.T) {
	t.Parallel()
	var compressed bytes.Buffer
	zw, err := Compress(&compressed)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	// Many files of zeros, each under the limit alone, and then one big one.
	for i := range 32 {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("zeros%d", i), Mode: 0o644, Size: 16 << 20}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(tw, zeroReader{}, 16<<20); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if compressed.Len() > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed; want a small one", compressed.Len())
	}

	sb := newSandbox(t)
	before := sb.outside(t)
	zr, err := Decompress(&compressed)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	const limit = 100 << 20
	err = extract(zr, sb.dest, Limits{MaxBytes: limit, MaxFiles: 1000})
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), `"zeros6"`) {
		t.Fatalf("extract = %v, want ErrLimit at zeros6", err)
	}
	if n := bytesUnder(t, sb.dest); n > limit {
		t.Errorf("wrote %d bytes, over the %d limit", n, limit)
	}
	sb.checkContained(t, before)
}

func TestExtractCorrupt(t *testing.T) {
	t.Parallel()
	good := tarball(t, ent{name: "a", body: strings.Repeat("x", 2000)}, ent{name: "b", body: "y"})
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated in data", good[:1000]},
		{"truncated in header", good[:512+2048+100]},
		{"garbage", bytes.Repeat([]byte("not a tar "), 100)},
		{"bad checksum", func() []byte { b := bytes.Clone(good); b[0] ^= 1; return b }()},
	}
	for _, tt := range tests {
		sb := newSandbox(t)
		if err := extract(bytes.NewReader(tt.in), sb.dest, Limits{}); err == nil {
			t.Errorf("%s: extract succeeded", tt.name)
		}
	}
	if err := extract(bytes.NewReader(nil), newSandbox(t).dest, Limits{}); err != nil {
		t.Errorf("empty stream: %v", err)
	}
	if err := extract(bytes.NewReader(good), filepath.Join(t.TempDir(), "missing"), Limits{}); err == nil {
		t.Error("extract into a missing dest succeeded")
	}
}

func TestCheckSymlink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target string
		ok           bool
	}{
		{"l", "f", true},
		{"l", ".", true},
		{"l", "./a/./b/", true},
		{"a/l", "..", true},
		{"a/b/l", "../../x/y", true},
		{"a/b/l", "../../../x", false},
		{"l", "..", false},
		{"l", "../dest/x", false}, // even if it would come back: dest's name is not ours to know
		{"a/l", "x/..", false},
		{"a/l", "x/../..", false},
		{"l", "/etc/passwd", false},
		{"l", "", false},
	}
	for _, tt := range tests {
		err := checkSymlink(tt.name, tt.target)
		if (err == nil) != tt.ok {
			t.Errorf("checkSymlink(%q, %q) = %v, want ok %v", tt.name, tt.target, err, tt.ok)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a", "a"},
		{"./a/b/", "a/b"},
		{"a//b/./c", "a/b/c"},
		{"./", "."},
		{"..", ""},
		{"a/..", ""},
		{"a/../b", ""},
		{"/a", ""},
		{"", ""},
		{"a\x00b", ""},
		{strings.Repeat("a/", maxName), ""},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		if tt.want == "" && err == nil || tt.want != "" && got != tt.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func bytesUnder(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// fixChecksums rewrites the checksum of every block the tar reader would take as a
// header. Without it nearly every mutation the fuzzer makes to a header is rejected
// by the checksum, and the extractor's own checks are never reached.
func fixChecksums(in []byte) []byte {
	b := bytes.Clone(in)
	for off := 0; off+512 <= len(b); {
		h := b[off : off+512]
		if bytes.Count(h, []byte{0}) == 512 {
			off += 512
			continue
		}
		copy(h[148:156], "        ")
		sum := 0
		for _, c := range h {
			sum += int(c)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
		size, err := strconv.ParseInt(strings.Trim(string(h[124:136]), " \x00"), 8, 64)
		if err != nil || size < 0 || size > int64(len(b)) {
			size = 0
		}
		off += 512 + int((size+511)/512*512)
	}
	return b
}

// canaryToken in a fuzz script stands for the canary's absolute path, which differs
// on every run; with it, absolute names and links can aim at the canary.
const canaryToken = "$CANARY"

// decodeScript reads the compact form FuzzExtract also takes its input as: one
// entry per line, "T name|link|body|mode|size", T the tar type byte, mode octal,
// size the declared size of a body that never comes. Inputs of a few dozen bytes
// reach every branch of the extractor and are quick to mutate and minimize, which
// whole tar blocks are not.
func decodeScript(data []byte, canary string) []ent {
	var ents []ent
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line[1:], "|", 5)
		f = append(f, make([]string, 5-len(f))...)
		e := ent{
			typ:  line[0],
			name: strings.ReplaceAll(f[0], canaryToken, canary),
			link: strings.ReplaceAll(f[1], canaryToken, canary),
			body: f[2],
		}
		e.mode, _ = strconv.ParseInt(f[3], 8, 64)
		e.mode &= 0o7777
		e.size, _ = strconv.ParseInt(f[4], 10, 64)
		ents = append(ents, e)
	}
	return ents
}

// encodeScript is decodeScript's inverse, for the seeds.
func encodeScript(ents []ent) []byte {
	var b strings.Builder
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		fmt.Fprintf(&b, "%c%s|%s|%s", typ, e.name, e.link, e.body)
		if e.mode != 0 || e.size != 0 {
			fmt.Fprintf(&b, "|%o", e.mode)
		}
		if e.size != 0 {
			fmt.Fprintf(&b, "|%d", e.size)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// FuzzExtract runs extract on what a hostile cache could send: it must not panic,
// nothing outside dest may change, and no symlink left in dest may resolve outside
// it. Each input is tried as a raw stream, as that stream with its header
// checksums fixed, and as a script (see decodeScript). Each dest starts with a
// symlink "pre" to the canary and a file "secret", as an attacker would like them.
// The seeds are the archives of the tests above (see TestFuzzSeeds).
func FuzzExtract(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func(build func(sb sandbox) []byte) {
			sb := newSandbox(t)
			if err := os.Symlink(sb.canary, filepath.Join(sb.dest, "pre")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sb.dest, "secret"), []byte("s"), 0o600); err != nil {
				t.Fatal(err)
			}
			in := build(sb)
			if in == nil {
				return
			}
			before := sb.outside(t)
			_ = extract(bytes.NewReader(in), sb.dest, Limits{MaxBytes: 1 << 20, MaxFiles: 200})
			sb.checkContained(t, before)
		}
		run(func(sandbox) []byte { return data })
		if fixed := fixChecksums(data); !bytes.Equal(fixed, data) {
			run(func(sandbox) []byte { return fixed })
		}
		run(func(sb sandbox) []byte {
			b, err := buildTar(decodeScript(data, sb.canary))
			if err != nil {
				return nil // not something archive/tar can write; the raw runs cover it
			}
			return b
		})
	})
}

// seeds are the corpus for FuzzExtract: every hostile archive as a script, a benign
// script, and two small raw archives to start the raw mutations from. Raw seeds are
// kept to a block or three: the fuzzer minimizes every new input it finds for up to
// a minute, and on kilobytes of tar that stalls a short run.
func seeds(t testing.TB) map[string][]byte {
	benign := []ent{
		{name: "./", typ: tar.TypeDir},
		{name: "d/", typ: tar.TypeDir, mode: 0o755},
		{name: "d/f", body: "content", mode: 0o755},
		{name: "d/l", typ: tar.TypeSymlink, link: "f"},
		{name: "d/e/up", typ: tar.TypeSymlink, link: "../../d/f"},
		{name: "d/h", typ: tar.TypeLink, link: "d/f"},
	}
	// Raw archives end with zero blocks that only mark the end; dropping them keeps
	// the corpus small, and the reader takes a clean EOF as the end too.
	trim := func(b []byte) []byte { return b[:len(bytes.TrimRight(b, "\x00"))+511&^511] }
	out := map[string][]byte{
		"benign":         encodeScript(benign),
		"big-header":     encodeScript([]ent{{name: "big", size: 1 << 40}}),
		"raw-hardlink":   trim(tarball(t, ent{name: "f", body: "x"}, ent{name: "h", typ: tar.TypeLink, link: "f"})),
		"raw-dotdot-dir": trim(tarball(t, ent{name: "../x/", typ: tar.TypeDir})),
	}
	script := sandbox{canary: canaryToken}
	for _, h := range hostileArchives() {
		ents, _ := h.build(script)
		out[h.name] = encodeScript(ents)
	}
	return out
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzExtract in step with the test archives;
// run with -update-seeds to rewrite it.
func TestFuzzSeeds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzExtract")
	for name, b := range seeds(t) {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		p := filepath.Join(dir, name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzSeeds -update-seeds", p, err)
		}
	}
}

// TestScriptRoundTrip guards the seeds: a script must decode to the entries it
// was made from, or the corpus would not hold the attacks it is named after.
func TestScriptRoundTrip(t *testing.T) {
	t.Parallel()
	for _, h := range hostileArchives() {
		ents, _ := h.build(sandbox{canary: canaryToken})
		got := decodeScript(encodeScript(ents), canaryToken)
		for i := range ents {
			if ents[i].typ == 0 {
				ents[i].typ = tar.TypeReg
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(ents) {
			t.Errorf("%s: decoded %v, want %v", h.name, got, ents)
		}
	}
}
