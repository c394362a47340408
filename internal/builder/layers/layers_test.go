package layers

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// partName is the name of the part Parts puts name in.
func partName(t *testing.T, parts []Part, name string) string {
	t.Helper()
	m, err := newMatcher(parts)
	if err != nil {
		t.Fatal(err)
	}
	return parts[m.part(name)].Name
}

// The builder's table puts each kind of file in its part, the most specific
// rule winning over its ancestors', and anything unclaimed in system.
func TestPartsOfTheBuilder(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"bin/sh", "system"},
		{"usr", "system"},
		{"usr/lib", "system"},
		{"usr/lib/x86_64-linux-gnu/libc.so.6", "system"},
		{"etc/ssl/certs/ca-certificates.crt", "system"},
		{"usr/lib/gcc/x86_64-linux-gnu/12/cc1", "c-toolchain"},
		{"usr/libexec/gcc/aarch64-linux-gnu/12/cc1", "c-toolchain"},
		{"usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a", "c-toolchain"},
		{"usr/aarch64-linux-gnu/lib/libc.a", "c-toolchain"},
		{"usr/lib/aarch64-linux-musl/libc.a", "c-toolchain"},
		{"usr/lib/musl/bin/musl-gcc", "c-toolchain"},
		{"usr/include/stdio.h", "c-toolchain"},
		{"usr/bin/mold", "c-toolchain"},
		{"usr/bin/aarch64-linux-gnu-gcc-12", "c-toolchain"},
		{"usr/bin/x86_64-linux-musl-gcc", "c-toolchain"},
		{"usr/local/musl", "c-libraries"},
		{"usr/local/musl/aarch64-unknown-linux-musl/lib/libssl.a", "c-libraries"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc", "rust"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/librustc_driver-1a2b.so", "rust"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib", "rust"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library", "rust"},
		{"usr/local/cargo/bin/cargo", "rust"},
		{"usr/bin/rustc", "rust"},
		{"usr/lib/x86_64-linux-gnu/librustc_driver-9f.so", "rust"},
		{"usr/lib/x86_64-linux-gnu/libLLVM-16.so.1", "rust"},
		{"usr/lib/x86_64-linux-gnu/libstd-4d1c.so", "rust"},
		{"usr/lib/rustlib/etc/gdb_load_rust_pretty_printers.py", "rust"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd-1.rlib", "std-host"},
		{"usr/local/rustup/toolchains/1.85.0-aarch64-unknown-linux-gnu/lib/rustlib/aarch64-unknown-linux-gnu", "std-host"},
		{"usr/lib/rustlib/x86_64-unknown-linux-gnu/lib/libcore-1.rlib", "std-host"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-musl/lib/self-contained/crt1.o", "std-x86_64-musl"},
		{"usr/lib/rustlib/x86_64-unknown-linux-musl/lib/libstd-2.rlib", "std-x86_64-musl"},
		{"usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/aarch64-unknown-linux-musl/lib/libstd-3.rlib", "std-aarch64-musl"},
		{"usr/libexec/s2i/assemble", "s2i"},
		{"opt/app-root/cargo/config.toml", "s2i"},
		{"var/lib/dpkg/status", "s2i"},
		{"etc/shadow", "s2i"},
		// Not an ancestor: a sibling whose name starts alike.
		{"usr/local/musl-other/x", "system"},
		{"usr/includes/x", "system"},
	}
	parts := Parts()
	for _, tc := range tests {
		if got := partName(t, parts, tc.path); got != tc.want {
			t.Errorf("%s is in %s, want %s", tc.path, got, tc.want)
		}
	}
}

// A path takes the part of the deepest glob that matches it or an ancestor; at
// one depth the glob of fewer wildcards; then the table's order. Globs match whole
// path elements.
func TestMostSpecificRuleWins(t *testing.T) {
	t.Parallel()
	parts := []Part{
		{Name: "first"},
		{Name: "wide", Globs: []string{"a", "a/*/c", "x/*"}},
		{Name: "narrow", Globs: []string{"a/b", "a/b/c/d", "x/y"}},
		{Name: "late", Globs: []string{"x/y"}},
	}
	tests := []struct{ path, want string }{
		{"a", "wide"},
		{"a/z", "wide"},
		{"a/b", "narrow"},
		{"a/b/c", "wide"},       // a/*/c is deeper than a/b
		{"a/b/c/d/e", "narrow"}, // a/b/c/d deeper still
		{"a/q/c/e", "wide"},
		{"x/y/z", "narrow"}, // x/y has no wildcard; before late's x/y in the table
		{"x/w", "wide"},
		{"ab", "first"},
		{"b/a", "first"},
	}
	for _, tc := range tests {
		if got := partName(t, parts, tc.path); got != tc.want {
			t.Errorf("%s is in %s, want %s", tc.path, got, tc.want)
		}
	}
}

