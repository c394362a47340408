// Package platformtest makes fake binaries for tests: bytes that start with a
// valid ELF header of a given machine, enough for platform.FromELF and for an
// image layer, with no need for a cross toolchain.
package platformtest

import (
	"debug/elf"
	"encoding/binary"
)

// Header is the 64-byte ELF header of an executable (ET_EXEC, ELFOSABI_NONE, as a
// static musl binary has) for machine, class and byte order; the fields past
// e_machine are zero, which no reader of the header alone minds.
func Header(machine elf.Machine, class elf.Class, data elf.Data) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS], h[elf.EI_DATA], h[elf.EI_VERSION] = byte(class), byte(data), byte(elf.EV_CURRENT)
	var order binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	order.PutUint16(h[16:], uint16(elf.ET_EXEC))
	order.PutUint16(h[18:], uint16(machine))
	order.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	return h
}

// Binary is a fake 64-bit little-endian executable for machine: its header
// followed by body, so that two binaries of one machine can differ.
func Binary(machine elf.Machine, body string) []byte {
	return append(Header(machine, elf.ELFCLASS64, elf.ELFDATA2LSB), body...)
}
