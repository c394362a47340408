package cache

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	p := KeyParts{Prefix: "rs2i", Binary: "api", Target: "x86_64-unknown-linux-musl", BuilderID: "sha256:0123456789abcdef0123", LockHash: "feedface"}
	tests := []struct {
		name  string
		entry string
		want  []string
	}{
		{"target", EntryTarget, []string{
			"rs2i-target-api-x86_64-unknown-linux-musl-0123456789ab-feedface",
			"rs2i-target-api-x86_64-unknown-linux-musl-0123456789ab-",
		}},
		{"registry falls back across builders", EntryRegistry, []string{
			"rs2i-registry-api-x86_64-unknown-linux-musl-0123456789ab-feedface",
			"rs2i-registry-api-x86_64-unknown-linux-musl-0123456789ab-",
			"rs2i-registry-api-x86_64-unknown-linux-musl-",
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
	if err := os.WriteFile(filepath.Join(dir, "Cargo.lock"), []byte("version = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	locked := LockHash(dir, false)
	if locked == empty {
		t.Error("Cargo.lock does not change the hash")
	}
	if err := os.WriteFile(filepath.Join(dir, "rust-toolchain.toml"), []byte("[toolchain]\nchannel = \"1.80\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if LockHash(dir, false) == locked {
		t.Error("rust-toolchain.toml does not change the hash")
	}
	if LockHash(dir, false) != LockHash(dir, false) {
		t.Error("hash is not stable")
	}
	if LockHash("https://a/x.git", true) == LockHash("https://a/y.git", true) {
		t.Error("remote sources hash alike")
	}
}
