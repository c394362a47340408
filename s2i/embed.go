// Package builderimage holds the builder image's definition, its Dockerfile and
// S2I scripts, embedded so that `rust-s2i-musl builder` can build the image from
// the binary alone, with no checkout of this repository. The folder keeps S2I's
// conventional name, s2i/; the package is named for what it holds, apart from
// internal/s2i, which runs S2I builds.
package builderimage

import "embed"

// Files is the builder image's build context: Dockerfile, bin/, cross.sh, and
// clibs.sh with the checksums it builds from, clibs.sums.
//
//go:embed Dockerfile bin cross.sh clibs.sh clibs.sums
var Files embed.FS
