package auditable

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// addSection returns bin with a non-allocated PROGBITS section name holding data;
// see Embed for the layout.
func addSection(bin []byte, name string, data []byte) ([]byte, error) {
	f, err := checkELF(bin, name)
	if err != nil {
		return nil, err
	}
	var hdr elf.Header64
	if err := binary.Read(bytes.NewReader(bin), binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrUnsupported, err)
	}
	shdrs, err := sectionHeaders(bin, hdr)
	if err != nil {
		return nil, err
	}
	strtab := shdrs[hdr.Shstrndx]
	if strtab.Type != uint32(elf.SHT_STRTAB) || strtab.Off+strtab.Size > uint64(len(bin)) {
		return nil, fmt.Errorf("%w: section name table out of the file", ErrUnsupported)
	}

	out := bytes.NewBuffer(make([]byte, 0, len(bin)+len(data)+int(strtab.Size)+len(name)+1+(len(shdrs)+1)*shdrSize+16))
	out.Write(bin[:keepPrefix(f, hdr, bin)])
	dataOff := uint64(out.Len())
	out.Write(data)

	names := append(bytes.Clone(bin[strtab.Off:strtab.Off+strtab.Size]), name...)
	names = append(names, 0)
	nameOff := strtab.Size
	shdrs[hdr.Shstrndx].Off, shdrs[hdr.Shstrndx].Size = uint64(out.Len()), uint64(len(names))
	out.Write(names)

	shdrs = append(shdrs, elf.Section64{
		Name: uint32(nameOff), Type: uint32(elf.SHT_PROGBITS),
		Off: dataOff, Size: uint64(len(data)), Addralign: 1,
	})
	for out.Len()%8 != 0 { // Elf64_Shdr wants 8-byte alignment
		out.WriteByte(0)
	}
	hdr.Shoff, hdr.Shnum = uint64(out.Len()), uint16(len(shdrs))
	if err := binary.Write(out, binary.LittleEndian, shdrs); err != nil {
		return nil, fmt.Errorf("auditable: %w", err)
	}
	res := out.Bytes()
	var h bytes.Buffer
	if err := binary.Write(&h, binary.LittleEndian, hdr); err != nil {
		return nil, fmt.Errorf("auditable: %w", err)
	}
	copy(res, h.Bytes())
	return res, nil
}

// sectionHeaders reads the section header table, refusing the forms this package
// does not rewrite: none at all, an unusual entry size, or extended numbering
// (e_shnum 0 or e_shstrndx SHN_XINDEX, with the real numbers in section 0).
func sectionHeaders(bin []byte, hdr elf.Header64) ([]elf.Section64, error) {
	switch {
	case hdr.Shoff == 0 || hdr.Shnum == 0:
		return nil, fmt.Errorf("%w: no section header table", ErrUnsupported)
	case hdr.Shentsize != shdrSize:
		return nil, fmt.Errorf("%w: section header size %d", ErrUnsupported, hdr.Shentsize)
	case hdr.Shstrndx >= hdr.Shnum:
		return nil, fmt.Errorf("%w: section name table index %d", ErrUnsupported, hdr.Shstrndx)
	case int(hdr.Shnum)+1 >= int(elf.SHN_LORESERVE):
		return nil, fmt.Errorf("%w: %d sections", ErrUnsupported, hdr.Shnum)
	case hdr.Shoff+uint64(hdr.Shnum)*shdrSize > uint64(len(bin)) || hdr.Shoff < ehdrSize:
		return nil, fmt.Errorf("%w: section header table out of the file", ErrUnsupported)
	}
	shdrs := make([]elf.Section64, hdr.Shnum)
	r := bytes.NewReader(bin[hdr.Shoff : hdr.Shoff+uint64(hdr.Shnum)*shdrSize])
	if err := binary.Read(r, binary.LittleEndian, shdrs); err != nil {
		return nil, fmt.Errorf("%w: section headers: %w", ErrUnsupported, err)
	}
	return shdrs, nil
}

// keepPrefix is how much of bin the new file starts with: all of it, or all but
// the old section header table when that table is the file's tail and no segment
// or section reaches into it (then it is only dead bytes once replaced).
func keepPrefix(f *elf.File, hdr elf.Header64, bin []byte) int {
	end := hdr.Shoff + uint64(hdr.Shnum)*shdrSize
	if end != uint64(len(bin)) {
		return len(bin)
	}
	for _, p := range f.Progs {
		if p.Off+p.Filesz > hdr.Shoff {
			return len(bin)
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && s.Offset+s.FileSize > hdr.Shoff {
			return len(bin)
		}
	}
	return int(hdr.Shoff)
}
