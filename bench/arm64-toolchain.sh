#!/usr/bin/env bash
# Builds the arm64 Rust toolchain image the QEMU anchor of bench/platforms.sh builds on,
# offline, the way a build-push-action user's `--platform linux/arm64` gets one from
# Docker Hub:
#
#   rust-s2i-bench/rust-deps-arm64:1.96  Debian bookworm for arm64 (debootstrap's foreign
#       stage on this host, its second stage run under qemu-user through binfmt_misc),
#       bookworm-security's rustc-web/cargo-web at the pin of hack/rust-musl/Dockerfile,
#       musl-tools, the Debian crates of bench/deps-packages.txt, and the
#       aarch64-unknown-linux-musl std copied from rust-s2i-test/rust-musl:1.96. The std's
#       rlibs are made for the target, not for the host, and both rustc are the same
#       Debian build, so the arm64 rustc loads them: the anchor builds exactly the
#       binary this project cross-compiles (static musl aarch64), with the same compiler,
#       only natively under emulation.
#   rust-s2i-bench/busybox-arm64:platform  rust-s2i-test/busybox-arm64 with arm64 in its
#       config, the anchor's runtime stage
#
# Idempotent: rebuilt only when its inputs changed (a hash of them is a label). Needs
# root (debootstrap, chroot) and the qemu-aarch64 binfmt entry (hack/qemu.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${BENCH_ARM64_IMAGE:-rust-s2i-bench/rust-deps-arm64:1.96}
MUSL_IMAGE=${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}
BASE_IN=${BUSYBOX_ARM64_IMAGE:-rust-s2i-test/busybox-arm64:latest}
BASE=${BENCH_ARM64_BASE:-rust-s2i-bench/busybox-arm64:platform}
RUST_DEB_VERSION=$(sed -n 's/^ARG RUST_DEB_VERSION=//p' hack/rust-musl/Dockerfile)
pkgs=$(grep -v '^#' bench/deps-packages.txt | tr '\n' ' ')
want=$( { echo "$RUST_DEB_VERSION"; docker image inspect -f '{{.Id}}' "$MUSL_IMAGE"; echo "$pkgs"; cat "$0"; } | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "io.rust-s2i.bench.arm64"}}' "$IMAGE" 2>/dev/null || true)
# platform_image NAME LABEL DIR: DIR's Dockerfile context (rootfs.tar) as an image
# whose config says arm64 (docker import records the daemon's own architecture):
# BuildKit builds FROM scratch for the platform asked for, and ADD of a local tar
# needs no emulation.
platform_image() {
  printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "LABEL $2" >"$3/Dockerfile"
  DOCKER_BUILDKIT=1 /usr/bin/docker build -q --platform linux/arm64 -t "$1" "$3" >/dev/null
}
if [[ $(docker image inspect -f '{{.Architecture}}' "$BASE" 2>/dev/null) != arm64 ]]; then
  ctx=$(mktemp -d /var/tmp/rs2i-arm64-base.XXXXXX)
  c=$(docker create "$BASE_IN" true)
  docker export "$c" >"$ctx/rootfs.tar"
  docker rm "$c" >/dev/null
  platform_image "$BASE" io.rust-s2i.test=1 "$ctx"
  rm -rf "$ctx"
fi

if [[ "$have" == "$want" ]]; then
  echo "arm64-toolchain: $IMAGE is up to date" >&2
  exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
[[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || bash hack/qemu.sh

mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
mirror=${DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
mirror=${mirror%/}
root=$(mktemp -d /var/tmp/rs2i-arm64-root.XXXXXX)
# unmount_all: debootstrap's second stage mounts /proc and /sys inside the root, and
# this script /proc: every mount under it goes, deepest first, before anything is
# removed, and rm never crosses into another file system (the host's /sys).
unmount_all() {
  local m
  for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    as_root umount "$m" || as_root umount -l "$m"
  done
}
cleanup() {
  unmount_all
  as_root rm -rf --one-file-system "$root"
}
trap cleanup EXIT
in_root() { as_root chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

start=$(date +%s)
echo "arm64-toolchain: debootstrap (foreign stage) from $mirror" >&2
as_root debootstrap --foreign --arch=arm64 --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
  { tail -n 20 "$root.log" >&2; exit 1; }
echo "arm64-toolchain: second stage under qemu-user" >&2
in_root /debootstrap/debootstrap --second-stage >>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
as_root mount -t proc proc "$root/proc"
echo "deb ${mirror}-security bookworm-security main" | as_root tee "$root/etc/apt/sources.list.d/bookworm-security.list" >/dev/null
echo "arm64-toolchain: rustc-web $RUST_DEB_VERSION and the bench crates under qemu-user" >&2
in_root apt-get update >>"$root.log" 2>&1
# shellcheck disable=SC2086 # pkgs is a word list
in_root apt-get install -y --no-install-recommends \
  rustc-web="$RUST_DEB_VERSION" cargo-web="$RUST_DEB_VERSION" libstd-rust-web-dev="$RUST_DEB_VERSION" \
  gcc libc6-dev musl-tools musl-dev ca-certificates $pkgs >>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
in_root apt-get clean
unmount_all
as_root rm -rf "$root/var/lib/apt/lists"/* "$root.log"

# The aarch64 musl std, as hack/rust-musl/ built it for this rustc.
c=$(docker create "$MUSL_IMAGE" true)
as_root mkdir -p "$root/usr/lib/rustlib"
docker cp "$c:/usr/lib/rustlib/aarch64-unknown-linux-musl" - | as_root tar -C "$root/usr/lib/rustlib" -x
docker rm "$c" >/dev/null
echo 'fn main() { println!("arm64 musl ok"); }' | as_root tee "$root/tmp/check.rs" >/dev/null
in_root rustc --edition 2021 --target aarch64-unknown-linux-musl -o /tmp/check /tmp/check.rs
in_root /tmp/check
as_root rm -f "$root/tmp/check" "$root/tmp/check.rs"

ctx=$(mktemp -d /var/tmp/rs2i-arm64-ctx.XXXXXX)
trap 'cleanup; rm -rf "$ctx"' EXIT
as_root tar -C "$root" --one-file-system -c . >"$ctx/rootfs.tar"
cleanup
platform_image "$IMAGE" "io.rust-s2i.bench.arm64=$want" "$ctx"
rm -rf "$ctx"
echo "arm64-toolchain: $IMAGE made in $(( $(date +%s) - start )) s" >&2
