package archive

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// maxWindow is the largest zstd window Decompress accepts, and so about the most
// memory one decompression holds. It is the reference zstd tool's default limit:
// anything our Compress writes fits, and a hostile frame that declares a huge
// window is refused before anything is allocated for it.
const maxWindow = 128 << 20

// Compress returns a writer that zstd-compresses what is written to it into w, for
// cache archives: several times faster than gzip at a better ratio, which matters
// for gigabytes of target/. It writes one frame with a content checksum, which
// ExtractCompressed requires. Close flushes the frame; it does not close w.
func Compress(w io.Writer) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithEncoderCRC(true))
}

// Decompress returns a reader of the zstd stream r, for cache archives, which are
// untrusted. It streams with memory bounded by maxWindow whatever the input: it
// never decodes a whole frame into memory, so a bomb costs only the time to read
// it, and the caller's Limits stop that. Close releases the decoder, not r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r,
		zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderMaxMemory(maxWindow),
		// Otherwise a *bytes.Buffer input is decoded whole, up to the memory limit.
		zstd.WithDecodeBuffersBelow(0),
	)
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}
