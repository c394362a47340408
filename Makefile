# One place for the commands a newcomer needs. `make test` is what CI runs.
export CGO_ENABLED := 0
GO ?= go
BIN := bin/rust-s2i-musl

# Offline test images (see hack/test-images.sh); the builders are made by our own
# `builder` subcommand from the embedded s2i/ files. The test builder is a musl builder,
# as users get: no --target, so the s2i Dockerfile's default, x86_64-unknown-linux-musl,
# on Debian's rustc-web with the musl std built offline (hack/rust-musl/). The -gnu
# builder (+crt-static) comes from the same toolchain image, which also has the host's
# std; it is only made for what asks for it (`make test-builder-gnu`).
TEST_RUST_IMAGE        ?= rust-s2i-test/rust-musl:1.96
TEST_RUNTIME_IMAGE     ?= rust-s2i-test/busybox:latest
TEST_BUILDER_IMAGE     ?= rust-s2i-test/builder-musl:latest
TEST_GNU_RUST_IMAGE    ?= $(TEST_RUST_IMAGE)
TEST_GNU_BUILDER_IMAGE ?= rust-s2i-test/builder-gnu:latest
# The slim test builder carries no crate sources, as users' builders carry none. The
# e2e tests of crates that depend on Debian's packaged crates (ring, the -sys crates)
# build on the same builder with those sources in one layer on top.
TEST_CRATES_IMAGE         ?= rust-s2i-test/debian-crates:bookworm
TEST_CRATES_BUILDER_IMAGE ?= rust-s2i-test/builder-crates:latest
# nektos/act, which test/act runs the action with: package and version for go-tool.sh.
ACT_PKG := github.com/nektos/act v0.2.89

.PHONY: build example test test-all test-kept test-clean test-unit test-images test-builder-gnu clean

build:
	$(GO) build -o $(BIN) ./cmd/rust-s2i-musl

# Builds examples/hello into the image rust-musl-hello and runs it.
example: build test-images
	./$(BIN) build --source examples/hello --binary hello \
	  --builder $(TEST_BUILDER_IMAGE) --runtime-image $(TEST_RUNTIME_IMAGE)
	docker run --rm rust-musl-hello

# The first run on a machine builds the musl toolchain image: a few minutes, once.
# The test builder brings the C libraries as the default builder does, built from the
# toolchain image's own Debian sources (no upstream site is reachable offline), at
# the versions hack/clibs-versions.sh reads there; read once the image exists, and a
# failure to read them stops here rather than building a builder without them.
test-images: build
	bash hack/test-images.sh
	@# The daemon's build cache makes this a no-op when s2i/ is unchanged.
	set -e; clibs=$$(bash hack/clibs-versions.sh $(TEST_RUST_IMAGE)); \
	  ./$(BIN) builder --base $(TEST_RUST_IMAGE) --tag $(TEST_BUILDER_IMAGE) \
	    --c-libs "$$clibs" --c-libs-source debian >/dev/null
	printf 'FROM %s\nCOPY --from=%s /usr/share/cargo/registry /usr/share/cargo/registry\n' \
	  $(TEST_BUILDER_IMAGE) $(TEST_CRATES_IMAGE) | \
	  DOCKER_BUILDKIT=0 docker build -q -t $(TEST_CRATES_BUILDER_IMAGE) - >/dev/null

# The C libraries are musl builds: a -gnu builder has none.
test-builder-gnu: test-images
	./$(BIN) builder --base $(TEST_GNU_RUST_IMAGE) --target x86_64-unknown-linux-gnu \
	  --c-libs none --tag $(TEST_GNU_BUILDER_IMAGE) >/dev/null

test-unit:
	$(GO) vet ./...
	$(GO) test -short ./...

# The fuzz targets (archive reader, config loaders) that `make test` runs last, each
# for FUZZTIME: go test -fuzz takes one target per run. A crasher fails the run and
# is kept in the package's testdata/fuzz/, which plain `go test` replays from then on.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./internal/archive:FuzzExtract ./internal/archive:FuzzExtractCompressed \
	./internal/config:FuzzFromInputs ./internal/config:FuzzFromPlugin \
	./internal/config:FuzzParseBuildFlags ./internal/config:FuzzEnvList

# Everything, the Docker-backed tests included: they fail, not skip, without a daemon.
# hack/test-world.sh is the world around them: it starts the Docker Engine when none
# answers, and at the end, whether the tests passed, failed or were interrupted, stops
# what the run started (the engine only if it started it), removes what the tests made,
# and prints the disk used before and after and what is kept for the next run.
test:
	bash hack/test-world.sh run $(MAKE) --no-print-directory test-all

# What is kept between runs for speed (test images, the TLS daemon's data root, the
# built servers, buildkitd), with sizes; `make test-clean` removes all of it.
test-kept:
	@bash hack/test-world.sh kept

test-clean:
	bash hack/test-world.sh run bash hack/test-world.sh purge

