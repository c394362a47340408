package s2i

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

type sinkBuf struct {
	bytes.Buffer
	closed bool
}

func (s *sinkBuf) Close() error { s.closed = true; return nil }

// frames is a multiplexed attach stream: each string is one frame's payload, on
// stdout unless it starts with "2:" (stderr).
func frames(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		stream := byte(1)
		if rest, ok := strings.CutPrefix(p, "2:"); ok {
			stream, p = 2, rest
		}
		var hdr [8]byte
		hdr[0] = stream
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
		b.Write(hdr[:])
		b.WriteString(p)
	}
	return b.Bytes()
}

// The part between the token's lines goes to the sink, even when the lines are split
// across frames; everything else, stderr included, reaches the reader as it was.
func TestDivert(t *testing.T) {
	t.Parallel()
	const token = "rust-s2i-collect-0123"
	in := frames("---> Built x\nrust-s2i-co", "llect-0123 begin\nQUJD", "2:a warning\n", "REVG\nrust-s2i-collect-01", "23 end\ndone\n", "rust-s2i tail")
	var sink sinkBuf
	opened := 0
	d := newDivert(bytes.NewReader(in), token, func() io.WriteCloser { opened++; return &sink })
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, d); err != nil {
		t.Fatal(err)
	}
	if got, want := stdout.String(), "---> Built x\ndone\nrust-s2i tail"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if stderr.String() != "a warning\n" {
		t.Errorf("stderr %q", stderr.String())
	}
	if sink.String() != "QUJDREVG\n" || !sink.closed || opened != 1 {
		t.Errorf("sink %q (closed %v, opened %d times), want the base64 between the lines", sink.String(), sink.closed, opened)
	}

	// A stream that ends inside the files: the sink learns it, stdout keeps the rest.
	var cut sinkBuf
	d = newDivert(bytes.NewReader(frames("before\n"+token+" begin\nQUJD")), token, func() io.WriteCloser { return &cut })
	stdout.Reset()
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, d); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "before\n" || !cut.closed {
		t.Errorf("stdout %q, sink closed %v", stdout.String(), cut.closed)
	}
}

// The files come out of the base64 tar, only those asked for.
func TestCollectFromStream(t *testing.T) {
	t.Parallel()
	var got map[string][]byte
	c := &collector{names: []string{"hello", ".times"}, onCollected: func(f map[string][]byte) { got = f }}
	done := make(chan struct{})
	w := c.fromStream(func() { close(done) })
	// tar -cf - hello other | base64, made here
	var tarball bytes.Buffer
	writeTar(t, &tarball, map[string]string{"hello": "\x7fELF", "other": "x"})
	enc := base64ForLines(tarball.Bytes())
	w.Write([]byte(enc))
	w.Close()
	<-done
	if string(got["hello"]) != "\x7fELF" || len(got) != 1 || c.result() == nil {
		t.Errorf("collected %q", got)
	}
}

func writeTar(t *testing.T, w io.Writer, files map[string]string) {
	t.Helper()
	tw := tar.NewWriter(w)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// base64ForLines encodes as base64(1) does: lines of 76 characters.
func base64ForLines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	out.WriteString(s + "\n")
	return out.String()
}
