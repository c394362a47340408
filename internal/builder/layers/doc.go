// Package layers cuts the builder image into layers made for pulling, and
// assembles them into an image to push with go-containerregistry.
//
// The builder as the daemon builds it has the layers of its Dockerfile's steps:
// the base image's, then one step that installs the toolchain, the C compilers
// and the build user together, one for the C libraries, one for the scripts. A
// toolchain bump rebuilds the first step and, below it, every later one, so a
// runner that had yesterday's builder pulls nearly all of today's again. Here the
// builder's flattened filesystem (a container's export: one tar, no whiteouts, hard
// links consistent) is split again by what the files are rather than by the step
// that made them: Parts, a table of path rules, puts the system first, then the C
// toolchain, the C libraries, rustc and cargo, each target's std, and last the
// scripts, so that what changes least comes first. Every mtime is clamped to Epoch,
// so a part whose files did not change is the same layer, digest and all, however
// often the steps that make it are rebuilt: after a toolchain bump a runner pulls
// the rust and std parts, and keeps its system, C toolchain and C libraries.
//
// Split writes each part as a tar file, compressed with gzip and with zstd, into a
// temporary directory (the filesystem is about a gigabyte); Image assembles the
// parts, in one compression, with the original image's config into a v1.Image.
// Nothing here talks to the daemon or a registry.
package layers
