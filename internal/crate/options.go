package crate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// featuresManifest holds the parts of a package's Cargo.toml that decide which
// features `cargo build --features` accepts for it.
type featuresManifest struct {
	Features          map[string][]string `toml:"features"`
	Dependencies      map[string]any      `toml:"dependencies"`
	BuildDependencies map[string]any      `toml:"build-dependencies"`
	Target            map[string]struct {
		Dependencies      map[string]any `toml:"dependencies"`
		BuildDependencies map[string]any `toml:"build-dependencies"`
	} `toml:"target"`
}

// Features returns the sorted names of the features that the package owning the
// binary target named binary declares: its [features] table, plus the implicit
// feature of each optional dependency that no feature names as "dep:NAME" (cargo
// drops the implicit feature then).
//
// It exists so that a misspelt --features entry fails before a container starts,
// with a message that lists what exists. The error names a binary that no package of
// the crate or workspace at dir has.
func Features(dir, binary string) ([]string, error) {
	pkgs, err := packages(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		bins, err := packageBinaries(p.dir, p.manifest)
		if err != nil {
			return nil, err
		}
		if slices.Contains(bins, binary) {
			return packageFeatures(dir, p.dir)
		}
	}
	return nil, fmt.Errorf("no package of %s has the binary %q", dir, binary)
}

// packageFeatures reads the features of the package in dir, below root.
func packageFeatures(root, dir string) ([]string, error) {
	var m featuresManifest
	if err := readTOML(root, filepath.Join(dir, manifestName), &m); err != nil {
		return nil, err
	}
	names := slices.Collect(maps.Keys(m.Features))
	explicit := map[string]bool{} // dependencies named as dep:NAME
	for _, values := range m.Features {
		for _, v := range values {
			if d, ok := strings.CutPrefix(v, "dep:"); ok {
				explicit[d] = true
			}
		}
	}
	tables := []map[string]any{m.Dependencies, m.BuildDependencies}
	for _, t := range m.Target {
		tables = append(tables, t.Dependencies, t.BuildDependencies)
	}
	for _, deps := range tables {
		for name, spec := range deps {
			if d, ok := spec.(map[string]any); ok && d["optional"] == true && !explicit[name] {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Profiles returns the custom profiles defined for the crate or workspace at dir,
// each with its `inherits` ("" when unset): the [profile.NAME] tables of the root
// Cargo.toml and of .cargo/config.toml (or the older .cargo/config) beside it, the
// two places in the source that cargo reads profiles from. Cargo's own profiles
// (dev, release, test, bench) are included only when one of those files configures
// them.
//
// It exists so that a misspelt --profile fails before a container starts. A missing
// .cargo/config.toml is not an error; an unparsable one is.
func Profiles(dir string) (map[string]string, error) {
	type profiles struct {
		Profile map[string]map[string]any `toml:"profile"`
	}
	out := map[string]string{}
	add := func(path string, optional bool) error {
		var p profiles
		err := readTOML(dir, path, &p)
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for name, table := range p.Profile {
			inherits, _ := table["inherits"].(string)
			if inherits == "" {
				inherits = out[name]
			}
			out[name] = inherits
		}
		return nil
	}
	if err := add(filepath.Join(dir, manifestName), false); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, ".cargo", "config.toml")
	if !exists(config) {
		config = filepath.Join(dir, ".cargo", "config")
	}
	if err := add(config, true); err != nil {
		return nil, err
	}
	return out, nil
}

// readTOML parses the TOML file at path, a file of the source at root (see
// readFile), into v, naming the file and position in the error.
func readTOML(root, path string, v any) error {
	data, err := readFile(root, path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := toml.Unmarshal(data, v); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return fmt.Errorf("parse %s:%d:%d: %w", path, row, col, err)
		}
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