func TestBadGlobs(t *testing.T) {
	t.Parallel()
	for _, g := range []string{"usr/[", "/usr", "usr/", "", "usr//lib", "usr/../etc"} {
		if _, err := newMatcher([]Part{{Name: "p", Globs: []string{g}}}); err == nil {
			t.Errorf("glob %q accepted", g)
		}
	}
	if _, err := newMatcher(Parts()); err != nil {
		t.Errorf("the builder's table: %v", err)
	}
}

// entry is a tar entry of a test filesystem.
type entry struct {
	name     string
	typ      byte
	body     string
	link     string
	mtime    time.Time
	pax      map[string]string
	mode     int64
	uid, gid int
}

// export is a tar of the entries, as a container's export writes one.
func export(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.body)), Mode: cmpOr(e.mode, 0o644), Uid: e.uid, Gid: e.gid, ModTime: e.mtime, PAXRecords: e.pax}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if e.pax != nil {
			h.Format = tar.FormatPAX
			if _, ok := e.pax["atime"]; ok {
				h.AccessTime = e.mtime.Add(time.Hour)
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cmpOr(v, def int64) int64 {
	if v != 0 {
		return v
	}
	return def
}

// builderFS is a small builder filesystem, its times at now.
func builderFS(now time.Time) []entry {
	old := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) // before Epoch: kept
	return []entry{
		{name: ".dockerenv", typ: tar.TypeReg, mtime: now},
		{name: "bin/", typ: tar.TypeDir, mtime: now},
		{name: "bin/sh", typ: tar.TypeReg, body: "#!sh", mtime: old, mode: 0o755},
		{name: "usr/", typ: tar.TypeDir, mtime: now},
		{name: "usr/bin/", typ: tar.TypeDir, mtime: now},
		{name: "usr/bin/ping", typ: tar.TypeReg, body: "ping", mtime: now, pax: map[string]string{"SCHILY.xattr.security.capability": "\x01cap", "atime": "1"}},
		{name: "usr/local/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/musl/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/musl/lib/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/musl/lib/libz.a", typ: tar.TypeReg, body: strings.Repeat("z", 1000), mtime: now},
		// A hard link outside c-libraries to a file in it: goes with its target.
		{name: "usr/bin/libz-copy", typ: tar.TypeLink, link: "usr/local/musl/lib/libz.a", mtime: now},
		{name: "usr/local/rustup/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/rustup/toolchains/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/rustup/toolchains/s/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/rustup/toolchains/s/bin/", typ: tar.TypeDir, mtime: now},
		{name: "usr/local/rustup/toolchains/s/bin/rustc", typ: tar.TypeReg, body: "rustc", mtime: now, mode: 0o755},
		{name: "usr/local/rustup/toolchains/s/lib/rustlib/x86_64-unknown-linux-musl/lib/libstd.rlib", typ: tar.TypeReg, body: "std", mtime: now},
		{name: "usr/local/cargo/bin/cargo", typ: tar.TypeReg, body: "proxy", mtime: now, mode: 0o755},
		{name: "usr/local/cargo/bin/rustc", typ: tar.TypeLink, link: "usr/local/cargo/bin/cargo", mtime: now},
		{name: "usr/local/rustup/toolchains/s/bin/rust-gdb", typ: tar.TypeSymlink, link: "rustc", mtime: now},
		{name: "usr/libexec/s2i/assemble", typ: tar.TypeReg, body: "#!/bin/sh", mtime: now, mode: 0o755},
		{name: "opt/app-root/", typ: tar.TypeDir, mtime: now, uid: 1001},
	}
}

// read is the entries of a compressed layer file, by name, with their bodies.
func read(t *testing.T, path string, zst bool) ([]*tar.Header, map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader
	if zst {
		d, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r = d
	} else {
		g, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = g
	}
	tr := tar.NewReader(r)
	var hs []*tar.Header
	bodies := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		hs = append(hs, h)
		bodies[h.Name] = string(b)
	}
}

