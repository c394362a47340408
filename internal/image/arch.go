package image

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"
)

// TargetArch is the OCI architecture of a Rust target triple's binaries, or "" when
// this program does not know the triple's first part.
func TargetArch(triple string) string {
	cpu, _, _ := strings.Cut(triple, "-")
	switch {
	case cpu == "x86_64":
		return "amd64"
	case cpu == "aarch64":
		return "arm64"
	case cpu == "i686", cpu == "i586":
		return "386"
	case strings.HasPrefix(cpu, "arm"), strings.HasPrefix(cpu, "thumbv7"):
		return "arm"
	case strings.HasPrefix(cpu, "riscv64"):
		return "riscv64"
	case cpu == "powerpc64le":
		return "ppc64le"
	case cpu == "s390x":
		return "s390x"
	}
	return ""
}

// binaryArch reads the OCI architecture from a binary's ELF header: the final
// image says what its binary is, whatever the runtime base was built for.
func binaryArch(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("the binary is not an ELF file: %w", err)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_386:
		return "386", nil
	case elf.EM_ARM:
		return "arm", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	}
	return "", fmt.Errorf("the binary is for %v, which no image architecture names", f.Machine)
}
