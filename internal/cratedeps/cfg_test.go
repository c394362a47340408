package cratedeps

import "testing"

func TestPlatformMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		triple, spec string
		want         bool
	}{
		{"x86_64-unknown-linux-musl", "cfg(unix)", true},
		{"x86_64-unknown-linux-musl", "cfg(windows)", false},
		{"x86_64-unknown-linux-musl", "cfg(not(windows))", true},
		{"x86_64-unknown-linux-musl", `cfg(target_os = "linux")`, true},
		{"x86_64-unknown-linux-musl", `cfg(target_env = "musl")`, true},
		{"x86_64-unknown-linux-musl", `cfg(all(target_arch = "x86_64", target_pointer_width = "64"))`, true},
		{"x86_64-unknown-linux-musl", `cfg(any(target_os = "macos", target_os = "ios"))`, false},
		{"x86_64-unknown-linux-musl", `cfg(target_arch = "wasm32")`, false},
		{"x86_64-unknown-linux-musl", "x86_64-pc-windows-gnu", false},
		{"x86_64-unknown-linux-musl", "x86_64-unknown-linux-musl", true},
		{"aarch64-unknown-linux-musl", `cfg(target_arch = "aarch64")`, true},
		{"aarch64-unknown-linux-musl", `cfg(target_endian = "little")`, true},
		{"armv7-unknown-linux-musleabihf", `cfg(all(target_arch = "arm", target_env = "musl", target_pointer_width = "32"))`, true},
		{"i686-unknown-linux-musl", `cfg(target_arch = "x86")`, true},
		{"aarch64-apple-darwin", `cfg(target_os = "macos")`, true},
		{"x86_64-pc-windows-msvc", `cfg(target_family = "windows")`, true},
		{"wasm32-unknown-unknown", `cfg(target_family = "wasm")`, true},
		{"wasm32-unknown-unknown", `cfg(unix)`, false},
		// What the triple does not decide counts as holding, inside not(…) too.
		{"x86_64-unknown-linux-musl", `cfg(target_feature = "avx2")`, true},
		{"x86_64-unknown-linux-musl", `cfg(not(target_feature = "avx2"))`, true},
		{"x86_64-unknown-linux-musl", `cfg(all(windows, target_feature = "avx2"))`, false},
		{"x86_64-unknown-linux-musl", `cfg(any(windows, debug_assertions))`, true},
		{"x86_64-unknown-linux-musl", `cfg(all())`, true},
		{"x86_64-unknown-linux-musl", `cfg(any())`, false},
		{"x86_64-unknown-linux-musl", `cfg(any(windows, unix,))`, true},
		// Unparsable: kept.
		{"x86_64-unknown-linux-musl", `cfg(windows`, true},
		{"x86_64-unknown-linux-musl", `cfg(target_os = linux)`, true},
	}
	for _, tt := range tests {
		if got := newPlatform(tt.triple).matches(tt.spec); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.triple, tt.spec, got, tt.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.9", "1.2.10", -1},
		{"1.10.0", "1.9.0", 1},
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha.2", "1.0.0-alpha.10", -1},
		{"1.0.0-alpha", "1.0.0-beta", -1},
		{"1.0.0-1", "1.0.0-alpha", -1},
		{"1.0.0+build", "1.0.0", 1}, // same precedence: ordered by string to stay total
		{"0.2.153", "0.2.153", 0},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestChecksumsV1(t *testing.T) {
	t.Parallel()
	lock := []byte(`[[package]]
name = "libc"
version = "0.2.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.1 (registry+https://github.com/rust-lang/crates.io-index)" = "abc"
"checksum gitdep 0.1.0 (git+https://x/y)" = "<none>"
`)
	got, err := checksums(lock)
	if err != nil {
		t.Fatal(err)
	}
	want := map[lockKey]string{{"libc", "0.2.1", cratesIoGit}: "abc"}
	if len(got) != len(want) || got[lockKey{"libc", "0.2.1", cratesIoGit}] != "abc" {
		t.Errorf("checksums = %v, want %v", got, want)
	}
}