# The tests themselves, inside the world `make test` makes.
# Azurite (the blob store behind the v2 cache tests) is installed first, and
# SeaweedFS's weed (the S3 store behind the s3 cache tests) and syft (the scanner
# the supply-chain tests read the final image with) built first (minutes each on
# a fresh machine, then reused), so the tests themselves stay on loopback and fail,
# not skip, without them; a failed install stops the run before the tests.
# SPDX_SCHEMA is the SPDX 2.3 JSON schema from syft's module at the same version,
# which the SBOM tests validate our documents against. BUILDKIT_DIR holds buildkitd
# and buildctl v0.35.0 (hack/buildkit.sh: built once, about 5 minutes), which the
# BuildKit tests start in a network namespace of their own.
# The -gnu builder is for the e2e test of a -gnu target with +crt-static.
test-all: test-images test-builder-gnu
	$(GO) vet ./...
	@# sshd, ip and nsenter, for test/remote's peers: a TLS dockerd and an sshd.
	bash hack/remote-engine.sh
	@# QEMU for running the arm64 results (never for building); the world unregisters it.
	bash hack/qemu.sh
	set -e; azurite=$$(bash hack/azurite.sh); weed=$$(bash hack/seaweedfs.sh); syft=$$(bash hack/syft.sh); \
	  spdx=$$(bash hack/syft.sh spdx-schema); buildkit=$$(bash hack/buildkit.sh); act=$$(bash hack/go-tool.sh act $(ACT_PKG)); \
	  AZURITE_BLOB=$$azurite WEED=$$weed SYFT=$$syft SPDX_SCHEMA=$$spdx BUILDKIT_DIR=$$buildkit ACT=$$act \
	  $(GO) test -count=1 -timeout 40m ./...
	@# Once more on a failure: go's fuzz coordinator sometimes ends a run with "context
	@# deadline exceeded" and no input at fault. A real crasher is kept in testdata/fuzz
	@# and fails the second run too.
	set -e; for t in $(FUZZ_TARGETS); do \
	  $(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) "$${t%%:*}/" || \
	  $(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) "$${t%%:*}/"; \
	done

# The action run the way a runner runs it: a workflow through nektos/act (built in a
# module of its own by hack/go-tool.sh: its dependencies are not ours), offline, with
# act's cache server (test/act). `make test` runs it too.
.PHONY: act
act: test-images
	ACT=$$(bash hack/go-tool.sh act $(ACT_PKG)) $(GO) test -count=1 -v -timeout 15m ./test/act/

clean:
	rm -rf bin

# Benchmarks, not tests: cargo with a target/ volume (L), a BuildKit Dockerfile with
# cache mounts (B) and this project (P), side by side on examples/hello and on
# bench/crates/heavy. Writes bench/results.md and prints it. RUNS=5 by default
# (`make bench RUNS=3`); see bench/run.sh for the other knobs.
# It measures what users get by default, the musl target, on the musl test builder's
# toolchain (L and B build with the same rustc as P). `make bench-gnu` measures -gnu
# with +crt-static on the same toolchain.
.PHONY: bench bench-gnu
bench: build test-images
	TEST_RUST_IMAGE=$(TEST_RUST_IMAGE) TEST_BUILDER_IMAGE=$(TEST_BUILDER_IMAGE) \
	  TEST_RUNTIME_IMAGE=$(TEST_RUNTIME_IMAGE) TEST_TARGET=x86_64-unknown-linux-musl \
	  BENCH_DEPS_IMAGE=rust-s2i-bench/rust-deps:1.96 bash bench/run.sh

bench-gnu: build test-builder-gnu
	TEST_RUST_IMAGE=$(TEST_GNU_RUST_IMAGE) TEST_BUILDER_IMAGE=$(TEST_GNU_BUILDER_IMAGE) \
	  TEST_RUNTIME_IMAGE=$(TEST_RUNTIME_IMAGE) TEST_TARGET=x86_64-unknown-linux-gnu \
	  BENCH_DEPS_IMAGE=rust-s2i-bench/rust-deps:1.96 bash bench/run.sh

# What a second platform costs: arm64 cross-compiled cold against amd64 native cold, and
# a two-platform one-line change against a one-platform one (bench/platforms.sh).
.PHONY: bench-platforms
bench-platforms: build test-images
	bash bench/images.sh
	bash bench/platforms.sh

# The first job on a fresh runner: a one-line change with the builder pulled onto an
# empty engine and the state restored from the cache, against the cargo-chef pattern
# on standalone BuildKit with its layer cache imported (bench/fresh-runner.sh; needs
# root). BENCH_BEFORE_BUILDER=IMAGE measures an older builder beside them.
.PHONY: bench-fresh-runner
bench-fresh-runner: build test-images
	bash bench/fresh-runner.sh

# This project on BuildKit (K: --engine buildkit, --cache local, pushed to a loopback
# registry) against itself on the Docker Engine (P) and the cache-mount Dockerfile (B) on
# the same buildkitd, on bench/crates/heavy: cold, a warm one-line change, and a one-line
# change on a fresh buildkitd that keeps only the cache (bench/buildkit.sh; needs root).
.PHONY: bench-buildkit
bench-buildkit: build test-images
	bash bench/buildkit.sh

# What the builder's C libraries cost: a one-line change with and without them, and
# the builder's size (bench/clibs.sh).
.PHONY: bench-clibs
bench-clibs: build test-images
	bash bench/images.sh
	bash bench/clibs.sh
