package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// Entry names: the cargo registry and git checkouts, and the build state (target/).
// They are saved apart because the registry changes only with Cargo.lock, while the
// build state also depends on the toolchain, the target and the build settings.
const (
	EntryRegistry = "registry"
	EntryTarget   = "target"
)

// KeyParts are what an entry's content depends on, and whose it is. None of them
// is an image ID: a fresh runner that builds or pulls the same builder must find the
// same keys.
type KeyParts struct {
	// Scopes are whose entries a build may use (see Scope): Scopes[0] is the
	// build's own, the only one it saves to, and the rest are those it restores
	// from when its own has no entry, in order. Each key starts with its scope, ahead
	// of the user's Prefix, so that no prefix a build chooses can make its keys fall
	// under another scope's restore prefixes. Empty for a store whose service keeps
	// repositories and branches apart itself (gha): the keys then name no scope.
	Scopes    []string
	Prefix    string
	Binary    string
	Target    string
	Rustc     string // the compiler's release, such as 1.85.0: for people reading keys
	Toolchain string // a hash of `rustc -vV` and the S2I scripts (builder.Identity.Key)
	Settings  string // SettingsHash: the rest of what decides target/
	Lock      string // LockHash: what decides the registry entry
}

// variantSep separates a primary key from a variant's stamp (see Variant). Primary
// keys end in a hex hash, so only a variant has it right after its primary key.
const variantSep = "."

// scopes are the scopes keys are made in, the build's own first; one unnamed
// scope when p names none.
func (p KeyParts) scopes() []string {
	if len(p.Scopes) == 0 {
		return []string{""}
	}
	return p.Scopes
}

// keyIn returns entry's primary key in scope and the prefix that keys of the same
// entry, binary (and for target/ the same toolchain) share there.
func keyIn(scope, entry string, p KeyParts) (primary, base string) {
	parts := []string{p.Prefix, entry, p.Binary}
	last := p.Lock
	if entry != EntryRegistry {
		parts = append(parts, p.Target, p.Rustc, p.Toolchain)
		last = p.Settings
	}
	if scope != "" {
		parts = append([]string{scope}, parts...)
	}
	base = strings.Join(parts, "-") + "-"
	return base + last, base
}

// Primary is the key this build saves entry under: in its own scope.
func Primary(entry string, p KeyParts) string {
	primary, _ := keyIn(p.scopes()[0], entry, p)
	return primary
}

// RestoreKeys are the keys to Load entry with, most specific first. In each scope,
// its own before the ones it falls back on: variants of the primary key first
// (keys[0] is looked up exactly, and no entry is ever saved under primary+"."
// itself, so it goes on to the prefix), then the primary key, then the restore
// prefix. A fallback is still a good start: cargo rebuilds only what differs.
// target/ never falls back across toolchains: rustc cannot use another compiler's
// artifacts, and restoring them costs time for nothing.
//
// Variants come first because a primary key that holds a corrupt entry cannot be
// replaced (entries are immutable): the build that finds it so saves a Variant,
// and every later restore must get that before the corrupt one. Within a prefix
// the stores take the newest entry, so the newest variant wins.
func RestoreKeys(entry string, p KeyParts) []string {
	var keys []string
	for i, scope := range p.scopes() {
		primary, base := keyIn(scope, entry, p)
		if i == 0 {
			keys = append(keys, primary+variantSep)
		}
		keys = append(keys, primary+variantSep, primary, base)
	}
	return keys
}

// Exact reports whether matched, a key Load returned for entry, is the entry's
// primary key or one of its variants, in any of p's scopes: the state restored is
// then the very one this build would save, and saving it again is pointless.
func Exact(entry string, p KeyParts, matched string) bool {
	for _, scope := range p.scopes() {
		if primary, _ := keyIn(scope, entry, p); IsVariantOf(matched, primary) {
			return true
		}
	}
	return false
}

// IsVariantOf reports whether key is primary itself or a Variant of it.
func IsVariantOf(key, primary string) bool {
	return key == primary || strings.HasPrefix(key, primary+variantSep)
}

// Variant is a new key for the state of primary, which RestoreKeys puts before
// primary itself: saved when the entry under primary (or an earlier variant) did
// not restore, so that later builds restore the good one first. The stamp is the
// save's time, readable and unique enough: two builds that replace the same entry
// in the same second race for one key, and the loser's ErrExists is success.
func Variant(primary string, t time.Time) string {
	return primary + variantSep + t.UTC().Format("20060102T150405Z")
}

// Scope names whose cache entries these are, for stores shared beyond one
// repository and one ref (local, s3): a hash of source, the source's identity (as
// the -tmp image's owner label has it), and a name of ref, the ref's scope tag
// (see RefTag). A hash, not the identity: it may be a long URL, or one with a
// token in it, and the key of a shared cache is no place for either. Two sources
// that differ in identity never share a scope.
func Scope(source, ref string) string {
	return shortHash(source, 12) + "." + RefTag(ref)
}

// RefTag names a ref in a scope: "default" for "" (the default branch, or a build
// whose ref is not known), "pr" and the number for refs/pull/N, else "r" and a hash
// of the ref, so that any branch or tag name gives a short tag of [a-z0-9].
func RefTag(ref string) string {
	if ref == "" {
		return "default"
	}
	if n, ok := strings.CutPrefix(ref, "refs/pull/"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return "pr" + n
	}
	return "r" + shortHash(ref, 10)
}

// shortHash is the first n hex digits of the SHA-256 of s.
func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
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
	// Bounded, and only a regular file inside the tree: a Cargo.lock that links to
	// /dev/zero or out of the checkout is no input of this build.
	data, err := source.ReadFile(dir, name, source.MaxManifest)
	if err != nil {
		return
	}
	fmt.Fprintf(h, "file %q %d\n", filepath.ToSlash(name), len(data))
	h.Write(data)
}
