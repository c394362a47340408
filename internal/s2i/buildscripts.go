package s2i

import (
	"bytes"
	"encoding/binary"
	"io"
	"regexp"
	"slices"
	"sync"
)

// A build script that fails is most often a -sys crate that looks for a C library
// and does not find one built for the target; the pipeline then says what the
// builder brings (clibs.Hint). Which build scripts failed comes from cargo's own
// line for it, read from the assemble container's output as it streams by.

// failedScriptRe is cargo's line for a build script that failed: "error: failed
// to run custom build command for `openssl-sys v0.9.80`" (a path crate's version
// is followed by its path).
var failedScriptRe = regexp.MustCompile("failed to run custom build command for `([A-Za-z0-9_-]+) v[^`]*`")

// FailedBuildScripts are the packages whose build script failed, as cargo's output
// in log names them: each once, in the order cargo reported them (a
// multi-platform build reports a package once per target).
func FailedBuildScripts(log string) []string {
	var names []string
	for _, m := range failedScriptRe.FindAllStringSubmatch(log, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// buildScripts collects FailedBuildScripts from the attach stream's goroutine.
type buildScripts struct {
	mu    sync.Mutex
	names []string
}

// add takes one line of the build's output.
func (b *buildScripts) add(line string) {
	found := FailedBuildScripts(line)
	if len(found) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range found {
		if !slices.Contains(b.names, n) {
			b.names = append(b.names, n)
		}
	}
}

func (b *buildScripts) list() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.names)
}

// maxTappedLine bounds the part of one line that lineTap keeps: cargo's lines are
// short, and nothing a build prints may grow the client's memory without end.
const maxTappedLine = 64 << 10

// lineTap passes a container's multiplexed attach stream (an 8-byte header,
// stream and length, then the payload) on unchanged, and gives each whole line
// of stdout and of stderr, without its newline, to line. A line that the stream
// ends in the middle of is given at the end.
type lineTap struct {
	src  io.Reader
	line func(string)

	hdr     []byte // the next frame's header, as far as it came
	left    int    // bytes of the current frame's payload still to come
	stream  byte   // the current frame's stream: 1 stdout, 2 stderr
	partial [3][]byte
}

func (t *lineTap) Read(p []byte) (int, error) {
	n, err := t.src.Read(p)
	t.feed(p[:n])
	if err != nil {
		t.flush()
	}
	return n, err
}

// feed follows the framing through b, which may end anywhere in a frame.
func (t *lineTap) feed(b []byte) {
	for len(b) > 0 {
		if t.left == 0 {
			k := min(8-len(t.hdr), len(b))
			t.hdr, b = append(t.hdr, b[:k]...), b[k:]
			if len(t.hdr) == 8 {
				t.stream, t.left = t.hdr[0], int(binary.BigEndian.Uint32(t.hdr[4:]))
				t.hdr = t.hdr[:0]
			}
			continue
		}
		k := min(t.left, len(b))
		t.payload(b[:k])
		t.left, b = t.left-k, b[k:]
	}
}

// payload splits a piece of the current frame into lines of its stream.
func (t *lineTap) payload(b []byte) {
	s := int(t.stream)
	if s >= len(t.partial) {
		s = 0 // not a stream of a container's output; kept apart all the same
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keep(s, b)
			return
		}
		t.keep(s, b[:i])
		t.line(string(t.partial[s]))
		t.partial[s], b = t.partial[s][:0], b[i+1:]
	}
}

// keep adds b to stream s's unfinished line, up to maxTappedLine.
func (t *lineTap) keep(s int, b []byte) {
	room := maxTappedLine - len(t.partial[s])
	t.partial[s] = append(t.partial[s], b[:min(room, len(b))]...)
}

// flush gives the lines the stream ended in the middle of, once.
func (t *lineTap) flush() {
	for s := range t.partial {
		if len(t.partial[s]) > 0 {
			t.line(string(t.partial[s]))
			t.partial[s] = nil
		}
	}
}
