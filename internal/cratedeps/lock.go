package cratedeps

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// lockFile is the part of Cargo.lock this package reads: each package's checksum.
// Lock files of version 3 and 4 keep it in the [[package]] entry; version 1 kept it
// in a [metadata] table keyed "checksum NAME VERSION (SOURCE)".
type lockFile struct {
	Package  []lockPackage     `toml:"package"`
	Metadata map[string]string `toml:"metadata"`
}

type lockPackage struct {
	Name     string `toml:"name"`
	Version  string `toml:"version"`
	Source   string `toml:"source"`
	Checksum string `toml:"checksum"`
}

// lockKey identifies a package in Cargo.lock the way cargo does: path packages
// have no source, and the same name and version can come from two sources.
type lockKey struct{ name, version, source string }

// checksums maps each locked package to its SHA-256 checksum (hex), for those that
// have one: registry packages. Git and path packages have none. An empty lock
// yields an empty map, so that a crate without Cargo.lock still gets an SBOM.
func checksums(lock []byte) (map[lockKey]string, error) {
	out := map[lockKey]string{}
	if len(lock) == 0 {
		return out, nil
	}
	var lf lockFile
	if err := toml.Unmarshal(lock, &lf); err != nil {
		return nil, fmt.Errorf("Cargo.lock: %w", err)
	}
	for _, p := range lf.Package {
		if p.Checksum != "" {
			out[lockKey{p.Name, p.Version, p.Source}] = p.Checksum
		}
	}
	for k, v := range lf.Metadata {
		if key, ok := parseV1ChecksumKey(k); ok && v != "<none>" {
			out[key] = v
		}
	}
	return out, nil
}

// parseV1ChecksumKey reads "checksum NAME VERSION (SOURCE)" from a version 1 lock.
func parseV1ChecksumKey(k string) (lockKey, bool) {
	rest, ok := strings.CutPrefix(k, "checksum ")
	if !ok {
		return lockKey{}, false
	}
	fields := strings.SplitN(rest, " ", 3)
	if len(fields) != 3 {
		return lockKey{}, false
	}
	src := strings.TrimSuffix(strings.TrimPrefix(fields[2], "("), ")")
	return lockKey{fields[0], fields[1], src}, true
}
