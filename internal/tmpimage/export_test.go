package tmpimage

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"testing"
)

func TestNotOwn(t *testing.T) {
	t.Parallel()
	keep := notOwn([]string{"my-app", "my_app", "helper"})
	tests := []struct {
		in   string
		want bool
	}{
		{"target/x86_64-unknown-linux-musl/release/deps/libserde-0123456789abcdef.rlib", true},
		{"target/x86_64-unknown-linux-musl/release/deps/libmy_app-0123456789abcdef.rlib", false},
		{"target/x86_64-unknown-linux-musl/release/deps/my_app-0123456789abcdef", false},
		{"target/x86_64-unknown-linux-musl/release/deps/my_app-0123456789abcdef.d", false},
		{"target/x86_64-unknown-linux-musl/release/.fingerprint/my-app-0123456789abcdef/", false},
		{"target/x86_64-unknown-linux-musl/release/.fingerprint/my-app-0123456789abcdef/bin-my-app", false},
		{"target/x86_64-unknown-linux-musl/release/.fingerprint/serde-0123456789abcdef/lib-serde", true},
		{"target/release/build/helper-0123456789abcdef/out/x.rs", false},
		{"target/release/build/serde-0123456789abcdef/build-script-build", true},
		{"target/x86_64-unknown-linux-musl/release/my_app", false},
		{"target/x86_64-unknown-linux-musl/release/my_app.d", false},
		{"target/x86_64-unknown-linux-musl/release/helper", false},
		{"target/x86_64-unknown-linux-musl/release/incremental/x", false},
		{"target/x86_64-unknown-linux-musl/release/deps/my_application-0123456789abcdef", true},
		{"target/release/.cargo-lock", true},
		{"target/CACHEDIR.TAG", true},
	}
	for _, tc := range tests {
		if got := keep(tc.in); got != tc.want {
			t.Errorf("keep(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFilterDropsLinksToDropped(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag == tar.TypeLink {
			h.Size = 0
			body = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	add(&tar.Header{Name: "target/r/deps/app-0123456789abcdef", Typeflag: tar.TypeReg, Mode: 0o755}, "bin")
	add(&tar.Header{Name: "target/r/release/app", Typeflag: tar.TypeLink, Linkname: "target/r/deps/app-0123456789abcdef"}, "")
	add(&tar.Header{Name: "target/r/deps/libdep-0123456789abcdef.rlib", Typeflag: tar.TypeReg, Mode: 0o644}, "lib")
	add(&tar.Header{Name: "target/r/other", Typeflag: tar.TypeLink, Linkname: "target/r/deps/libdep-0123456789abcdef.rlib"}, "")
	tw.Close()

	var out bytes.Buffer
	keep := func(name string) bool { return name != "target/r/deps/app-0123456789abcdef" }
	if err := filter(&in, &out, keep); err != nil {
		t.Fatal(err)
	}
	var got []string
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
	}
	want := []string{"target/r/deps/libdep-0123456789abcdef.rlib", "target/r/other"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}
