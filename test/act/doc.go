// Package act runs this repository's GitHub Action the way a runner runs it: a
// workflow with `uses: ./`, executed by nektos/act (v0.2.89, built in a module of
// its own by hack/go-tool.sh and handed over as ACT) against the real Docker Engine,
// with act's own cache server behind the action's gha cache.
//
// Nothing is pulled. The action image is the static command on the busybox test base
// (as the e2e tests build it), and the only change to action.yml is its `image:` line,
// which names that image. act's job container is the busybox test base plus a `bash`
// wrapper (rust-s2i-test/act-job:latest). act runs it on the host network, and the
// action's container joins that network, so act's cache and artifact servers are
// bound to 127.0.0.1.
//
// The tests skip only in -short mode; without a daemon they fail.
package act