func splitTest(t *testing.T, fs []byte) *Set {
	t.Helper()
	s, err := Split(context.Background(), bytes.NewReader(fs), Parts(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Split keeps the parts' order and drops the empty ones, puts each entry in its
// part in the export's order, a hard link in its target's part, drops .dockerenv,
// clamps the times and keeps the extended attributes.
func TestSplit(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := splitTest(t, export(t, builderFS(now)))
	want := map[string][]string{
		"system":          {"bin/", "bin/sh", "usr/", "usr/bin/", "usr/bin/ping", "usr/local/"},
		"c-libraries":     {"usr/local/musl/", "usr/local/musl/lib/", "usr/local/musl/lib/libz.a", "usr/bin/libz-copy"},
		"rust":            {"usr/local/rustup/", "usr/local/rustup/toolchains/", "usr/local/rustup/toolchains/s/", "usr/local/rustup/toolchains/s/bin/", "usr/local/rustup/toolchains/s/bin/rustc", "usr/local/cargo/bin/cargo", "usr/local/cargo/bin/rustc", "usr/local/rustup/toolchains/s/bin/rust-gdb"},
		"std-x86_64-musl": {"usr/local/rustup/toolchains/s/lib/rustlib/x86_64-unknown-linux-musl/lib/libstd.rlib"},
		"s2i":             {"usr/libexec/s2i/assemble", "opt/app-root/"},
	}
	var order []string
	for _, l := range s.Layers {
		order = append(order, l.Part)
	}
	if wantOrder := []string{"system", "c-libraries", "rust", "std-x86_64-musl", "s2i"}; !slices.Equal(order, wantOrder) {
		t.Fatalf("parts %q, want %q (in the table's order, the empty ones left out)", order, wantOrder)
	}
	for _, l := range s.Layers {
		for _, zst := range []bool{false, true} {
			blob := map[bool]Blob{false: l.Gzip, true: l.Zstd}[zst]
			if got := fileDigest(t, blob.Path, false, zst); got != blob.Digest {
				t.Errorf("%s (zstd %v): recorded digest %s, the file's %s", l.Part, zst, blob.Digest, got)
			}
			if got := fileDigest(t, blob.Path, true, zst); got != l.DiffID {
				t.Errorf("%s (zstd %v): recorded diff ID %s, the tar's %s", l.Part, zst, l.DiffID, got)
			}
			hs, bodies := read(t, blob.Path, zst)
			var names []string
			for _, h := range hs {
				names = append(names, h.Name)
				if h.ModTime.After(Epoch()) {
					t.Errorf("%s: mtime %s, after %s", h.Name, h.ModTime, Epoch())
				}
				if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
					t.Errorf("%s: kept atime %s, ctime %s", h.Name, h.AccessTime, h.ChangeTime)
				}
			}
			if !slices.Equal(names, want[l.Part]) {
				t.Errorf("%s (zstd %v): %q, want %q", l.Part, zst, names, want[l.Part])
			}
			if l.Part != "system" {
				continue
			}
			for _, h := range hs {
				switch h.Name {
				case "bin/sh":
					if !h.ModTime.Equal(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)) || h.Mode != 0o755 || bodies[h.Name] != "#!sh" {
						t.Errorf("bin/sh: mtime %s mode %o body %q, want what the export had (older than the epoch)", h.ModTime, h.Mode, bodies[h.Name])
					}
				case "usr/bin/ping":
					if h.PAXRecords["SCHILY.xattr.security.capability"] != "\x01cap" {
						t.Errorf("usr/bin/ping lost its capability: %q", h.PAXRecords)
					}
				}
			}
		}
	}
	rust := s.Layers[2]
	if rust.Files != 4 || rust.Bytes != int64(len("rustc")+len("proxy")) {
		t.Errorf("rust: %d files of %d bytes, want 4 of %d", rust.Files, rust.Bytes, len("rustc")+len("proxy"))
	}
	if rust.Gzip.Size == 0 || rust.Zstd.Size == 0 {
		t.Errorf("rust: compressed sizes %d and %d", rust.Gzip.Size, rust.Zstd.Size)
	}
	if fs, _ := filepath.Glob(filepath.Join(s.dir, "*.tar")); len(fs) != 0 {
		t.Errorf("uncompressed parts left behind: %q", fs)
	}
	dir := s.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s: %v", dir, err)
	}
}

// A hard link whose target came before it nowhere cannot be placed: its layer
// would not extract.
func TestSplitDanglingHardLink(t *testing.T) {
	t.Parallel()
	fs := export(t, []entry{{name: "usr/bin/a", typ: tar.TypeLink, link: "usr/bin/b"}})
	tmp := t.TempDir()
	_, err := Split(context.Background(), bytes.NewReader(fs), Parts(), tmp)
	if err == nil || !strings.Contains(err.Error(), "usr/bin/b") {
		t.Fatalf("Split = %v, want an error naming the target", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("a failed Split left %d files", len(left))
	}
}

// The same filesystem built again, at another time, is the same layers and the
// same image, in either compression: a rebuilt step whose files did not change
// costs no pull.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	now := time.Now()
	a := splitTest(t, export(t, builderFS(now)))
	b := splitTest(t, export(t, builderFS(now.Add(36*time.Hour))))
	for _, c := range []compression.Compression{compression.GZip, compression.ZStd} {
		ia, err := a.Image(v1.ConfigFile{OS: "linux", Architecture: "amd64"}, c)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := b.Image(v1.ConfigFile{OS: "linux", Architecture: "amd64"}, c)
		if err != nil {
			t.Fatal(err)
		}
		la, _ := ia.Layers()
		lb, _ := ib.Layers()
		for i := range la {
			da, _ := la[i].Digest()
			db, _ := lb[i].Digest()
			if da != db {
				t.Errorf("%s layer %d (%s): digests %s and %s", c, i, a.Layers[i].Part, da, db)
			}
		}
		da, _ := ia.Digest()
		db, _ := ib.Digest()
		if da != db {
			t.Errorf("%s: image digests %s and %s", c, da, db)
		}
	}
}

