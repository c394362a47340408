package cache

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRestoreKeys(t *testing.T) {
	t.Parallel()
	p := KeyParts{Prefix: "rs2i", Binary: "api", Target: "x86_64-unknown-linux-musl", Rustc: "1.85.0",
		Toolchain: "0123456789ab", Settings: "5e771265", Lock: "feedface"}
	scoped := p
	scoped.Scopes = []string{"aaaa.pr7", "aaaa.default"}
	const tgt = "target-api-x86_64-unknown-linux-musl-1.85.0-0123456789ab-"
	tests := []struct {
		name    string
		entry   string
		parts   KeyParts
		primary string
		want    []string
	}{
		{"target falls back to other settings of the same toolchain", EntryTarget, p,
			"rs2i-" + tgt + "5e771265", []string{
				"rs2i-" + tgt + "5e771265.", "rs2i-" + tgt + "5e771265.", "rs2i-" + tgt + "5e771265", "rs2i-" + tgt,
			}},
		{"registry depends on Cargo.lock only", EntryRegistry, p,
			"rs2i-registry-api-feedface", []string{
				"rs2i-registry-api-feedface.", "rs2i-registry-api-feedface.", "rs2i-registry-api-feedface", "rs2i-registry-api-",
			}},
		{"the own scope first, then the ones to fall back on, each ahead of the prefix", EntryRegistry, scoped,
			"aaaa.pr7-rs2i-registry-api-feedface", []string{
				"aaaa.pr7-rs2i-registry-api-feedface.",
				"aaaa.pr7-rs2i-registry-api-feedface.", "aaaa.pr7-rs2i-registry-api-feedface", "aaaa.pr7-rs2i-registry-api-",
				"aaaa.default-rs2i-registry-api-feedface.", "aaaa.default-rs2i-registry-api-feedface", "aaaa.default-rs2i-registry-api-",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Primary(tc.entry, tc.parts); got != tc.primary {
				t.Errorf("Primary = %q, want %q", got, tc.primary)
			}
			if got := RestoreKeys(tc.entry, tc.parts); !slices.Equal(got, tc.want) {
				t.Errorf("RestoreKeys = %q, want %q", got, tc.want)
			}
		})
	}
}

// A restored key is exact when it is the primary key or a variant of it in any
// scope the build reads; anything else is a fallback, which the build saves anew.
func TestExact(t *testing.T) {
	t.Parallel()
	p := KeyParts{Scopes: []string{"s.pr7", "s.default"}, Prefix: "rs2i", Binary: "api", Lock: "feedface"}
	stamp := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		matched string
		want    bool
	}{
		{"s.pr7-rs2i-registry-api-feedface", true},
		{Variant("s.pr7-rs2i-registry-api-feedface", stamp), true},
		{"s.default-rs2i-registry-api-feedface", true},
		{Variant("s.default-rs2i-registry-api-feedface", stamp), true},
		{"s.default-rs2i-registry-api-0000", false},
		{"s.pr8-rs2i-registry-api-feedface", false},
		{"rs2i-registry-api-feedface", false},
		{"s.pr7-rs2i-registry-api-feedface0", false},
	}
	for _, tc := range tests {
		if got := Exact(EntryRegistry, p, tc.matched); got != tc.want {
			t.Errorf("Exact(%q) = %v, want %v", tc.matched, got, tc.want)
		}
	}
	if got, want := Variant("k", stamp), "k.20250301T120000Z"; got != want {
		t.Errorf("Variant = %q, want %q", got, want)
	}
}

// A scope is short, made of bytes no store escapes, and tells sources and refs
// apart; no scope is a prefix of another followed by the key separator.
func TestScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		source, ref string
		wantTag     string
	}{
		{"https://github.com/o/a", "", "default"},
		{"https://github.com/o/a", "refs/pull/12", "pr12"},
		{"https://github.com/o/a", "refs/pull/1", "pr1"},
		{"https://github.com/o/b", "", "default"},
		{"https://github.com/o/a", "refs/heads/feature/x", "r"},
		{"https://github.com/o/a", "refs/heads/feature-x", "r"},
		{"https://github.com/o/a", "refs/pull/../x", "r"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		got := Scope(tc.source, tc.ref)
		if seen[got] {
			t.Errorf("Scope(%q, %q) = %q, given before to another source or ref", tc.source, tc.ref, got)
		}
		seen[got] = true
		hash, tag, _ := strings.Cut(got, ".")
		if len(hash) != 12 || !strings.HasPrefix(tag, tc.wantTag) || EscapeKey(got) != got {
			t.Errorf("Scope(%q, %q) = %q, want 12 hex digits, a tag starting %q, nothing to escape", tc.source, tc.ref, got, tc.wantTag)
		}
		if strings.Contains(got, "github") || strings.Contains(got, "feature") {
			t.Errorf("Scope(%q, %q) = %q shows the source or the ref", tc.source, tc.ref, got)
		}
	}
}

func TestLockHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := LockHash(dir, false)
	write(t, dir, "Cargo.lock", "version = 3\n")
	locked := LockHash(dir, false)
	if locked == empty {
		t.Error("Cargo.lock does not change the hash")
	}
	write(t, dir, "Cargo.toml", "[package]\nname = \"x\"\n")
	if LockHash(dir, false) != locked {
		t.Error("Cargo.toml changes the registry's hash; only Cargo.lock decides what is downloaded")
	}
	if LockHash("https://a/x.git", true) == LockHash("https://a/y.git", true) {
		t.Error("remote sources hash alike")
	}
}

// Each input of target/ changes the settings hash; what the build does not read
// leaves it alone.
func TestSettingsHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "Cargo.toml", "[workspace]\nmembers = [\"a\"]\n")
	write(t, dir, "a/Cargo.toml", "[package]\nname = \"a\"\n")
	write(t, dir, "a/src/main.rs", "fn main() {}\n")
	env := []string{"env RUSTFLAGS=-C opt-level=s"}
	manifests := []string{"Cargo.toml", "a/Cargo.toml"}
	hash := func(settings []string) string { return SettingsHash(dir, false, manifests, settings) }
	before := hash(env)
	if hash(env) != before {
		t.Fatal("hash is not stable")
	}
	if hash([]string{"env RUSTFLAGS=-C opt-level=3"}) == before {
		t.Error("RUSTFLAGS does not change the hash")
	}
	write(t, dir, "a/src/main.rs", "fn main() { println!(); }\n")
	write(t, dir, "target/release/x", "host build output")
	write(t, dir, ".git/HEAD", "ref: refs/heads/main\n")
	write(t, dir, "vendor/dep/Cargo.toml", "[package]\nname = \"dep\"\n")
	if hash(env) != before {
		t.Error("source code, target/, .git or a manifest outside the workspace change the settings hash")
	}
	for _, f := range []string{"a/Cargo.toml", ".cargo/config.toml", "Cargo.lock", "rust-toolchain.toml"} {
		write(t, dir, f, "# changed "+f+"\n")
		now := hash(env)
		if now == before {
			t.Errorf("%s does not change the hash", f)
		}
		before = now
	}
	if SettingsHash("https://a/x.git", true, nil, env) == hash(env) {
		t.Error("a remote source hashes like the local one")
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
