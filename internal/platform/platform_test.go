package platform

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
)

// The table's rows, seen through every function that reads them.
func TestTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, oci string
		machine           elf.Machine
		env               []string
	}{
		{"linux/amd64", "x86_64-unknown-linux-musl", "linux/amd64", elf.EM_X86_64, []string{
			"CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=x86_64-linux-gnu-gcc",
			"CC_x86_64_unknown_linux_musl=x86_64-linux-musl-gcc",
			"AR_x86_64_unknown_linux_musl=x86_64-linux-gnu-ar",
		}},
		{"linux/arm64", "aarch64-unknown-linux-musl", "linux/arm64", elf.EM_AARCH64, []string{
			"CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc",
			"CC_aarch64_unknown_linux_musl=aarch64-linux-musl-gcc",
			"AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar",
		}},
	}
	if len(tests) != len(Supported()) {
		t.Errorf("the table has %d rows, this test %d: test the new one", len(Supported()), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tc.name || p.Target != tc.target || p.Machine != tc.machine || p.OCI().String() != tc.oci {
				t.Errorf("Lookup(%q) = %+v", tc.name, p)
			}
			if byTarget, err := ForTarget(tc.target); err != nil || byTarget != p {
				t.Errorf("ForTarget(%q) = %v, %v; want %v", tc.target, byTarget, err, p)
			}
			if got := p.CargoEnv(); !slices.Equal(got, tc.env) {
				t.Errorf("CargoEnv = %q\nwant %q", got, tc.env)
			}
			if fromELF, err := FromELF(platformtest.Header(p.Machine, p.Class, p.Data)); err != nil || fromELF != p {
				t.Errorf("FromELF of a %v header = %v, %v", p.Machine, fromELF, err)
			}
		})
	}
	// A copy: a caller cannot change the table.
	s := Supported()
	s[0].Target = "changed"
	if Supported()[0].Target == "changed" {
		t.Error("Supported hands out the table itself")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	amd64, arm64 := table[0], table[1]
	tests := []struct {
		name, in string
		want     []Platform
		unknown  []string
	}{
		{"empty", "", nil, nil},
		{"blank lines", "\n  \n", nil, nil},
		{"one", "linux/amd64", []Platform{amd64}, nil},
		{"build-push-action's comma list", "linux/amd64,linux/arm64", []Platform{amd64, arm64}, nil},
		{"order kept", "linux/arm64,linux/amd64", []Platform{arm64, amd64}, nil},
		{"newlines, spaces and CRLF", "linux/amd64\r\n  linux/arm64 \n", []Platform{amd64, arm64}, nil},
		{"commas and newlines", "linux/amd64,\nlinux/arm64,", []Platform{amd64, arm64}, nil},
		{"duplicates dropped", "linux/arm64,linux/amd64,linux/arm64", []Platform{arm64, amd64}, nil},
		{"arm64/v8 is arm64, as docker has it", "linux/arm64/v8,linux/arm64", []Platform{arm64}, nil},
		{"other names of the architectures", "LINUX/X86_64,linux/aarch64", []Platform{amd64, arm64}, nil},
		{"unknown ones all named", "linux/amd64,linux/s390x,windows/amd64,amd64,linux/arm64/v9",
			[]Platform{amd64}, []string{"linux/s390x", "windows/amd64", "amd64", "linux/arm64/v9"}},
		{"not yet a row", "linux/arm/v7", nil, []string{"linux/arm/v7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
			var ue *UnknownError
			switch {
			case tc.unknown == nil && err != nil:
				t.Errorf("Parse(%q): %v", tc.in, err)
			case tc.unknown == nil:
			case !errors.As(err, &ue) || !slices.Equal(ue.Names, tc.unknown):
				t.Errorf("Parse(%q) error %v, want unknown %q", tc.in, err, tc.unknown)
			case !strings.Contains(err.Error(), "linux/amd64, linux/arm64"):
				t.Errorf("the error does not list what is supported: %v", err)
			}
		})
	}
}

func TestForTargetUnknown(t *testing.T) {
	t.Parallel()
	for _, triple := range []string{"x86_64-unknown-linux-gnu", "armv7-unknown-linux-musleabihf", ""} {
		_, err := ForTarget(triple)
		if err == nil || !strings.Contains(err.Error(), "aarch64-unknown-linux-musl") {
			t.Errorf("ForTarget(%q): %v, want an error listing the targets", triple, err)
		}
	}
}

func TestFromELF(t *testing.T) {
	t.Parallel()
	withABI := func(h []byte, abi elf.OSABI) []byte { h[elf.EI_OSABI] = byte(abi); return h }
	withType := func(h []byte, typ elf.Type) []byte {
		binary.LittleEndian.PutUint16(h[16:], uint16(typ))
		return h
	}
	le, msb := elf.ELFDATA2LSB, elf.ELFDATA2MSB
	tests := []struct {
		name   string
		header []byte
		want   string // the platform, or a word of the error
	}{
		{"x86_64", platformtest.Header(elf.EM_X86_64, elf.ELFCLASS64, le), "linux/amd64"},
		{"aarch64", platformtest.Header(elf.EM_AARCH64, elf.ELFCLASS64, le), "linux/arm64"},
		{"GNU's OSABI", withABI(platformtest.Header(elf.EM_AARCH64, elf.ELFCLASS64, le), elf.ELFOSABI_LINUX), "linux/arm64"},
		{"static-pie", withType(platformtest.Header(elf.EM_X86_64, elf.ELFCLASS64, le), elf.ET_DYN), "linux/amd64"},
		{"an object file", withType(platformtest.Header(elf.EM_X86_64, elf.ELFCLASS64, le), elf.ET_REL), "ET_REL"},
		{"FreeBSD", withABI(platformtest.Header(elf.EM_X86_64, elf.ELFCLASS64, le), elf.ELFOSABI_FREEBSD), "not Linux"},
		{"32-bit x86", platformtest.Header(elf.EM_386, elf.ELFCLASS32, le), "EM_386"},
		{"big-endian aarch64", platformtest.Header(elf.EM_AARCH64, elf.ELFCLASS64, msb), "EM_AARCH64"},
		{"s390x", platformtest.Header(elf.EM_S390, elf.ELFCLASS64, msb), "EM_S390"},
		{"a script", []byte("#!/bin/sh\necho not a binary at all\n"), "no ELF header"},
		{"truncated", platformtest.Header(elf.EM_X86_64, elf.ELFCLASS64, le)[:18], "no ELF header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := FromELF(tc.header)
			switch {
			case err == nil && p.String() != tc.want:
				t.Errorf("FromELF = %v, want %s", p, tc.want)
			case err != nil && !strings.Contains(err.Error(), tc.want):
				t.Errorf("FromELF: %v, want %s", err, tc.want)
			}
		})
	}
}

// This test's own executable is an ELF file of the machine it runs on.
func TestFromELFOfThisTest(t *testing.T) {
	t.Parallel()
	p, err := FromELF(platformtest.ThisBinary(t))
	if err != nil {
		t.Skipf("this machine is no supported platform: %v", err)
	}
	if p.Architecture != runtime.GOARCH {
		t.Errorf("FromELF of this test = %v, want linux/%s", p, runtime.GOARCH)
	}
}
