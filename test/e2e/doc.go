// Package e2e runs the rust-s2i-musl command against a real Docker Engine, with the
// offline test images that `make test-images` builds. The tests skip only in -short
// mode; without a daemon they fail.
package e2e
