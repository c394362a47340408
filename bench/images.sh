#!/usr/bin/env bash
# Builds the images bench/ needs on top of the offline test images (hack/test-images.sh):
#
#   rust-s2i-bench/rust-deps:1.96     rust-s2i-test/rust-musl:1.96 + the Debian crates listed
#                                     in bench/deps-packages.txt (librust-*-dev), which
#                                     bench/crates/heavy resolves through its
#                                     .cargo/config.toml source replacement
#   rust-s2i-bench/builder-deps:latest our builder on top of it (rust-s2i-musl builder),
#                                     for TEST_TARGET (default x86_64-unknown-linux-musl)
#
# Idempotent: the deps image is rebuilt only when the package list changed (its hash
# is a label), and the builder subcommand is a no-op through the daemon's build cache.
set -euo pipefail
cd "$(dirname "$0")/.."

RUST_IMAGE=${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}
DEPS_IMAGE=${BENCH_DEPS_IMAGE:-rust-s2i-bench/rust-deps:1.96}
DEPS_BUILDER=${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}
TARGET=${TEST_TARGET:-x86_64-unknown-linux-musl}
BIN=${BIN:-bin/rust-s2i-musl}

pkgs=$(grep -v '^#' bench/deps-packages.txt | tr '\n' ' ')
want=$( { echo "$RUST_IMAGE"; docker image inspect -f '{{.Id}}' "$RUST_IMAGE"; echo "$pkgs"; } | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "io.rust-s2i.bench.deps"}}' "$DEPS_IMAGE" 2>/dev/null || true)
if [[ "$have" != "$want" ]]; then
  echo "bench-images: building $DEPS_IMAGE (about 2 min)" >&2
  DOCKER_BUILDKIT=0 docker build -q -t "$DEPS_IMAGE" - >/dev/null <<DOCKERFILE
FROM $RUST_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs \\
 && rm -rf /var/lib/apt/lists/*
LABEL io.rust-s2i.bench.deps=$want
DOCKERFILE
fi
log=$(mktemp)
# No C libraries (s2i/clibs.sh): the benchmarks' crates link none, a -gnu TEST_TARGET
# could not have them, and their default source is upstream, out of reach offline.
"$BIN" builder --base "$DEPS_IMAGE" --target "$TARGET" --c-libs none --tag "$DEPS_BUILDER" >"$log" 2>&1 || {
  cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
echo "bench-images: $DEPS_IMAGE and $DEPS_BUILDER ready" >&2
