// Package buildkit tests what runs against BuildKit, the second engine, in the
// BuildKit test world of testenv.StartBuildKit: a rootful buildkitd v0.35.0 and a
// registry on loopback, in a network namespace of their own, which the tests start
// and stop. They need BUILDKIT_DIR (bash hack/buildkit.sh, which `make test` runs),
// the test images of the local Docker daemon, and root through passwordless sudo.
// They skip only in -short mode; without their peers they fail.
package buildkit
