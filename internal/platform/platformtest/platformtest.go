// Package platformtest makes fake binaries for tests: bytes that start with a
// valid ELF header of a given machine, enough for platform.FromELF and for an
// image layer, with no need for a cross toolchain.
package platformtest

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"runtime"
	"testing"
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

// ThisBinary is the running test binary's own bytes: a real, runnable ELF of the
// host, for tests that change a binary and need a whole one (not just a header).
// It skips the test on hosts other than linux/amd64 and linux/arm64.
func ThisBinary(t testing.TB) []byte {
	t.Helper()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("needs a linux/amd64 or linux/arm64 test binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
