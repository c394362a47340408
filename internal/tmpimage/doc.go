// Package tmpimage owns the -tmp image: the S2I result that carries one binary's
// build state from a build to the next. It is the one place that knows its layout
// (the builder image plus the build user's home, AppRoot, holding cargo/ with the
// registry and git checkouts, target/, and bin/ with the binary) and how state goes
// in (FromCargoHome, FromEntries) and comes out (Export, as the cache's entries,
// and BinaryPath, where the final image takes the binary from).
//
// It replaces the original design's bootstrap-image.sh, which made a fake previous
// image from a fetched cargo home: `rust-s2i-musl bootstrap` and cache restores both
// write through here.
package tmpimage
