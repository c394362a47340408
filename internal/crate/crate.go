package crate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/rust-s2i/rust-s2i-musl/internal/source"
)

// manifestName is the file cargo reads in every package and workspace root.
const manifestName = "Cargo.toml"

// manifest holds the parts of Cargo.toml that decide which binaries exist.
// Every other key is ignored.
type manifest struct {
	Package   *packageSection   `toml:"package"`
	Bin       []binSection      `toml:"bin"`
	Workspace *workspaceSection `toml:"workspace"`
}

type packageSection struct {
	Name string `toml:"name"`
	// Autobins is nil when unset, which cargo treats as true.
	Autobins *bool `toml:"autobins"`
}

type binSection struct {
	Name string `toml:"name"`
	Path string `toml:"path"`
}

type workspaceSection struct {
	Members []string `toml:"members"`
	Exclude []string `toml:"exclude"`
}

// binaries returns the sorted, de-duplicated names of the binary targets
// that cargo would build in the crate or workspace rooted at dir.
//
// It exists so that a --binary flag can be checked against the source before
// a slow container build starts; see the package documentation for the rules
// applied. The result is empty (not an error) for a library-only crate.
func binaries(dir string) ([]string, error) {
	w, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return w.names(func(_ pkg, bins []string) []string { return bins })
}

// Workspace is a crate or workspace whose manifests were read once: the root
// Cargo.toml and each member's, parsed.
type Workspace struct {
	dir  string
	pkgs []pkg
}

// Open reads the crate or workspace rooted at dir.
func Open(dir string) (*Workspace, error) {
	pkgs, err := packages(dir)
	if err != nil {
		return nil, err
	}
	return &Workspace{dir: dir, pkgs: pkgs}, nil
}

// OwnNames returns the names of the workspace's own packages and binaries, each
// also with '-' as '_' (the form cargo gives crate names in file names).
//
// It exists so that the saved build state can leave out the workspace's own
// artifacts: they are rebuilt from the source anyway, and only dependencies are
// worth keeping.
func (w *Workspace) OwnNames() ([]string, error) {
	return w.names(func(p pkg, bins []string) []string {
		var names []string
		for _, n := range append(bins, p.manifest.Package.Name) {
			names = append(names, n, strings.ReplaceAll(n, "-", "_"))
		}
		return names
	})
}

