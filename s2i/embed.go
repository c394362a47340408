// Package s2i holds the builder image definition: its Dockerfile and the S2I scripts.
// They are embedded so that `rust-s2i-musl builder` can build the image from the
// binary alone, with no checkout of this repository.
package s2i

import "embed"

// Files is the builder image's build context: Dockerfile and bin/.
//
//go:embed Dockerfile bin
var Files embed.FS
