package platform

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderSize is how many bytes of a binary FromELF reads: e_ident, e_type and
// e_machine, the same offsets in 32- and 64-bit files.
const HeaderSize = elf.EI_NIDENT + 4

// ErrNotELF is matched (errors.Is) by FromELF's error for bytes that are no ELF
// executable at all: a script, a truncated file.
var ErrNotELF = errors.New("not an ELF executable")

// FromELF is the platform a binary runs on, read from its ELF header (only the
// first HeaderSize bytes are looked at, so a whole binary or its start will do):
// the image that holds it then says what the binary is, whatever was asked for or
// whatever its base was built for. A binary for a machine no row has is an error
// naming the machine.
func FromELF(header []byte) (Platform, error) {
	if len(header) < HeaderSize || string(header[:4]) != elf.ELFMAG {
		return Platform{}, fmt.Errorf("the binary is %w: no ELF header", ErrNotELF)
	}
	class, data := elf.Class(header[elf.EI_CLASS]), elf.Data(header[elf.EI_DATA])
	var order binary.ByteOrder
	switch data {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return Platform{}, fmt.Errorf("the binary is %w: byte order %v", ErrNotELF, data)
	}
	// A static musl binary says ELFOSABI_NONE; GNU tools write LINUX when the
	// binary uses GNU extensions. Anything else is another kernel's.
	if abi := elf.OSABI(header[elf.EI_OSABI]); abi != elf.ELFOSABI_NONE && abi != elf.ELFOSABI_LINUX {
		return Platform{}, fmt.Errorf("the binary is for %v, not Linux", abi)
	}
	// EXEC, or DYN for a static-pie (x86_64 musl links so by default).
	if typ := elf.Type(order.Uint16(header[16:18])); typ != elf.ET_EXEC && typ != elf.ET_DYN {
		return Platform{}, fmt.Errorf("the binary is %w: its ELF type is %v", ErrNotELF, typ)
	}
	machine := elf.Machine(order.Uint16(header[18:20]))
	for _, p := range table {
		if p.Machine == machine && p.Class == class && p.Data == data {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("the binary is for %v (%v, %v), which is none of the supported platforms %s",
		machine, class, data, SupportedNames())
}