// The image has the original's config, Epoch for its times, a history entry per
// part; gzip is a Docker image of gzip layers, zstd an OCI one of zstd layers,
// and both have the same diff IDs.
func TestImage(t *testing.T) {
	t.Parallel()
	s := splitTest(t, export(t, builderFS(time.Now())))
	base := v1.ConfigFile{
		OS: "linux", Architecture: "arm64", Variant: "v8",
		Created: v1.Time{Time: time.Now()},
		Config: v1.Config{
			Env:          []string{"HOME=/opt/app-root", "PATH=/usr/local/cargo/bin:/usr/bin"},
			Labels:       map[string]string{"io.rust-s2i.target": "aarch64-unknown-linux-musl"},
			User:         "1001",
			WorkingDir:   "/opt/app-root",
			Cmd:          []string{"/usr/libexec/s2i/usage"},
			Entrypoint:   []string{"/bin/sh", "-c"},
			ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			Volumes:      map[string]struct{}{"/data": {}},
			Hostname:     "buildkitsandbox",
		},
	}
	wantConfig := base.Config
	wantConfig.Hostname = ""
	diffIDs := map[compression.Compression][]v1.Hash{}
	for _, tc := range []struct {
		c                    compression.Compression
		manifest, cfg, layer types.MediaType
	}{
		{compression.GZip, types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer},
		{compression.ZStd, types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayerZStd},
	} {
		img, err := s.Image(base, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != tc.manifest || m.Config.MediaType != tc.cfg {
			t.Errorf("%s: manifest %s, config %s; want %s, %s", tc.c, m.MediaType, m.Config.MediaType, tc.manifest, tc.cfg)
		}
		if len(m.Layers) != len(s.Layers) {
			t.Fatalf("%s: %d layers, want %d", tc.c, len(m.Layers), len(s.Layers))
		}
		for i, l := range m.Layers {
			if l.MediaType != tc.layer {
				t.Errorf("%s: layer %d is %s, want %s", tc.c, i, l.MediaType, tc.layer)
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cf.Config, wantConfig) {
			t.Errorf("%s: config %+v, want %+v", tc.c, cf.Config, wantConfig)
		}
		if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Variant != "v8" || !cf.Created.Equal(Epoch()) {
			t.Errorf("%s: %s/%s/%s created %s", tc.c, cf.OS, cf.Architecture, cf.Variant, cf.Created)
		}
		if len(cf.History) != len(s.Layers) {
			t.Fatalf("%s: %d history entries, want %d", tc.c, len(cf.History), len(s.Layers))
		}
		for i, h := range cf.History {
			if want := "rust-s2i-musl builder: part " + s.Layers[i].Part; h.CreatedBy != want || !h.Created.Equal(Epoch()) {
				t.Errorf("%s: history %d: %q at %s, want %q", tc.c, i, h.CreatedBy, h.Created, want)
			}
		}
		diffIDs[tc.c] = cf.RootFS.DiffIDs
	}
	if !slices.Equal(diffIDs[compression.GZip], diffIDs[compression.ZStd]) {
		t.Errorf("diff IDs differ: gzip %v, zstd %v", diffIDs[compression.GZip], diffIDs[compression.ZStd])
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := WriteTable(&buf, []Layer{
		{Part: "system", Files: 10, Bytes: 3 << 20, Gzip: Blob{Size: 1 << 20}, Zstd: Blob{Size: 900 << 10}},
		{Part: "rust", Files: 5, Bytes: 1 << 30, Gzip: Blob{Size: 300 << 20}, Zstd: Blob{Size: 250 << 20}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "| part") {
		t.Fatalf("table:\n%s", buf.String())
	}
	for _, want := range []string{"| system", "3.0 MiB", "1.0 GiB", "900.0 KiB", "| total", "| 15 ", "250.9 MiB", "301.0 MiB"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

// fileDigest is the digest of the file at p, or of what it decompresses to
// (zstd when zst, else gzip).
func fileDigest(t *testing.T, p string, uncompressed, zst bool) v1.Hash {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case uncompressed && zst:
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	case uncompressed:
		gr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gr
	}
	h, _, err := v1.SHA256(r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
