// Package source decides what of a local crate directory a build sees, and reads
// its commit. The up-to-date check hashes exactly what the S2I upload places, so
// both walk the tree through Walk: if they disagreed, a change to a file the build
// sees could leave the image "up to date", or one it does not see could rebuild it.
package source

import (
	"io/fs"
	"path/filepath"
)

// Walk calls visit for each entry of the source tree below root that the build
// sees, in lexical order: rel is its path relative to root ("." for the root
// itself), info its Lstat. It leaves out the root's
// target/ directory (host build output, often gigabytes, that the build never
// reads: the builder has its own CARGO_TARGET_DIR) and anything that is not a
// directory, regular file or symbolic link (sockets, fifos and devices are no
// source). visit may return filepath.SkipDir for a directory.
func Walk(root string, visit func(path, rel string, info fs.FileInfo) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "target" && d.IsDir() {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.IsDir() && !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			return nil
		}
		return visit(p, rel, info)
	})
}
