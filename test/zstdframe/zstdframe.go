// Package zstdframe parses the block layout of a zstd frame (RFC 8878, section
// 3.1.1), independently of the decoder, so that tests can corrupt one chosen byte:
// a bit flipped inside a stored block changes no structure, and only the frame
// checksum can tell. Only tests import it.
package zstdframe

import (
	"bytes"
	"fmt"
)

// magic starts every zstd frame (0xFD2FB528, little-endian).
const magic = "\x28\xb5\x2f\xfd"

// Block is one block of a frame.
type Block struct {
	Off  int // where its content starts in the data
	Size int // its content's size (an RLE block's content is one byte)
	Type int // 0 raw, 1 RLE, 2 compressed
}

// Blocks parses the frame that data starts with: its blocks, and where the frame
// ends (after the content checksum, if it has one).
func Blocks(data []byte) (blocks []Block, end int, err error) {
	if len(data) < 6 || !bytes.HasPrefix(data, []byte(magic)) {
		return nil, 0, fmt.Errorf("no zstd frame at the start of %d bytes", len(data))
	}
	d := data[4] // the frame header descriptor
	single := d&0x20 != 0
	pos := 5 + []int{0, 1, 2, 4}[d&3] // the dictionary ID
	if !single {
		pos++ // the window descriptor
	}
	pos += []int{0, 2, 4, 8}[d>>6] // the content size
	if d>>6 == 0 && single {
		pos++
	}
	for {
		if pos+3 > len(data) {
			return nil, 0, fmt.Errorf("block header at %d past the end", pos)
		}
		h := int(data[pos]) | int(data[pos+1])<<8 | int(data[pos+2])<<16
		pos += 3
		b := Block{Off: pos, Size: h >> 3, Type: (h >> 1) & 3}
		blocks = append(blocks, b)
		if b.Type == 1 {
			pos++
		} else {
			pos += b.Size
		}
		if h&1 != 0 { // the last block
			break
		}
	}
	if d&0x04 != 0 {
		pos += 4 // the content checksum
	}
	return blocks, pos, nil
}