// names gathers what each gives for each package of the workspace and that
// package's binaries, sorted and de-duplicated.
func (w *Workspace) names(each func(p pkg, bins []string) []string) ([]string, error) {
	var all []string
	for _, p := range w.pkgs {
		bins, err := packageBinaries(p.dir, p.manifest)
		if err != nil {
			return nil, err
		}
		all = append(all, each(p, bins)...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// Manifests returns the paths, relative to the workspace's root, of the workspace's own manifests:
// the root Cargo.toml and each member's.
//
// It exists so that cache keys change with what decides the build state: a
// Cargo.toml elsewhere in the tree (a vendored git dependency, an example) is no
// setting of this build.
func (w *Workspace) Manifests() ([]string, error) {
	files := []string{"Cargo.toml"}
	for _, p := range w.pkgs {
		rel, err := filepath.Rel(w.dir, filepath.Join(p.dir, "Cargo.toml"))
		if err != nil {
			return nil, err
		}
		files = append(files, rel)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// pkg is one package of a crate or workspace.
type pkg struct {
	dir      string
	manifest *manifest
}

// packages returns the root package, if any, and the workspace members'.
func packages(dir string) ([]pkg, error) {
	root, err := readManifest(dir, dir)
	if err != nil {
		return nil, err
	}
	var pkgs []pkg
	if root.Package != nil {
		pkgs = append(pkgs, pkg{dir, root})
	}
	if root.Workspace == nil {
		return pkgs, nil
	}
	members, err := workspaceMembers(dir, root.Workspace)
	if err != nil {
		return nil, err
	}
	for _, member := range members {
		m, err := readManifest(dir, member)
		if err != nil {
			return nil, err
		}
		if m.Package == nil {
			// A nested virtual manifest; cargo rejects it, and it has no
			// targets of its own either way.
			continue
		}
		pkgs = append(pkgs, pkg{member, m})
	}
	return pkgs, nil
}

// CheckBinary returns nil when name is one of binaries(dir); otherwise an
// error whose text names the binary and lists the ones that exist.
//
// It exists so that a wrong --binary fails fast with a message the user can
// act on, instead of failing minutes later inside cargo. If dir has no
// Cargo.toml, the error says so and wraps fs.ErrNotExist.
func CheckBinary(dir, name string) error {
	bins, err := binaries(dir)
	if err != nil {
		return err
	}
	if _, found := slices.BinarySearch(bins, name); found {
		return nil
	}
	if len(bins) == 0 {
		return fmt.Errorf("binary %q is not a binary of %s: it has no binaries", name, dir)
	}
	return fmt.Errorf("binary %q is not a binary of %s: it has %s", name, dir, strings.Join(bins, ", "))
}

// readManifest reads and parses dir/Cargo.toml, dir being root or a directory
// below it (see readFile). It rejects a manifest that has neither [package] nor
// [workspace], as cargo does.
func readManifest(root, dir string) (*manifest, error) {
	path := filepath.Join(dir, manifestName)
	data, err := readFile(root, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s in %s: %w", manifestName, dir, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m manifest
	if err := toml.Unmarshal(data, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("parse %s:%d:%d: %w", path, row, col, err)
		}
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if m.Package == nil && m.Workspace == nil {
		return nil, fmt.Errorf("%s has neither [package] nor [workspace]", path)
	}
	return &m, nil
}

// packageBinaries applies cargo's target rules to the package whose
// manifest m sits in dir: explicit [[bin]] entries first, then, unless
// autobins is false, the inferred ones whose path no [[bin]] claims.
func packageBinaries(dir string, m *manifest) ([]string, error) {
	path := filepath.Join(dir, manifestName)
	if m.Package.Name == "" {
		return nil, fmt.Errorf("%s: [package] has no name", path)
	}
	var names []string
	claimed := make(map[string]bool)
	for _, b := range m.Bin {
		if b.Name == "" {
			return nil, fmt.Errorf("%s: [[bin]] entry has no name", path)
		}
		names = append(names, b.Name)
		if b.Path != "" {
			claimed[filepath.Join(dir, b.Path)] = true
		}
	}
	if m.Package.Autobins != nil && !*m.Package.Autobins {
		return names, nil
	}
	for _, t := range inferredBins(dir, m.Package.Name) {
		if !claimed[t.Path] {
			names = append(names, t.Name)
		}
	}
	return names, nil
}

// inferredBins lists the binaries cargo discovers without a [[bin]] entry:
// src/main.rs, src/bin/NAME.rs and src/bin/NAME/main.rs. Like cargo, it
// treats an unreadable src/bin as empty. Paths are joined onto dir.
func inferredBins(dir, pkgName string) []binSection {
	var bins []binSection
	main := filepath.Join(dir, "src", "main.rs")
	if exists(main) {
		bins = append(bins, binSection{Name: pkgName, Path: main})
	}
	binDir := filepath.Join(dir, "src", "bin")
	entries, err := os.ReadDir(binDir)
	if err != nil {
		return bins
	}
	for _, e := range entries {
		p := filepath.Join(binDir, e.Name())
		switch {
		case e.IsDir():
			if sub := filepath.Join(p, "main.rs"); exists(sub) {
				bins = append(bins, binSection{Name: e.Name(), Path: sub})
			}
		case filepath.Ext(e.Name()) == ".rs":
			if stem := strings.TrimSuffix(e.Name(), ".rs"); stem != "" {
				bins = append(bins, binSection{Name: stem, Path: p})
			}
		}
	}
	return bins
}

// workspaceMembers expands workspace.members (globs relative to root) into
// the member directories, keeping only those that hold a Cargo.toml and
// dropping the root itself and anything under workspace.exclude, unless a
// members entry names it literally. The result is in glob order, without
// duplicates.
func workspaceMembers(root string, ws *workspaceSection) ([]string, error) {
	root = filepath.Clean(root)
	seen := map[string]bool{root: true}
	var members []string
	for _, pattern := range ws.Members {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, fmt.Errorf("workspace member %q in %s: %w", pattern, filepath.Join(root, manifestName), err)
		}
		for _, dir := range matches {
			if seen[dir] || !isFile(filepath.Join(dir, manifestName)) || excluded(root, dir, ws) {
				continue
			}
			seen[dir] = true
			members = append(members, dir)
		}
	}
	return members, nil
}

// excluded mirrors cargo's rule: a directory under a workspace.exclude entry
// is not a member unless it is also under a literal workspace.members entry.
func excluded(root, dir string, ws *workspaceSection) bool {
	under := func(entries []string) bool {
		for _, e := range entries {
			if within(filepath.Join(root, e), dir) {
				return true
			}
		}
		return false
	}
	return under(ws.Exclude) && !under(ws.Members)
}

// within reports whether path is base or lies beneath it, comparing whole
// path elements as cargo's Path::starts_with does.
func within(base, path string) bool {
	rel, err := filepath.Rel(base, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// exists reports whether path exists, following symlinks, as cargo's
// Path::exists does.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// isFile reports whether path is, or links to, a regular file.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readFile reads path, a file of the source tree at root, as source.ReadFile
// does: a source is untrusted, and a manifest that is a symbolic link to
// /dev/zero, or out of the tree (itself, or a workspace member's directory), must
// neither exhaust memory nor read the host.
func readFile(root, path string) ([]byte, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return nil, err
	}
	return source.ReadFile(root, rel, source.MaxManifest)
}
