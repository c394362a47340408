package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// ScriptsDir is where a builder image holds the S2I scripts; every build names it
// as the scripts URL.
const ScriptsDir = "/usr/libexec/s2i"

// rustcFile, in ScriptsDir, holds `rustc -vV` as the image was built: s2i/Dockerfile
// writes it, so that reading it costs no container start.
const rustcFile = "rustc-vV"

// Identity is what a builder image is, as far as a build's result goes: which
// compiler and which S2I scripts. Two builders made apart from the same base and the
// same s2i/ files have different image IDs (the classic builder stamps new times)
// but the same Identity, so cache keys and the final image's inputs label use it,
// never the image ID.
type Identity struct {
	Rustc   string // `rustc -vV`
	Scripts string // hex sha256 of the scripts' names and contents
}

// Release is the compiler's version, such as 1.85.0, or "rustc" when unknown.
func (id Identity) Release() string {
	for _, line := range strings.Split(id.Rustc, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "release: "); ok && v != "" {
			return v
		}
	}
	return "rustc"
}

// Key is a short hash of the whole identity.
func (id Identity) Key() string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(id.Rustc) + "\x00" + id.Scripts))
	return hex.EncodeToString(sum[:])[:12]
}

// IdentifyEngine is the part of the Docker client that Identify needs.
type IdentifyEngine interface {
	engine.Runner
	engine.Files
}

// Identify reads a builder image's Identity: the scripts and rustcFile in one pass
// through a container that never starts. A builder without rustcFile (made from
// another Dockerfile) runs `rustc -vV` instead, which costs a container start.
func Identify(ctx context.Context, e IdentifyEngine, ref string) (Identity, error) {
	files, err := engine.ReadFiles(ctx, e, ref, ScriptsDir)
	if err != nil {
		return Identity{}, fmt.Errorf("reading the S2I scripts of %s: %w", ref, err)
	}
	id, err := IdentityOf(files)
	if err != nil {
		return Identity{}, fmt.Errorf("builder %s %w", ref, err)
	}
	if strings.TrimSpace(id.Rustc) == "" {
		if id.Rustc, err = engine.Output(ctx, e, ref, "rustc", "-vV"); err != nil {
			return Identity{}, fmt.Errorf("asking builder %s for its compiler: %w", ref, err)
		}
	}
	return id, nil
}

// IdentityOf is the Identity of a builder whose ScriptsDir holds files; its Rustc
// is empty when the builder has no rustcFile (then only running it tells).
func IdentityOf(files map[string][]byte) (Identity, error) {
	id := Identity{Rustc: string(files[rustcFile])}
	scripts := maps.Clone(files)
	delete(scripts, rustcFile)
	if len(scripts) == 0 {
		return Identity{}, fmt.Errorf("has no S2I scripts in %s", ScriptsDir)
	}
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(scripts)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(scripts[name]))
		h.Write(scripts[name])
	}
	id.Scripts = hex.EncodeToString(h.Sum(nil))
	return id, nil
}
