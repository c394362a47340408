package testenv

// PLACEHOLDER for the test world's multiarch.go (written on the test-world
// branch): the two functions the multi-platform end-to-end tests call, with the
// signatures they expect, so that test/e2e compiles here. This version only reads
// TEST_RUNTIME_INDEX, which .ci/run sets; take the test world's file over this
// one when the branches meet.

import (
	"os"
	"strings"
	"testing"
)

// MultiArchBase is the reference of a two-platform runtime base (a linux/amd64
// and a linux/arm64 busybox under one OCI index) in a loopback registry that
// runs for the test binary's lifetime: 127.0.0.1:PORT/rust-s2i-test/busybox:multi.
func MultiArchBase(t testing.TB) string {
	t.Helper()
	ref := os.Getenv("TEST_RUNTIME_INDEX")
	if ref == "" {
		t.Fatal("TEST_RUNTIME_INDEX is not set: run the end-to-end tests through `make test` (.ci/run), " +
			"which pushes the two-platform runtime base to a loopback registry and sets it")
	}
	return ref
}

// MultiArchRegistry is the address (127.0.0.1:PORT) of the loopback registry
// that holds MultiArchBase, where the tests push their images too.
func MultiArchRegistry(t testing.TB) string {
	t.Helper()
	host, _, _ := strings.Cut(MultiArchBase(t), "/")
	return host
}
