package cache

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	p := KeyParts{Prefix: "rs2i", Binary: "api", Target: "x86_64-unknown-linux-musl", Rustc: "1.85.0",
		Toolchain: "0123456789ab", Settings: "5e771265", Lock: "feedface"}
	tests := []struct {
		name  string
		entry string
		want  []string
	}{
		{"target falls back to other settings of the same toolchain", EntryTarget, []string{
			"rs2i-target-api-x86_64-unknown-linux-musl-1.85.0-0123456789ab-5e771265",
			"rs2i-target-api-x86_64-unknown-linux-musl-1.85.0-0123456789ab-",
		}},
		{"registry depends on Cargo.lock only", EntryRegistry, []string{
			"rs2i-registry-api-feedface",
			"rs2i-registry-api-",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Keys(tc.entry, p); !slices.Equal(got, tc.want) {
				t.Errorf("Keys = %q, want %q", got, tc.want)
			}
		})
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
