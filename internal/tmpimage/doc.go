// Package tmpimage owns the contract of the builder image and the -tmp image: the
// S2I result that carries one binary's build state from a build to the next. It is
// the one place that knows
//
//   - the layout: the builder image plus the build user's home, AppRoot, holding
//     cargo/ (CargoHome) with the registry and git checkouts, target/ (TargetDir),
//     the source (SourceDir) and bin/ (BinDir) with the binary and the timings;
//   - the environment that tells the S2I scripts in s2i/bin those paths
//     (ScriptEnv, set by s2i/Dockerfile; a test keeps the two in step), and the
//     version of the protocol the scripts speak (ScriptsProtocol, which
//     CheckProtocol requires of a builder);
//   - the labels on the -tmp image (LabelBuilder, LabelSource, LabelRef,
//     LabelRustc, LabelToolchain, LabelInputs) and what they decide: whose state it
//     is, the source's and the ref's (Owner), and whether a build may stack on it
//     (CanStack);
//   - how state goes in (FromCargoHome, FromEntries) and comes out (Export, as the
//     cache's Entries, and BinaryPath, where the final image takes the binary from).
//
// It replaces the original design's bootstrap-image.sh, which made a fake previous
// image from a fetched cargo home: `rust-s2i-musl bootstrap` and cache restores both
// write through here.
package tmpimage
