// Package cratedeps computes the crates that cargo compiles into one binary for one
// target: the closure of the root package's normal and build dependencies in the
// resolved graph of `cargo metadata --format-version 1`, without dev-dependencies,
// without dependencies whose platform condition does not hold for the target, and
// without the crates of workspace members the binary does not use.
//
// The graph is what the binary's SBOM, its embedded cargo-auditable list and the
// scanners' findings are made of, so it must be the same on every machine: crates
// are sorted (by name, version and package id) and nothing comes from a map's order.
//
// Features are cargo's business: `cargo metadata` resolves optional dependencies
// for the features it is given, so the caller must run it with the same
// --features/--no-default-features/--all-features as the build. Resolve checks that
// the root's resolved features include the ones the build asked for, which catches
// a metadata run made without them.
package cratedeps
