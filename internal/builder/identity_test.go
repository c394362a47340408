package builder

import "testing"

func TestIdentity(t *testing.T) {
	t.Parallel()
	rustc := "rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.85.0\nLLVM version: 19.1.7\n"
	a := Identity{Rustc: rustc, Scripts: "abc"}
	if got := a.Release(); got != "1.85.0" {
		t.Errorf("Release = %q", got)
	}
	if len(a.Key()) != 12 || a.Key() != (Identity{Rustc: rustc + "\n", Scripts: "abc"}).Key() {
		t.Errorf("Key %q is not 12 hex digits stable across trailing space", a.Key())
	}
	if a.Key() == (Identity{Rustc: rustc, Scripts: "abd"}).Key() {
		t.Error("other scripts give the same key")
	}
	if a.Key() == (Identity{Rustc: rustc + "commit-hash: x", Scripts: "abc"}).Key() {
		t.Error("another compiler gives the same key")
	}
	if got := (Identity{}).Release(); got != "rustc" {
		t.Errorf("unknown release = %q, want rustc", got)
	}
	for arch, want := range map[string]string{"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl", "s390x": ""} {
		if got := DefaultTarget(arch); got != want {
			t.Errorf("DefaultTarget(%q) = %q, want %q", arch, got, want)
		}
	}
}
