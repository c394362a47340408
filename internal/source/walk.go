// Package source decides what of a local crate directory a build sees, and reads
// its commit. The up-to-date check hashes exactly what the S2I upload places, so
// both walk the tree through Walk: if they disagreed, a change to a file the build
// sees could leave the image "up to date", or one it does not see could rebuild it.
package source

import (
	"io/fs"
	"path/filepath"
	"slices"
)

// S2IConventions are the names at the top of a source that S2I itself acts on,
// on the host, before and around the build: .s2i/bin (and the older .sti/bin)
// scripts, which S2I prefers to the builder image's own; .s2i/environment, which
// it reads following symbolic links and commits into the -tmp image's
// environment; and .s2iignore, whose globs S2I joins to its working directory and
// removes, ".." included. A source is untrusted input (a pull request can add any
// of them), and the builder's scripts and the env setting are the only ones this
// tool honours, so none of these ever reaches S2I.
var S2IConventions = []string{".s2i", ".sti", ".s2iignore"}

// Walk calls visit for each entry of the source tree below root that the build
// sees, in lexical order: rel is its path relative to root ("." for the root
// itself), info its Lstat. It leaves out the root's target/ directory (host build
// output, often gigabytes, that the build never reads: the builder has its own
// CARGO_TARGET_DIR), S2IConventions at the root, and anything that is not a
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
		if slices.Contains(S2IConventions, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
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
