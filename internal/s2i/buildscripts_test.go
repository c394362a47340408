package s2i

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// cargoFailure is what cargo 1.85 printed for a -sys crate without its library in
// a two-target build: the package is named once per target.
const cargoFailure = `   Compiling pkg-config v0.3.25
   Compiling libdbus-sys v0.2.2
error: failed to run custom build command for ` + "`libdbus-sys v0.2.2`" + `

Caused by:
  process didn't exit successfully: ` + "`/opt/app-root/target/release/build/libdbus-sys-5c1b/build-script-build`" + ` (exit status: 101)
  --- stderr
  pkg_config failed: pkg-config has not been configured to support cross-compilation.
warning: build failed, waiting for other jobs to finish...
error: failed to run custom build command for ` + "`libdbus-sys v0.2.2`" + `
`

func TestFailedBuildScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, log string
		want      []string
	}{
		{"a -sys crate, once per target", cargoFailure, []string{"libdbus-sys"}},
		{"several, in cargo's order, a path crate's with its path",
			"error: failed to run custom build command for `openssl-sys v0.9.80`\n" +
				"error: failed to run custom build command for `mysys v0.1.0 (/opt/app-root/src/mysys)`\n" +
				"error: failed to run custom build command for `ring v0.16.20`\n",
			[]string{"openssl-sys", "mysys", "ring"}},
		{"colours around the line", "\x1b[1m\x1b[31merror\x1b[0m\x1b[1m: failed to run custom build command for `pq-sys v0.4.6`\x1b[0m\n",
			[]string{"pq-sys"}},
		{"a compile error is no build script's", "error[E0425]: cannot find value `x` in this scope\n  --> src/main.rs:2:5\n", nil},
		{"the words without cargo's package", "failed to run custom build command for something\n", nil},
		{"nothing", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FailedBuildScripts(tt.log); !slices.Equal(got, tt.want) {
				t.Errorf("FailedBuildScripts = %q, want %q", got, tt.want)
			}
		})
	}
}

// The tap passes the stream on byte for byte, however the reads cut it, and
// gives every line of each stream whole, the last one without its newline too;
// the build scripts are collected from them.
func TestLineTap(t *testing.T) {
	t.Parallel()
	first, rest, _ := strings.Cut(cargoFailure, "error: failed to run custom build command for `libdbus-sys v0.2.2`\n")
	in := frames("---> cargo build\n", "2:"+first+"error: failed to run custom",
		"", // an empty frame
		"2: build command for `libdbus-sys v0.2.2`\n"+rest, "stdout with no newline")
	var lines []string
	var scripts buildScripts
	tap := &lineTap{src: iotest.OneByteReader(bytes.NewReader(in)), line: func(l string) {
		lines = append(lines, l)
		scripts.add(l)
	}}
	out, err := io.ReadAll(tap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Errorf("the stream changed on its way through")
	}
	want := append([]string{"---> cargo build"}, strings.Split(strings.TrimSuffix(cargoFailure, "\n"), "\n")...)
	want = append(want, "stdout with no newline")
	if !slices.Equal(lines, want) {
		t.Errorf("lines:\n got %q\nwant %q", lines, want)
	}
	if got := scripts.list(); !slices.Equal(got, []string{"libdbus-sys"}) {
		t.Errorf("build scripts %q", got)
	}
}

// A line longer than the bound is cut, not kept whole: a build's output cannot
// grow the client's memory without end.
func TestLineTapBoundsALine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*maxTappedLine)
	var lines []string
	tap := &lineTap{src: bytes.NewReader(frames(long, long[:10]+"\nshort\n")), line: func(l string) { lines = append(lines, l) }}
	if _, err := io.Copy(io.Discard, tap); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || len(lines[0]) != maxTappedLine || lines[1] != "short" {
		t.Errorf("%d lines, the first %d bytes; want the long one cut at %d, then short", len(lines), len(lines[0]), maxTappedLine)
	}
}
