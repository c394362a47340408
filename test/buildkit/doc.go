// Package buildkit tests what runs against BuildKit, the second engine, in the
// BuildKit test world of testenv.StartBuildKit: a buildkitd v0.35.0 (rootful, or
// rootless under rootlesskit) and a registry on loopback, in a network namespace of
// their own, which the tests start and stop. They need BUILDKIT_DIR (bash
// hack/buildkit.sh, which `make test` runs), the test images of the local Docker
// daemon, and root through passwordless sudo; the rootless world runs as the test's
// own user, so not when the tests run as root.
// They skip only in -short mode; without their peers they fail.
package buildkit
