package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// copyAll runs the tar stream in through a Copier for dir, and returns its error
// and what it passed on, closed as a caller that discards it would not: so that
// the test can extract it and see that even the part passed on before a refusal
// stays in place.
func copyAll(t *testing.T, in []byte, dir string) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	err := NewCopier(tw, Owner{UID: 1001, GID: 0}).Copy(bytes.NewReader(in), dir)
	if cerr := tw.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	return out.Bytes(), err
}

// Every archive extract refuses, the Copier refuses too; what it passed on before
// the refusal extracts without anything landing outside.
func TestCopierRefusesEscapes(t *testing.T) {
	t.Parallel()
	for _, h := range hostileArchives() {
		if h.setup != nil {
			continue // state planted in a destination: a Copier has none, the daemon's container is fresh
		}
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			before := sb.outside(t)
			ents, _ := h.build(sb)
			out, err := copyAll(t, tarball(t, ents...), ".")
			if !errors.Is(err, errUnsafe) {
				t.Fatalf("Copy = %v, want errUnsafe", err)
			}
			if err := extract(bytes.NewReader(out), sb.dest, Limits{}); err != nil {
				t.Errorf("what was passed on before the refusal does not extract: %v", err)
			}
			sb.checkContained(t, before)
		})
	}
}

// A stream's entries must be below the directory it is of, and no name may come
// twice: the daemon would replace the first, which the checks relied on.
func TestCopierStreamRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  string
		ents []ent
		ok   bool
	}{
		{"state below its dir", "cargo/registry", []ent{{name: "registry/", typ: tar.TypeDir}, {name: "registry/index/x", body: "x"}}, true},
		{"outside its dir", "cargo/registry", []ent{{name: "git/db/x", body: "x"}}, false},
		{"the parent itself", "cargo/registry", []ent{{name: ".", typ: tar.TypeSymlink, link: "registry"}}, false},
		{"link within the root", "target", []ent{{name: "target/a", body: "x"}, {name: "target/b", typ: tar.TypeSymlink, link: "a"}}, true},
		{"link up and out of its dir, still in the root", "cargo/registry", []ent{{name: "registry/up", typ: tar.TypeSymlink, link: "../git"}}, true},
		{"link above the root", "cargo/registry", []ent{{name: "registry/up", typ: tar.TypeSymlink, link: "../../.."}}, false},
		{"the brief's escape", "cargo/registry", []ent{
			{name: "registry/esc", typ: tar.TypeSymlink, link: "/abs/dir"},
			{name: "registry/esc/planted/x", body: "x"},
		}, false},
		{"a file twice", "target", []ent{{name: "target/f", body: "x"}, {name: "target/f", body: "y"}}, false},
		{"a directory twice", "target", []ent{{name: "target/d/", typ: tar.TypeDir}, {name: "target/d/", typ: tar.TypeDir}}, true},
		{"hard link to a file passed on", "target", []ent{{name: "target/f", body: "x"}, {name: "target/h", typ: tar.TypeLink, link: "target/f"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := copyAll(t, tarball(t, tc.ents...), tc.dir)
			if tc.ok && err != nil {
				t.Errorf("Copy = %v, want it passed on", err)
			}
			if !tc.ok && !errors.Is(err, errUnsafe) {
				t.Errorf("Copy = %v, want errUnsafe", err)
			}
		})
	}
}

// What passes is rewritten: the Copier's owner, permission bits only, no PAX
// records, and the parents a stream leaves implicit made explicit directories.
func TestCopierRewrites(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	hdr := &tar.Header{Name: "registry/bin", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 0, Size: 1, ModTime: mtime,
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "x"}, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("x"))
	tw.Close()
	out, err := copyAll(t, in.Bytes(), "cargo/registry")
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(out))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 1001 || h.Gid != 0 || h.Mode&^0o777 != 0 || len(h.PAXRecords) != 0 && h.PAXRecords["SCHILY.xattr.security.capability"] != "" {
			t.Errorf("%s: uid %d gid %d mode %o pax %v", h.Name, h.Uid, h.Gid, h.Mode, h.PAXRecords)
		}
		if h.Name == "cargo/registry/bin" && !h.ModTime.Equal(mtime) {
			t.Errorf("mtime %v, want %v: cargo compares them", h.ModTime, mtime)
		}
	}
	if want := []string{"cargo/", "cargo/registry/", "cargo/registry/bin"}; !slices.Equal(names, want) {
		t.Errorf("passed on %q, want %q", names, want)
	}
}
