package archive

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/rust-s2i/rust-s2i-musl/test/zstdframe"
)

// randomBytes returns n bytes that do not compress, so the encoder stores them in
// raw blocks.
func randomBytes(seed byte, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// compressed returns data compressed as a cache entry is, or with opts when given.
func compressed(t testing.TB, data []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	var zw io.WriteCloser
	var err error
	if opts == nil {
		zw, err = Compress(&buf)
	} else {
		zw, err = zstd.NewWriter(&buf, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// blocksOf parses the blocks of the single frame in data, independently of
// frameCheck.
func blocksOf(t *testing.T, data []byte) []zstdframe.Block {
	t.Helper()
	blocks, end, err := zstdframe.Blocks(data)
	if err != nil {
		t.Fatal(err)
	}
	if end != len(data) {
		t.Fatalf("frame ends at %d of %d bytes", end, len(data))
	}
	return blocks
}

// goodArchive is a tar with compressible and incompressible files, compressed.
func goodArchive(t *testing.T) (tarData, zst []byte) {
	t.Helper()
	tarData = tarball(t,
		ent{name: "dir/", typ: tar.TypeDir, mode: 0o755},
		ent{name: "dir/text", body: string(bytes.Repeat([]byte("compressible "), 10000))},
		ent{name: "dir/random", body: string(randomBytes(1, 512<<10))},
		ent{name: "last", body: "end"},
	)
	return tarData, compressed(t, tarData)
}

func TestExtractCompressedGood(t *testing.T) {
	t.Parallel()
	_, zst := goodArchive(t)
	sb := newSandbox(t)
	if err := ExtractCompressed(bytes.NewReader(zst), sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(sb.dest, "dir", "random"))
	if err != nil || !bytes.Equal(got, randomBytes(1, 512<<10)) {
		t.Errorf("dir/random restored wrong (%v)", err)
	}
	if got, _ := os.ReadFile(filepath.Join(sb.dest, "last")); string(got) != "end" {
		t.Errorf("last = %q", got)
	}
}

// TestExtractCompressedFlippedBit: one bit flipped in the middle of a stored block
// changes no structure, so only the frame checksum can tell. extract alone, which
// stops at the tar's end, restores the wrong bytes; ExtractCompressed refuses.
func TestExtractCompressedFlippedBit(t *testing.T) {
	t.Parallel()
	_, zst := goodArchive(t)
	var raw *zstdframe.Block
	for _, b := range blocksOf(t, zst) {
		if b.Type == 0 && b.Size > 1024 {
			raw = &b
			break
		}
	}
	if raw == nil {
		t.Fatal("the encoder stored no raw block; the test needs one")
	}
	bad := bytes.Clone(zst)
	bad[raw.Off+raw.Size/2] ^= 0x10

	// What restores did before: the tar end comes before the checksum.
	zr, err := Decompress(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := extract(zr, newSandbox(t).dest, Limits{}); err != nil {
		t.Logf("extract alone noticed: %v", err)
	} else {
		t.Log("extract alone restored the flipped bit without an error")
	}
	zr.Close()

	sb := newSandbox(t)
	err = ExtractCompressed(bytes.NewReader(bad), sb.dest, Limits{})
	if !errors.Is(err, errCorrupt) || !errors.Is(err, zstd.ErrCRCMismatch) {
		t.Fatalf("ExtractCompressed = %v, want a checksum mismatch marked errCorrupt", err)
	}
	t.Logf("refused: %v", err)
}

func TestExtractCompressedRefuses(t *testing.T) {
	t.Parallel()
	tarData, zst := goodArchive(t)
	skippable := binary.LittleEndian.AppendUint32(nil, 0x184D2A50)
	skippable = binary.LittleEndian.AppendUint32(skippable, 5)
	skippable = append(skippable, "hello"...)
	tests := []struct {
		name string
		in   []byte
	}{
		{"one byte after the frame", append(bytes.Clone(zst), 0)},
		{"three bytes after the frame", append(bytes.Clone(zst), "abc"...)},
		{"text after the frame", append(bytes.Clone(zst), "trailing garbage"...)},
		{"a skippable frame after the frame", append(bytes.Clone(zst), skippable...)},
		{"data after the tar end, inside the frame", compressed(t, append(bytes.Clone(tarData), "garbage"...))},
		{"a frame of data after the tar end", append(bytes.Clone(zst), compressed(t, []byte("more data"))...)},
		{"too much padding after the tar end", compressed(t, append(bytes.Clone(tarData), make([]byte, maxPadding+1)...))},
		{"no content checksum", compressed(t, tarData, zstd.WithEncoderCRC(false))},
		{"checksum cut off", zst[:len(zst)-2]},
		{"cut in the middle", zst[:len(zst)/2]},
		{"empty", nil},
		{"not zstd", tarData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ExtractCompressed(bytes.NewReader(tt.in), newSandbox(t).dest, Limits{})
			if !errors.Is(err, errCorrupt) {
				t.Errorf("ExtractCompressed = %v, want errCorrupt", err)
			}
			t.Log(err)
		})
	}
}

// Zero padding after the tar's end, as GNU tar writes it, and a second frame that
// holds only more of it, are both fine.
func TestExtractCompressedPadding(t *testing.T) {
	t.Parallel()
	tarData, zst := goodArchive(t)
	for name, in := range map[string][]byte{
		"record padding": compressed(t, append(bytes.Clone(tarData), make([]byte, 9216)...)),
		"a second frame": append(bytes.Clone(zst), compressed(t, make([]byte, 512))...),
	} {
		if err := ExtractCompressed(bytes.NewReader(in), newSandbox(t).dest, Limits{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The limits and the safety checks of extract still apply.
func TestExtractCompressedUnsafe(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	before := sb.outside(t)
	err := ExtractCompressed(bytes.NewReader(compressed(t, tarball(t, ent{name: "../out", body: "x"}))), sb.dest, Limits{})
	if !errors.Is(err, errUnsafe) {
		t.Errorf("ExtractCompressed = %v, want errUnsafe", err)
	}
	sb.checkContained(t, before)
}

// FuzzExtractCompressed feeds ExtractCompressed arbitrary streams: it must not panic
// or hang, and nothing outside dest may change.
func FuzzExtractCompressed(f *testing.F) {
	tarData := tarball(f, ent{name: "a", body: "hello"}, ent{name: "d/", typ: tar.TypeDir})
	good := compressed(f, tarData)
	f.Add(good)
	f.Add(append(bytes.Clone(good), "garbage"...))
	f.Add(compressed(f, tarData, zstd.WithEncoderCRC(false)))
	f.Add(compressed(f, append(bytes.Clone(tarData), 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		sb := newSandbox(t)
		before := sb.outside(t)
		_ = ExtractCompressed(bytes.NewReader(data), sb.dest, Limits{MaxBytes: 1 << 20, MaxFiles: 200})
		sb.checkContained(t, before)
	})
}
