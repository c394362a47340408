package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Entry names: the cargo registry and git checkouts, and the build state (target/).
// They are saved apart because the registry changes only with Cargo.lock, while the
// build state also depends on the toolchain, the target and the build settings.
const (
	EntryRegistry = "registry"
	EntryTarget   = "target"
)

// KeyParts are what an entry's content depends on. None of them is an image ID: a
// fresh runner that builds or pulls the same builder must find the same keys.
type KeyParts struct {
	Prefix    string
	Binary    string
	Target    string
	Rustc     string // the compiler's release, such as 1.85.0: for people reading keys
	Toolchain string // a hash of `rustc -vV` and the S2I scripts (builder.Identity.Key)
	Settings  string // SettingsHash: the rest of what decides target/
	Lock      string // LockHash: what decides the registry entry
}

// Keys returns the primary key of entry and the restore prefixes to fall back on,
// most specific first. A fallback is still a good start: cargo rebuilds only what
// differs. target/ never falls back across toolchains: rustc cannot use another
// compiler's artifacts, and restoring them costs time for nothing.
func Keys(entry string, p KeyParts) []string {
	if entry == EntryRegistry {
		base := strings.Join([]string{p.Prefix, entry, p.Binary}, "-") + "-"
		return []string{base + p.Lock, base}
	}
	base := strings.Join([]string{p.Prefix, entry, p.Binary, p.Target, p.Rustc, p.Toolchain}, "-") + "-"
	return []string{base + p.Settings, base}
}

// LockHash hashes what decides the registry entry of a local crate: its Cargo.lock.
// A remote source, read only inside the build, hashes its URL.
func LockHash(src string, remote bool) string {
	h := sha256.New()
	if remote {
		io.WriteString(h, src)
	} else {
		hashFile(h, src, "Cargo.lock")
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// SettingsHash hashes what decides target/ besides the toolchain and the target:
// the settings (the build's env and cargo options, one a line, in order) and, of a
// local source, the workspace's manifests (paths relative to src),
// .cargo/config(.toml), Cargo.lock and rust-toolchain(.toml). A remote source
// hashes its URL instead. A change of RUSTFLAGS therefore gives a new key, and the
// state it builds is saved anew.
func SettingsHash(src string, remote bool, manifests, settings []string) string {
	h := sha256.New()
	for _, s := range settings {
		fmt.Fprintf(h, "setting %q\n", s)
	}
	if remote {
		fmt.Fprintf(h, "remote %q\n", src)
		return hex.EncodeToString(h.Sum(nil))[:16]
	}
	for _, name := range []string{".cargo/config.toml", ".cargo/config", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml"} {
		hashFile(h, src, name)
	}
	for _, m := range manifests {
		hashFile(h, src, m)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// hashFile adds a file's name and content to h; an absent file hashes as absent.
func hashFile(h hash.Hash, dir, name string) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return
	}
	fmt.Fprintf(h, "file %q %d\n", filepath.ToSlash(name), len(data))
	h.Write(data)
}
