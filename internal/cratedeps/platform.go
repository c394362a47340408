package cratedeps

import (
	"strings"
)

// platform is the set of cfg values rustc sets for a target triple, as far as
// they follow from the triple's words. It is an approximation of `rustc --print
// cfg --target TRIPLE` (which the builder could hand over instead): it knows the
// common Linux, Windows, Apple, BSD and wasm triples, and leaves the keys it cannot
// derive (target_feature, target_has_atomic, panic, feature, …) unknown.
type platform struct {
	triple string
	values map[string][]string // target_arch = ["x86_64"], target_family = ["unix"], …
}

// newPlatform derives the cfg values of triple.
func newPlatform(triple string) platform {
	parts := strings.Split(triple, "-")
	arch := cfgArch(parts[0])
	vendor, osWord, env := "unknown", "none", ""
	switch len(parts) {
	case 1:
	case 2:
		osWord = parts[1]
	case 3:
		// arch-vendor-os (aarch64-apple-darwin) or arch-os-env (aarch64-linux-android)
		vendor, osWord = parts[1], parts[2]
		if strings.HasPrefix(parts[2], "android") {
			vendor, osWord, env = "unknown", "android", ""
		}
	default:
		vendor, osWord, env = parts[1], parts[2], parts[3]
	}
	osName := cfgOS(osWord, env)
	values := map[string][]string{
		"target_arch":          {arch},
		"target_vendor":        {vendor},
		"target_os":            {osName},
		"target_env":           {cfgEnv(env)},
		"target_pointer_width": {pointerWidth(arch)},
		"target_endian":        {endian(parts[0])},
		"target_family":        family(arch, osName),
	}
	return platform{triple: triple, values: values}
}

// cfgArch maps a triple's first word to rustc's target_arch.
func cfgArch(w string) string {
	switch {
	case w == "i386" || w == "i586" || w == "i686":
		return "x86"
	case strings.HasPrefix(w, "armv") || strings.HasPrefix(w, "thumbv") || w == "arm" || w == "armeb":
		return "arm"
	case strings.HasPrefix(w, "riscv64"):
		return "riscv64"
	case strings.HasPrefix(w, "riscv32"):
		return "riscv32"
	case strings.HasPrefix(w, "powerpc64"):
		return "powerpc64"
	case strings.HasPrefix(w, "mips64"):
		return "mips64"
	case w == "mips" || w == "mipsel":
		return "mips"
	}
	return w
}

// cfgOS maps a triple's OS word to rustc's target_os.
func cfgOS(w, env string) string {
	switch {
	case w == "darwin":
		return "macos"
	case strings.HasPrefix(env, "android"):
		return "android"
	case w == "unknown" || w == "":
		return "none"
	}
	return w
}

// cfgEnv strips the ABI suffix rustc reports as target_abi (musleabihf → musl).
func cfgEnv(env string) string {
	for _, e := range []string{"musl", "gnu", "msvc", "sgx", "uclibc", "newlib", "ohos"} {
		if strings.HasPrefix(env, e) {
			return e
		}
	}
	return ""
}

func pointerWidth(arch string) string {
	switch arch {
	case "x86_64", "aarch64", "riscv64", "powerpc64", "s390x", "mips64", "loongarch64", "sparc64", "wasm64":
		return "64"
	}
	return "32"
}

func endian(archWord string) string {
	switch archWord {
	case "s390x", "powerpc", "powerpc64", "mips", "mips64", "sparc64", "armeb", "aarch64_be":
		return "big"
	}
	return "little"
}

func family(arch, osName string) []string {
	switch osName {
	case "windows":
		return []string{"windows"}
	case "linux", "android", "macos", "ios", "freebsd", "netbsd", "openbsd", "dragonfly",
		"solaris", "illumos", "haiku", "fuchsia", "redox", "emscripten":
		if strings.HasPrefix(arch, "wasm") {
			return []string{"unix", "wasm"}
		}
		return []string{"unix"}
	}
	if strings.HasPrefix(arch, "wasm") {
		return []string{"wasm"}
	}
	return nil
}

// tristate is a cfg predicate's value when some keys are unknown.
type tristate int

const (
	no tristate = iota
	unknown
	yes
)

// lookup evaluates `key = "value"` or a bare name (key with no value).
func (p platform) lookup(key string, value *string) tristate {
	if value == nil {
		switch key {
		case "unix", "windows":
			return boolState(contains(p.values["target_family"], key))
		}
		// debug_assertions, test, proc_macro, …: not decided by the target.
		return unknown
	}
	vals, known := p.values[key]
	if !known {
		return unknown
	}
	return boolState(contains(vals, *value))
}

func boolState(b bool) tristate {
	if b {
		return yes
	}
	return no
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// matches reports whether a dependency's target condition (a `cfg(…)` expression
// or a plain triple) may hold on p. What it cannot decide counts as holding: a
// crate listed that the binary lacks is a false alarm in a scan, a crate missing
// from the list is a vulnerability never reported. A condition it cannot parse
// holds for the same reason.
func (p platform) matches(spec string) bool {
	spec = strings.TrimSpace(spec)
	if !strings.HasPrefix(spec, "cfg(") {
		return spec == p.triple
	}
	e, err := parseCfg(spec)
	if err != nil {
		return true
	}
	return e.eval(p) != no
}
