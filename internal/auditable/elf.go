package auditable

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrHasSection means the binary already holds a .dep-v0 section, most likely
// because it was built with cargo auditable: that list came from the linker and is
// left as it is, rather than stacking a second one or guessing which one is right.
var ErrHasSection = errors.New("auditable: binary already has a " + SectionName + " section")

// ErrUnsupported means the binary is not one this package can add a section to.
var ErrUnsupported = errors.New("auditable: unsupported binary")

const (
	ehdrSize = 64 // sizeof(Elf64_Ehdr)
	shdrSize = 64 // sizeof(Elf64_Shdr)
)

// Embed returns a copy of bin (an ELF64 little-endian x86_64 or aarch64
// executable) with v in a new .dep-v0 section.
//
// The section is added without touching anything the loader reads: the data, a
// copy of the section-name table with ".dep-v0" appended, and a new section header
// table with one more entry go at the end of the file, and the ELF header's
// e_shoff and e_shnum point at them (e_shstrndx keeps its index; that entry now
// points at the new name table). Program headers and segments stay where they
// are, so the binary runs as before. The old section header table is cut off when
// it ends the file and nothing else lies in it, as it does after ld or lld.
// The section is not SHF_ALLOC: scanners read it by file offset, and it costs no
// memory at run time. Embed after strip: strip may drop an unknown section.
func Embed(bin []byte, v VersionInfo) ([]byte, error) {
	data, err := v.Encode()
	if err != nil {
		return nil, err
	}
	return addSection(bin, SectionName, data)
}

// EmbedFile embeds v in the binary at path, replacing the file atomically and
// keeping its mode.
func EmbedFile(path string, v VersionInfo) error {
	bin, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("auditable: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("auditable: %w", err)
	}
	out, err := Embed(bin, v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".auditable-*")
	if err != nil {
		return fmt.Errorf("auditable: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("auditable: %w", err)
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("auditable: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auditable: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("auditable: %w", err)
	}
	return nil
}

// Read returns the dependency list embedded in the ELF binary at path, as syft
// and the other scanners find it: the .dep-v0 section by name, zlib, JSON.
func Read(path string) (VersionInfo, error) {
	f, err := elf.Open(path)
	if err != nil {
		return VersionInfo{}, fmt.Errorf("auditable: %w", err)
	}
	defer f.Close()
	s := f.Section(SectionName)
	if s == nil {
		return VersionInfo{}, fmt.Errorf("auditable: %s: no %s section", path, SectionName)
	}
	data, err := s.Data()
	if err != nil {
		return VersionInfo{}, fmt.Errorf("auditable: %s: %w", path, err)
	}
	return Decode(data)
}

// checkELF refuses what addSection was not written for, and a binary that has the
// section already.
func checkELF(bin []byte, name string) (*elf.File, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	switch {
	case f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB:
		return nil, fmt.Errorf("%w: %v %v, want ELFCLASS64 ELFDATA2LSB", ErrUnsupported, f.Class, f.Data)
	case f.Machine != elf.EM_X86_64 && f.Machine != elf.EM_AARCH64:
		return nil, fmt.Errorf("%w: machine %v", ErrUnsupported, f.Machine)
	case f.Section(name) != nil:
		return nil, ErrHasSection
	}
	return f, nil
}
