package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// Entry names: the cargo registry and git checkouts, and the build state (target/).
// They are saved apart because the registry changes only with Cargo.lock, while the
// build state also depends on the toolchain and target.
const (
	EntryRegistry = "registry"
	EntryTarget   = "target"
)

// KeyParts are what an entry's content depends on.
type KeyParts struct {
	Prefix    string
	Binary    string
	Target    string
	BuilderID string // the builder image ID: a new toolchain makes target/ useless
	LockHash  string // see LockHash
}

// Keys returns the primary key of entry and the restore prefixes to fall back on,
// most specific first. A fallback is still a good start: cargo rebuilds only what
// differs.
func Keys(entry string, p KeyParts) []string {
	builder := strings.TrimPrefix(p.BuilderID, "sha256:")
	if len(builder) > 12 {
		builder = builder[:12]
	}
	base := strings.Join([]string{p.Prefix, entry, p.Binary, p.Target}, "-") + "-"
	withBuilder := base + builder + "-"
	keys := []string{withBuilder + p.LockHash, withBuilder}
	if entry == EntryRegistry {
		// Downloaded crates do not depend on the toolchain.
		keys = append(keys, base)
	}
	return keys
}

// LockHash hashes what decides the dependency set and toolchain of a local crate:
// Cargo.lock and rust-toolchain(.toml). A remote source, read only inside the build,
// hashes its URL.
func LockHash(source string, remote bool) string {
	h := sha256.New()
	if remote {
		h.Write([]byte(source))
	} else {
		for _, name := range []string{"Cargo.lock", "rust-toolchain", "rust-toolchain.toml"} {
			data, err := os.ReadFile(filepath.Join(source, name))
			if err != nil {
				continue // absent files hash as absent
			}
			h.Write([]byte(name))
			h.Write([]byte{0})
			h.Write(data)
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
