// Package crate answers one question about a local Rust source directory
// before any container build starts: which binary targets would cargo build
// there?
//
// The build tool accepts --binary NAME. A misspelt name would otherwise only
// surface minutes later, deep inside a cargo run in a build container. This
// package reads Cargo.toml (and, for a workspace, each member's Cargo.toml)
// and applies cargo's target auto-discovery rules, so that a wrong name fails
// at once with a message that lists the binaries which do exist.
//
// The rules follow cargo closely enough for real projects:
//
//   - A [package] with src/main.rs has a binary named after package.name.
//   - Every [[bin]] entry is a binary.
//   - Unless package.autobins is false, src/bin/*.rs (named after the file
//     stem) and src/bin/*/main.rs (named after the directory) are binaries,
//     as is src/main.rs; an inferred target whose path is already claimed by
//     a [[bin]] entry is dropped, as cargo does.
//   - A [workspace] contributes the binaries of every member: the entries of
//     workspace.members are globs relative to the workspace root, only
//     directories holding a Cargo.toml count (cargo itself refuses a matched
//     directory without one; here it is skipped), and workspace.exclude
//     removes members. A root that is also a [package] contributes its own
//     binaries.
//
// Deliberately not modelled: the edition-2015 rule that an explicit [[bin]]
// turns off auto-discovery (this only lets through a name that cargo would
// then reject itself), and path dependencies that join a workspace without
// being listed in workspace.members (their binaries are not reported).
//
// For the same reason it also answers two questions about cargo options: which
// features the package owning a binary declares (Features), and which profiles the
// workspace defines (Profiles).
package crate
