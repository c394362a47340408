// Package platform is the table of the container platforms this program builds
// images for: for each, its OCI name (os/architecture/variant), the Rust musl
// target that builds its binaries, how the ELF header of such a binary reads, and
// the C toolchain the builder cross-compiles and links it with.
//
// Every platform is cross-compiled by one builder on the runner's own
// architecture: nothing here runs under emulation, so a row's toolchain names are
// the cross tools' (aarch64-linux-gnu-gcc), which exist on either runner.
package platform

import (
	"debug/elf"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Platform is one row of the table. Values are comparable (==), so a list of
// them can be deduplicated and tested for membership directly.
type Platform struct {
	// OS, Architecture and Variant are the OCI platform, as an image index's
	// descriptors and an image config write it: linux, arm64, "".
	OS, Architecture, Variant string
	// Target is the Rust target triple whose binaries run here.
	Target string
	// Machine, Class and Data are what the ELF header of such a binary says
	// (e_machine, EI_CLASS, EI_DATA): how FromELF knows a binary's platform.
	Machine elf.Machine
	Class   elf.Class
	Data    elf.Data
	// Linker is the C compiler driver that links the target's binaries (rustc's
	// default, cc, is the host's and cannot link another machine's objects). CC
	// and AR are what the cc crate compiles and archives the target's C code with
	// (ring, zstd-sys): gcc with musl's headers through musl-dev's specs file, and
	// the cross binutils' ar. See CargoEnv.
	Linker, CC, AR string
}

// table is every supported platform, in the order error messages list them. It
// is never modified; Supported hands out a copy.
//
// Adding a platform (linux/arm/v7, linux/riscv64) takes three things:
//  1. a row here: the OCI name, the Rust musl target
//     (armv7-unknown-linux-musleabihf, riscv64gc-unknown-linux-musl), the ELF
//     header fields of its binaries (EM_ARM, ELFCLASS32, little-endian; EM_RISCV,
//     ELFCLASS64) and its cross C toolchain's names;
//  2. the builder (s2i/Dockerfile, and hack/rust-musl for the offline tests)
//     installing that target's std and that C toolchain, and labelling itself as
//     serving the target;
//  3. a test: a row of TestTable/TestFromELF here, and the end-to-end build of
//     the hello crate for it in .ci/run.
//
// Two rows may not share an ELF machine, class and byte order: FromELF could not
// tell their binaries apart from the header. (linux/arm/v6 beside linux/arm/v7
// would need the .ARM.attributes section read, which FromELF does not do.)
var table = []Platform{
	{
		OS: "linux", Architecture: "amd64",
		Target:  "x86_64-unknown-linux-musl",
		Machine: elf.EM_X86_64, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB,
		Linker: "x86_64-linux-gnu-gcc", CC: "x86_64-linux-musl-gcc", AR: "x86_64-linux-gnu-ar",
	},
	{
		OS: "linux", Architecture: "arm64",
		Target:  "aarch64-unknown-linux-musl",
		Machine: elf.EM_AARCH64, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB,
		Linker: "aarch64-linux-gnu-gcc", CC: "aarch64-linux-musl-gcc", AR: "aarch64-linux-gnu-ar",
	},
}

// Supported is every platform this program builds for, in the table's order.
func Supported() []Platform { return slices.Clone(table) }

// SupportedNames is the supported platforms' names joined by ", ", for error
// messages: linux/amd64, linux/arm64.
func SupportedNames() string {
	names := make([]string, len(table))
	for i, p := range table {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// String is the platform as docker and build-push-action write it: linux/amd64,
// linux/arm/v7.
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// OCI is the platform as an image index descriptor and an image config carry it.
func (p Platform) OCI() v1.Platform {
	return v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// CargoEnv is the environment a cargo build for this platform's target needs in
// the builder: the linker (CARGO_TARGET_<TRIPLE>_LINKER) and the cc crate's C
// compiler and archiver (CC_<triple>, AR_<triple>). The per-target names leave
// every other target's, and the host's build scripts, alone.
func (p Platform) CargoEnv() []string {
	upper := strings.ToUpper(strings.ReplaceAll(p.Target, "-", "_"))
	lower := strings.ReplaceAll(p.Target, "-", "_")
	return []string{
		"CARGO_TARGET_" + upper + "_LINKER=" + p.Linker,
		"CC_" + lower + "=" + p.CC,
		"AR_" + lower + "=" + p.AR,
	}
}

// Lookup is the platform named, written as docker and build-push-action take it:
// OS/ARCH[/VARIANT], case-insensitive, with the architectures' other common names
// (x86_64, aarch64) and arm64's default variant (linux/arm64/v8) accepted.
func Lookup(name string) (Platform, error) {
	want, ok := normalize(name)
	if ok {
		for _, p := range table {
			if p.OS == want.OS && p.Architecture == want.Architecture && p.Variant == want.Variant {
				return p, nil
			}
		}
	}
	return Platform{}, &UnknownError{Names: []string{name}}
}

// normalize reads OS/ARCH[/VARIANT] into the table's spelling.
func normalize(name string) (v1.Platform, bool) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(name)), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, false
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	}
	// Every arm64 is ARMv8 at least: docker and containerd take linux/arm64/v8 as
	// linux/arm64, and so does this.
	if p.Architecture == "arm64" && (p.Variant == "v8" || p.Variant == "8") {
		p.Variant = ""
	}
	return p, true
}

// Parse reads a list of platforms as build-push-action's platforms input takes
// it: names separated by commas, newlines or both. Blank entries are skipped,
// repeats (also in another spelling, linux/arm64/v8 after linux/arm64) dropped,
// the order kept. Every unknown name is in the one *UnknownError returned.
func Parse(list string) ([]Platform, error) {
	var out []Platform
	var unknown []string
	for _, line := range strings.Split(list, "\n") {
		for _, name := range strings.Split(line, ",") {
			if strings.TrimSpace(name) == "" {
				continue
			}
			p, err := Lookup(name)
			switch {
			case err != nil:
				unknown = append(unknown, strings.TrimSpace(name))
			case !slices.Contains(out, p):
				out = append(out, p)
			}
		}
	}
	if len(unknown) > 0 {
		return out, &UnknownError{Names: unknown}
	}
	return out, nil
}

// ForTarget is the platform whose binaries the Rust target triple builds.
func ForTarget(triple string) (Platform, error) {
	for _, p := range table {
		if p.Target == triple {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("target %s builds for no supported platform (%s: %s)", triple, SupportedNames(), supportedTargets())
}

func supportedTargets() string {
	targets := make([]string, len(table))
	for i, p := range table {
		targets[i] = p.Target
	}
	return strings.Join(targets, ", ")
}

// UnknownError is a platform name, or several, that is not in the table. Its
// message lists what is.
type UnknownError struct {
	Names []string // as written
}

func (e *UnknownError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	what := "is not a supported platform"
	if len(quoted) > 1 {
		what = "are not supported platforms"
	}
	return fmt.Sprintf("%s %s: the supported platforms are %s", strings.Join(quoted, ", "), what, SupportedNames())
}
