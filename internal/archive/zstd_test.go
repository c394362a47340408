package archive

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestZstdRoundTrip(t *testing.T) {
	t.Parallel()
	// Random bytes do not compress and repeated ones compress to almost nothing: both
	// paths of the encoder.
	data := make([]byte, 8<<20)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(data[:4<<20])
	zr, err := Decompress(bytes.NewReader(compressed(t, data)))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Errorf("round trip changed the data: %d bytes in, %d out", len(data), len(got))
	}
}

// TestDecompressRefusesHugeWindow: a frame may declare a window of gigabytes that the
// decoder would have to allocate; such a frame is refused instead.
func TestDecompressRefusesHugeWindow(t *testing.T) {
	t.Parallel()
	huge := compressed(t, make([]byte, 1<<20), zstd.WithWindowSize(4*maxWindow))
	zr, err := Decompress(bytes.NewReader(huge))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if _, err := io.Copy(io.Discard, zr); err == nil {
		t.Error("decompressing a frame with a 512 MiB window succeeded")
	}
}

func TestDecompressGarbage(t *testing.T) {
	t.Parallel()
	zr, err := Decompress(bytes.NewReader([]byte("definitely not zstd, just some bytes")))
	if err == nil {
		defer zr.Close()
		_, err = io.Copy(io.Discard, zr)
	}
	if err == nil {
		t.Error("garbage decompressed without error")
	}
}

// TestDecompressStreams checks that a bomb is read in bounded memory, even from a
// *bytes.Buffer, which the zstd package would otherwise decode whole.
func TestDecompressStreams(t *testing.T) {
	const size = 1 << 30
	var compressed bytes.Buffer
	zw, err := Compress(&compressed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(zw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	zr, err := Decompress(&compressed)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	zr.Close()
	if err != nil || n != size {
		t.Fatalf("decompressed %d bytes, %v; want %d", n, err, size)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("decompressing %d compressed bytes allocated %d MiB", compressed.Len(), alloc>>20)
	}
}
