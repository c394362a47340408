package archive

import (
	"errors"
	"fmt"
	"io"
)

// errCorrupt marks a compressed archive that is not whole: a frame checksum that does
// not match, a stream cut short, a frame without a checksum, or bytes after the end.
var errCorrupt = errors.New("corrupt archive")

// maxPadding bounds the zeros allowed after the tar's end marker. Go's archive/tar
// writes none; GNU tar pads to its record size (10 KiB by default).
const maxPadding = 1 << 20

// ExtractCompressed extracts the zstd-compressed tar stream r into dest as extract
// does, and then verifies that the whole stream was sound: the tar's end marker is
// followed only by zero padding, the decoder reaches the end of the last frame, where
// it checks the frame's content checksum, and nothing follows that frame (not even
// a skippable frame). extract alone stops at the tar's end marker, so a flipped bit
// in a stored block would go unnoticed. Every frame must carry a checksum, as
// Compress writes it.
//
// Files are written before the checksum at the end can be checked, so an error means
// dest must not be used: the caller discards it, as after any other extract error.
// Errors about the stream's integrity wrap errCorrupt.
func ExtractCompressed(r io.Reader, dest string, lim Limits) error {
	fc := &frameCheck{r: r}
	fc.expect(fieldMagic, 4)
	zr, err := Decompress(fc)
	if err != nil {
		return err
	}
	err = extractAndDrain(corruptOnError{zr}, dest, lim)
	// Close waits for the decoder's reading goroutine, so fc is this goroutine's
	// alone from here on.
	zr.Close()
	if fc.err != nil {
		return fc.err // the precise reason, rather than what the decoder made of it
	}
	if err != nil {
		return err
	}
	// The decoder reads up to the end of its input; this only sees what it left.
	if _, err := io.Copy(io.Discard, fc); err != nil {
		return err
	}
	return fc.whole()
}

// extractAndDrain extracts and then reads the decompressed stream to its end, which
// is when the decoder checks the last frame's checksum.
func extractAndDrain(r io.Reader, dest string, lim Limits) error {
	if err := extract(r, dest, lim); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	var pad int64
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("%w: data after the tar archive's end", errCorrupt)
			}
		}
		if pad += int64(n); pad > maxPadding {
			return fmt.Errorf("%w: more than %d bytes of padding after the tar archive's end", errCorrupt, maxPadding)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// corruptOnError marks every decoding error (a checksum mismatch, a broken block) as
// errCorrupt, wherever in extract it surfaces.
type corruptOnError struct{ r io.Reader }

func (c corruptOnError) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, errCorrupt) {
		err = fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return n, err
}

// frameCheck passes the compressed bytes through to the decoder and follows the zstd
// frame format (RFC 8878) over them as they go, without decoding anything: it
// refuses what the decoder would let pass, namely a frame without a content checksum,
// skippable frames, a few stray bytes after the last frame, and an empty stream.
type frameCheck struct {
	r      io.Reader
	off    int64 // bytes seen
	frames int   // complete frames seen
	field  field // the part of the format the next bytes belong to
	need   int64 // bytes of it still to come
	buf    []byte
	last   bool // the current block is the frame's last
	err    error
}

type field int

const (
	fieldMagic       field = iota // 4 bytes, collected
	fieldDescriptor               // Frame_Header_Descriptor, 1 byte, collected
	fieldHeaderRest               // window, dictionary ID, content size: skipped
	fieldBlockHeader              // 3 bytes, collected
	fieldBlockBody                // skipped
	fieldChecksum                 // 4 bytes, skipped (the decoder checks it)
)

// frameMagic starts every zstd frame (0xFD2FB528, little-endian).
const frameMagic = "\x28\xb5\x2f\xfd"

func (c *frameCheck) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if serr := c.scan(p[:n]); serr != nil {
		c.err = serr
		return 0, serr
	}
	if err == io.EOF {
		if werr := c.whole(); werr != nil {
			c.err = werr
			return n, werr
		}
	}
	return n, err
}

// whole reports whether the stream seen so far ends where a frame ends.
func (c *frameCheck) whole() error {
	switch {
	case c.field == fieldMagic && len(c.buf) == 0 && c.frames > 0:
		return nil
	case c.off == 0:
		return fmt.Errorf("%w: empty", errCorrupt)
	case c.field == fieldMagic && c.frames > 0:
		return fmt.Errorf("%w: bytes after the last zstd frame, at offset %d", errCorrupt, c.off-int64(len(c.buf)))
	default:
		return fmt.Errorf("%w: cut short after %d bytes, inside a zstd frame", errCorrupt, c.off)
	}
}

func (c *frameCheck) expect(f field, n int64) {
	c.field, c.need, c.buf = f, n, c.buf[:0]
}

func (c *frameCheck) scan(b []byte) error {
	for len(b) > 0 {
		k := min(int64(len(b)), c.need)
		switch c.field {
		case fieldMagic, fieldDescriptor, fieldBlockHeader:
			c.buf = append(c.buf, b[:k]...)
		}
		b, c.need, c.off = b[k:], c.need-k, c.off+k
		for c.need == 0 {
			if err := c.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

// next moves on once the current field is complete.
func (c *frameCheck) next() error {
	switch c.field {
	case fieldMagic:
		if string(c.buf) != frameMagic {
			if c.frames == 0 {
				return fmt.Errorf("%w: not a zstd stream", errCorrupt)
			}
			return fmt.Errorf("%w: bytes after the last zstd frame, at offset %d", errCorrupt, c.off-4)
		}
		c.expect(fieldDescriptor, 1)
	case fieldDescriptor:
		d := c.buf[0]
		if d&0x08 != 0 {
			return fmt.Errorf("%w: zstd frame header with its reserved bit set", errCorrupt)
		}
		if d&0x04 == 0 {
			return fmt.Errorf("%w: zstd frame without a content checksum", errCorrupt)
		}
		single := d&0x20 != 0
		n := []int64{0, 1, 2, 4}[d&3] // Dictionary_ID
		if !single {
			n++ // Window_Descriptor
		}
		switch d >> 6 { // Frame_Content_Size
		case 0:
			if single {
				n++
			}
		case 1:
			n += 2
		case 2:
			n += 4
		case 3:
			n += 8
		}
		c.expect(fieldHeaderRest, n)
	case fieldHeaderRest:
		c.expect(fieldBlockHeader, 3)
	case fieldBlockHeader:
		h := uint32(c.buf[0]) | uint32(c.buf[1])<<8 | uint32(c.buf[2])<<16
		c.last = h&1 != 0
		size := int64(h >> 3)
		switch (h >> 1) & 3 {
		case 0, 2: // raw, compressed
		case 1: // RLE: one byte, repeated size times
			size = 1
		case 3:
			return fmt.Errorf("%w: zstd block of the reserved type", errCorrupt)
		}
		c.expect(fieldBlockBody, size)
	case fieldBlockBody:
		if c.last {
			c.expect(fieldChecksum, 4)
		} else {
			c.expect(fieldBlockHeader, 3)
		}
	case fieldChecksum:
		c.frames++
		c.expect(fieldMagic, 4)
	}
	return nil
}
