package archive

import (
	"archive/tar"
	"bytes"
	"maps"
	"strings"
	"testing"
)

func TestReadFiles(t *testing.T) {
	t.Parallel()
	stream := tarball(t,
		ent{name: "bin", typ: tar.TypeDir},
		ent{name: "bin/app", body: "ELF"},
		ent{name: "bin/app.d", body: "deps"},
		ent{name: "bin/big", body: "0123456789"},
		ent{name: "bin/link", typ: tar.TypeSymlink, link: "app"},
	)
	for _, tc := range []struct {
		names []string
		want  map[string]string
	}{
		{[]string{"app", "missing", "link"}, map[string]string{"app": "ELF"}},
		{nil, map[string]string{"app": "ELF", "app.d": "deps", "big": "01234"}},
	} {
		got, err := ReadFiles(bytes.NewReader(stream), "bin/", tc.names, 5)
		if err != nil {
			t.Fatal(err)
		}
		str := map[string]string{}
		for k, v := range got {
			str[k] = string(v)
		}
		if !maps.Equal(str, tc.want) {
			t.Errorf("ReadFiles(%q) = %q, want %q", tc.names, str, tc.want)
		}
	}
}

// A hard link to a file read reads as the file; one to a file not read is missing.
func TestReadFilesHardLinks(t *testing.T) {
	t.Parallel()
	stream := tarball(t,
		ent{name: "bin/app", body: "ELF x86"},
		ent{name: "bin/other", body: "not asked for"},
		ent{name: "bin/x86_64/app", typ: tar.TypeLink, link: "bin/app"},
		ent{name: "bin/aarch64/app", body: "ELF arm"},
		ent{name: "bin/to-other", typ: tar.TypeLink, link: "bin/other"},
	)
	got, err := ReadFiles(bytes.NewReader(stream), "bin/", []string{"app", "x86_64/app", "aarch64/app", "to-other"}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	str := map[string]string{}
	for k, v := range got {
		str[k] = string(v)
	}
	want := map[string]string{"app": "ELF x86", "x86_64/app": "ELF x86", "aarch64/app": "ELF arm"}
	if !maps.Equal(str, want) {
		t.Errorf("ReadFiles = %q, want %q", str, want)
	}
}

// A stream cut inside an entry is an error that names the entry.
func TestReadFilesTruncated(t *testing.T) {
	t.Parallel()
	stream := tarball(t, ent{name: "a", body: "x"}, ent{name: "b", body: strings.Repeat("y", 2000)})
	_, err := ReadFiles(bytes.NewReader(stream[:len(stream)-1500]), "", nil, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "reading b") {
		t.Errorf("got %v, want an error at the cut", err)
	}
}
