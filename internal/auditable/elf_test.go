package auditable

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// systemBinary is a binary linked by ld, whose section header table ends the
// file (Go's linker puts it near the start): Embed then drops the old table.
func systemBinary(t *testing.T) []byte {
	t.Helper()
	for _, p := range []string{"/usr/bin/true", "/bin/true"} {
		if bin, err := os.ReadFile(p); err == nil {
			if _, err := checkELF(bin, SectionName); err == nil {
				return bin
			}
		}
	}
	t.Skip("no ELF64 /usr/bin/true")
	return nil
}

func TestEmbedRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		bin  func(*testing.T) []byte
		args []string
	}{
		{"go test binary", func(t *testing.T) []byte { return platformtest.ThisBinary(t) }, []string{"-test.run=^$"}},
		{"ld-linked true", systemBinary, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin := tt.bin(t)
			path := filepath.Join(t.TempDir(), "bin")
			if err := os.WriteFile(path, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, bin, path, tt.args)
		})
	}
}

// run runs the program at path. A file just written may be held open for writing
// by a child that another goroutine of this test binary forked meanwhile, and exec
// then fails with ETXTBSY (golang/go#22315) until that child has exec'd: it is
// tried again, a few times.
func run(path string, args ...string) ([]byte, error) {
	for i := 0; ; i++ {
		out, err := exec.Command(path, args...).CombinedOutput()
		if !errors.Is(err, syscall.ETXTBSY) || i == 20 {
			return out, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func roundTrip(t *testing.T, bin []byte, path string, args []string) {
	t.Helper()
	v := fixtureInfo(t)
	if err := EmbedFile(path, v); err != nil {
		t.Fatal(err)
	}
	// Scanners' view: the section by name, zlib, JSON.
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("Read = %+v\nwant %+v", got, v)
	}
	// The rest of the file is what it was: every old section's bytes are intact.
	checkSectionsKept(t, bin, path)

	// The loader's view: the binary still runs.
	if out, err := run(path, args...); err != nil {
		t.Fatalf("modified binary does not run: %v\n%s", err, out)
	}

	// A second list is refused, and the file is left alone.
	before, _ := os.ReadFile(path)
	if err := EmbedFile(path, v); !errors.Is(err, ErrHasSection) {
		t.Fatalf("second EmbedFile: err = %v, want ErrHasSection", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a refused EmbedFile changed the file")
	}
	t.Logf("%d bytes → %d bytes", len(bin), len(after))
}

func checkSectionsKept(t *testing.T, orig []byte, path string) {
	t.Helper()
	of, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	nf, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer nf.Close()
	if len(nf.Sections) != len(of.Sections)+1 || len(nf.Progs) != len(of.Progs) {
		t.Fatalf("sections %d → %d, programs %d → %d", len(of.Sections), len(nf.Sections), len(of.Progs), len(nf.Progs))
	}
	for i, s := range of.Sections {
		n := nf.Sections[i]
		if s.Name != n.Name || s.Addr != n.Addr || s.Flags != n.Flags {
			t.Errorf("section %d: %s %#x %v became %s %#x %v", i, s.Name, s.Addr, s.Flags, n.Name, n.Addr, n.Flags)
			continue
		}
		if s.Type == elf.SHT_NOBITS || s.Name == ".shstrtab" {
			continue
		}
		a, _ := s.Data()
		b, _ := n.Data()
		if !bytes.Equal(a, b) {
			t.Errorf("section %s changed", s.Name)
		}
	}
	for i, p := range of.Progs {
		if p.ProgHeader != nf.Progs[i].ProgHeader {
			t.Errorf("program header %d changed", i)
		}
	}
}

func TestEmbedDeterministic(t *testing.T) {
	t.Parallel()
	bin := platformtest.ThisBinary(t)
	v := fixtureInfo(t)
	a, err := Embed(bin, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Embed(bin, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two Embeds of the same input differ")
	}
	enc, _ := v.Encode()
	t.Logf("binary %d bytes, list %d bytes compressed, grew by %d bytes", len(bin), len(enc), len(a)-len(bin))
}

func TestEmbedRefuses(t *testing.T) {
	t.Parallel()
	bin := platformtest.ThisBinary(t)
	patch := func(off int, b ...byte) []byte {
		out := bytes.Clone(bin)
		copy(out[off:], b)
		return out
	}
	machine := func(m elf.Machine) []byte {
		out := bytes.Clone(bin)
		binary.LittleEndian.PutUint16(out[18:], uint16(m))
		return out
	}
	embedded, err := Embed(bin, fixtureInfo(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		bin  []byte
		want error
	}{
		{"not an ELF", []byte("#!/bin/sh\necho hi\n"), ErrUnsupported},
		{"ELF32", patch(elf.EI_CLASS, byte(elf.ELFCLASS32)), ErrUnsupported},
		{"big endian", patch(elf.EI_DATA, byte(elf.ELFDATA2MSB)), ErrUnsupported},
		{"riscv", machine(elf.EM_RISCV), ErrUnsupported},
		{"no section headers", patch(0x3c, 0, 0), ErrUnsupported}, // e_shnum = 0
		{"already has .dep-v0", embedded, ErrHasSection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Embed(tt.bin, fixtureInfo(t)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
