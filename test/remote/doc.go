// Package remote runs the rust-s2i-musl command against Docker daemons that are not
// the local socket, reached the ways the docker CLI reaches them: a second dockerd
// with --tlsverify on tcp://127.0.0.1:2376 inside a network namespace of its own
// (DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, and a Docker context),
// and the local daemon through an sshd on loopback (DOCKER_HOST=ssh://…).
// TestTwoEnginesOneDigest builds one commit on the local daemon and on that second
// one, pushes both to one registry, and compares what they pushed.
//
// Both peers are real and started by the tests; hack/remote-engine.sh installs
// them (sshd, ip, nsenter). They need root, or passwordless sudo. The tests skip
// only in -short mode; without their peers they fail.
package remote
