#!/usr/bin/env bash
# Build the local test images without any image registry. Idempotent: an image that
# already exists in the daemon is reused, not rebuilt (the musl toolchain image: when it
# was made from the current hack/rust-musl/).
#
#   rust-s2i-test/debian:bookworm  debootstrap --variant=minbase, docker import
#   rust-s2i-test/rust-musl:1.96   debian + bookworm-security's rustc-web/cargo-web 1.96 with
#                                  both musl targets' std built offline
#                                  (hack/rust-musl/): the base of the test builders
#   rust-s2i-test/debian-crates:bookworm  Debian's packaged sources of the crates the
#                                  e2e tests build offline (ring, the C libraries' -sys
#                                  crates and what they depend on), in
#                                  /usr/share/cargo/registry and nothing else: the test
#                                  builder for those crates (Makefile: builder-crates)
#                                  adds them on top of the slim builder
#   rust-s2i-test/busybox:latest   busybox-static rootfs, a small stand-in for Alpine
#   rust-s2i-test/busybox-arm64:latest  the same from busybox-static:arm64, the arm64
#                                  half of the tests' two-platform runtime base
#   rust-s2i-test/rust:1.85        debian + bookworm's rustc-web/cargo-web 1.85, host
#                                  target only: the toolchain of the tests before musl
#                                  (and bench/'s default outside make). Only made when
#                                  asked for: `hack/test-images.sh rust`
#
# Arguments name the images to make (debian, rust-musl, crates, busybox, busybox-arm64, rust);
# none means all but rust. The Debian base is made first whenever one is asked
# for that needs it.
#
# TEST_IMAGES_PULL=1: first try to pull rust:1-bookworm / alpine:3 / debian:bookworm
# and tag them under the names above; falls back to local builds when a pull fails.
set -euo pipefail

DEBIAN_IMAGE=${DEBIAN_IMAGE:-rust-s2i-test/debian:bookworm}
RUST_IMAGE=${RUST_IMAGE:-rust-s2i-test/rust:1.85}
MUSL_IMAGE=${MUSL_IMAGE:-rust-s2i-test/rust-musl:1.96}
BUSYBOX_IMAGE=${BUSYBOX_IMAGE:-rust-s2i-test/busybox:latest}
BUSYBOX_ARM64_IMAGE=${BUSYBOX_ARM64_IMAGE:-rust-s2i-test/busybox-arm64:latest}
# The mirror is the host's own (its apt sources' first archive ending in /debian, in
# either format), so a machine behind a local mirror uses it; deb.debian.org otherwise.
# The toolchain image derives its security mirror from the Debian image's sources.
host_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] && cat "$f"
  done | { grep -oE 'https?://[^ ]+/debian/?( |$)' || true; } | head -n 1 | tr -d ' ' | sed 's:/$::'
}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(host_mirror)}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

export DEBIAN_FRONTEND=noninteractive

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Every test image carries TEST_LABEL, and so does every image and container made from
# one (labels are inherited): hack/test-world.sh removes what the tests made by it.
TEST_LABEL=io.rust-s2i.test
marked() { [[ -n $(docker image inspect -f "{{index .Config.Labels \"$TEST_LABEL\"}}" "$1" 2>/dev/null) ]]; }

# replaced NAME OLD_ID: a rebuild under NAME replaces the image it had, rather than
# leaving it behind untagged (the toolchain image is 1.2 GB a generation).
replaced() {
  local now
  [[ -n $2 ]] || return 0
  now=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
  [[ $now != "$2" ]] || return 0
  docker image rm "$2" >/dev/null 2>&1 &&
    echo "test-images: removed the image $1 replaced (${2#sha256:})" >&2 ||
    in_use+=("$2")
}

# A replaced base is in use until the images made from it are replaced too: tried again
# once everything is made.
in_use=()
remove_in_use() {
  local id
  for id in "${in_use[@]}"; do
    docker image rm "$id" >/dev/null 2>&1 &&
      echo "test-images: removed the replaced image ${id#sha256:}" >&2 ||
      echo "test-images: the replaced image ${id#sha256:} is still in use; left" >&2
  done
}

report() { # report NAME built|reused|pulled SECONDS
  local bytes
  bytes=$(docker image inspect -f '{{.Size}}' "$1")
  printf 'test-images: %-30s %-7s %6s MB  (%ss)\n' "$1" "$2" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1000000 }')" "$3"
}

try_pull() { # try_pull REMOTE LOCAL
  [[ "${TEST_IMAGES_PULL:-0}" == 1 ]] || return 1
  docker pull "$1" >/dev/null 2>&1 || return 1
  docker tag "$1" "$2"
}

apt_install() { # apt_install PACKAGE...
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "$@"
}

cleanup_dirs=()
cleanup() { local d; for d in "${cleanup_dirs[@]}"; do as_root rm -rf "$d"; done; }
trap cleanup EXIT

# --- rust-s2i-test/debian:bookworm ------------------------------------------------------
build_debian() {
  local dir
  command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || apt_install debootstrap
  dir=$(mktemp -d /var/tmp/test-images-debian.XXXXXX)
  cleanup_dirs+=("$dir")
  as_root env PATH="/usr/sbin:/sbin:$PATH" \
    debootstrap --variant=minbase "$SUITE" "$dir" "$DEBIAN_MIRROR" >"$dir.log" 2>&1 || {
    tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
  rm -f "$dir.log"
  as_root rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/debootstrap
  as_root tar --numeric-owner -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' --change "LABEL $TEST_LABEL=true" - "$DEBIAN_IMAGE" >/dev/null
  as_root rm -rf "$dir"
}

# --- rust-s2i-test/rust:1.85 ------------------------------------------------------------
# Debian's rustc-web / cargo-web install /usr/bin/rustc and /usr/bin/cargo. The symlink
# step only matters if a later package renames them. debootstrap's sources.list has
# bookworm main only (no security suite), which carries 1.85.
build_rust() {
  DOCKER_BUILDKIT=0 docker build -q -t "$RUST_IMAGE" - >/dev/null <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      rustc-web cargo-web gcc libc6-dev git ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN set -e; for t in cargo rustc; do \\
      if ! command -v \$t >/dev/null; then \\
        alt=\$(ls /usr/bin/\$t-* /usr/lib/rust-web/bin/\$t 2>/dev/null | head -n 1); \\
        [ -n "\$alt" ] && ln -s "\$alt" /usr/local/bin/\$t; \\
      fi; \\
    done; \\
    cargo --version; rustc --version
EOF
}

# --- rust-s2i-test/rust-musl:1.96 -------------------------------------------------------
# The recipe lives in hack/rust-musl/ (Dockerfile, build-musl-std.sh and what it
# compiles); its comments say why each step is there. Once per machine it costs about
# 5 minutes on 2 cores (the std compile for both musl targets) and 1.3 GB. The image
# carries a hash of the recipe, so an edit to it is rebuilt on the next run instead of
# leaving a stale toolchain.
musl_dir=$(cd "$(dirname "$0")" && pwd)/rust-musl
# The hash covers the Debian base too: a new base is a new toolchain image.
musl_recipe_hash() {
  { (cd "$musl_dir" && cat Dockerfile build-musl-std.sh rustc-wrapper musl-unwind-shim.c)
    docker image inspect -f '{{.Id}}' "$DEBIAN_IMAGE"; } | sha256sum | cut -c1-16
}

build_rust_musl() {
  local log
  log=$(mktemp /var/tmp/test-images-musl.XXXXXX)
  DOCKER_BUILDKIT=0 docker build -t "$MUSL_IMAGE" \
    --build-arg BASE_IMAGE="$DEBIAN_IMAGE" \
    ${DEBIAN_SECURITY_MIRROR:+--build-arg DEBIAN_SECURITY_MIRROR="$DEBIAN_SECURITY_MIRROR"} \
    --label io.rust-s2i.test.recipe="$(musl_recipe_hash)" \
    "$musl_dir" >"$log" 2>&1 || { tail -n 60 "$log" >&2; rm -f "$log"; return 1; }
  # (the classic builder's colour codes for stderr can start a line; hence -o)
  grep -o 'build-musl-std: .*' "$log" | sed 's/^/test-images: /' >&2 || true
  rm -f "$log"
}

# Reused when its recipe hash is the current one; no registry has it, so never pulled.
# An image from an older recipe is rebuilt under the same tag (the old one stays, untagged,
# until pruned).
ensure_musl() {
  local start=$SECONDS have old
  have=$(docker image inspect -f '{{index .Config.Labels "io.rust-s2i.test.recipe"}}' \
    "$MUSL_IMAGE" 2>/dev/null || true)
  old=$(docker image inspect -f '{{.Id}}' "$MUSL_IMAGE" 2>/dev/null || true)
  if [[ "$have" == "$(musl_recipe_hash)" ]]; then
    report "$MUSL_IMAGE" reused 0
    return
  fi
  [[ -z "$have" ]] || echo "test-images: $MUSL_IMAGE comes from an older hack/rust-musl/; rebuilding" >&2
  build_rust_musl
  replaced "$MUSL_IMAGE" "$old"
  report "$MUSL_IMAGE" built $((SECONDS - start))
}

# --- rust-s2i-test/debian-crates:bookworm ----------------------------------------------
# The crates the e2e tests resolve through a [source] replacement with
# `directory = "/usr/share/cargo/registry"` (testdata/crates/*/.cargo/config.toml): ring
# 0.16 (ringdigest: a dependency with C code) and the -sys crates of the builder's C
# libraries: openssl-sys under openssl and native-tls (tlsconnect), pq-sys (pqversion),
# libz-sys and libsqlite3-sys (zsqlite), and libdbus-sys, whose library the builder does
# not bring (missinglib). Only their sources, unpacked by hack/debian-crates.sh without
# the packages Debian makes them depend on (the -dev packages of glibc's libraries,
# bindgen's clang: 600 MB), into an image of those files alone, from which the Makefile
# copies them onto the crates test builder: the slim builder carries no test material.
# An edit to the list or the script is rebuilt.
CRATE_PACKAGES="librust-ring-dev librust-openssl-sys-dev librust-openssl-dev librust-native-tls-dev
  librust-pq-sys-dev librust-libz-sys-dev librust-libsqlite3-sys-dev librust-libdbus-sys-dev"
CRATES_IMAGE=${CRATES_IMAGE:-rust-s2i-test/debian-crates:bookworm}
here=$(cd "$(dirname "$0")" && pwd)
crates_hash() {
  { echo $CRATE_PACKAGES; cat "$here/debian-crates.sh"; docker image inspect -f '{{.Id}}' "$DEBIAN_IMAGE"; } |
    sha256sum | cut -c1-16
}

build_crates() {
  docker run --rm -i "$DEBIAN_IMAGE" sh -s $CRATE_PACKAGES <"$here/debian-crates.sh" |
    docker import --change "LABEL $TEST_LABEL=true" --change "LABEL io.rust-s2i.test.crates=$(crates_hash)" \
      - "$CRATES_IMAGE" >/dev/null
}

ensure_crates() {
  local start=$SECONDS old have
  have=$(docker image inspect -f '{{index .Config.Labels "io.rust-s2i.test.crates"}}' "$CRATES_IMAGE" 2>/dev/null || true)
  if [[ $have == "$(crates_hash)" ]]; then
    report "$CRATES_IMAGE" reused 0
    return
  fi
  old=$(docker image inspect -f '{{.Id}}' "$CRATES_IMAGE" 2>/dev/null || true)
  build_crates
  replaced "$CRATES_IMAGE" "$old"
  report "$CRATES_IMAGE" built $((SECONDS - start))
}

# --- rust-s2i-test/busybox:latest -------------------------------------------------------
install_busybox() { # install_busybox DEST: copy a static busybox from busybox-static to DEST
  local f tmp
  if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    f=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
    if [[ -n "$f" && -x "$f" ]]; then install -m 0755 "$f" "$1"; return 0; fi
  fi
  # Not installed: fetch the .deb and unpack it, which leaves the host's own busybox alone
  # (busybox-static conflicts with the dynamically linked busybox package).
  tmp=$(mktemp -d /var/tmp/test-images-bbdeb.XXXXXX)
  cleanup_dirs+=("$tmp")
  (cd "$tmp" && { apt-get download -q -o APT::Sandbox::User=root busybox-static ||
    { as_root apt-get update -q && apt-get download -q -o APT::Sandbox::User=root busybox-static; }; }) >/dev/null
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
  f=$(find "$tmp/x" -path '*/bin/busybox' -type f | head -n 1)
  [[ -n "$f" ]] || { echo "test-images: busybox-static has no bin/busybox" >&2; return 1; }
  install -m 0755 "$f" "$1"
  rm -rf "$tmp"
}

build_busybox() { build_busybox_for amd64 "$BUSYBOX_IMAGE"; }
build_busybox_arm64() { build_busybox_for arm64 "$BUSYBOX_ARM64_IMAGE"; }

# install_busybox_arm64 DEST: the static arm64 busybox of Debian's busybox-static:arm64,
# fetched inside the toolchain image, whose dpkg has the arm64 architecture (the host's
# apt configuration is left alone).
install_busybox_arm64() {
  local tmp f
  tmp=$(mktemp -d /var/tmp/test-images-bbarm.XXXXXX)
  cleanup_dirs+=("$tmp")
  docker run --rm "$MUSL_IMAGE" sh -c 'cd /tmp && apt-get update -q >/dev/null &&
    apt-get download -q -o APT::Sandbox::User=root busybox-static:arm64 >/dev/null && cat busybox-static_*.deb' >"$tmp/bb.deb"
  dpkg-deb -x "$tmp/bb.deb" "$tmp/x"
  f=$(find "$tmp/x" -path '*/bin/busybox' -type f | head -n 1)
  [[ -n "$f" ]] || { echo "test-images: busybox-static:arm64 has no bin/busybox" >&2; return 1; }
  install -m 0755 "$f" "$1"
  rm -rf "$tmp"
}

# build_busybox_for ARCH NAME: a busybox rootfs for ARCH (amd64, arm64), imported as
# NAME. The applet list comes from the host's busybox of the same Debian version: an
# arm64 one may not run here. (docker import records the daemon's architecture
# whatever the files are; the tests set arm64 where they use the image.)
build_busybox_for() {
  local arch=$1 name=$2 dir applet lister
  dir=$(mktemp -d /var/tmp/test-images-busybox.XXXXXX)
  cleanup_dirs+=("$dir")
  mkdir -p "$dir"/{bin,etc,root,home,dev,proc,sys,run,var/tmp,tmp}
  # usrmerge layout: /usr/bin, /sbin and /usr/sbin all lead to /bin, so shebangs such
  # as #!/usr/bin/env sh work.
  mkdir -p "$dir/usr"
  ln -s ../bin "$dir/usr/bin"
  ln -s bin "$dir/sbin"
  ln -s ../bin "$dir/usr/sbin"
  if [[ $arch == arm64 ]]; then
    install_busybox_arm64 "$dir/bin/busybox"
    lister=$dir/lister
    install_busybox "$lister"
  else
    install_busybox "$dir/bin/busybox"
    lister=$dir/bin/busybox
  fi
  # the equivalent of `busybox --install -s /bin`
  for applet in $("$lister" --list); do
    [[ "$applet" == busybox || -e "$dir/bin/$applet" ]] || ln -s busybox "$dir/bin/$applet"
  done
  [[ $lister == "$dir/bin/busybox" ]] || rm -f "$lister"
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
  chmod 0700 "$dir/root"
  cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$dir/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nobody:x:65534:
EOF
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' --change "LABEL $TEST_LABEL=true" - "$name" >/dev/null
  rm -rf "$dir"
}

# ensure NAME PULL_SOURCE BUILD_FUNCTION
# An image without TEST_LABEL comes from before the label: made anew, and the old one
# removed. (A pulled image has no label; with TEST_IMAGES_PULL=1 it is reused as it is.)
ensure() {
  local start=$SECONDS old=""
  if image_exists "$1" && { marked "$1" || [[ "${TEST_IMAGES_PULL:-0}" == 1 ]]; }; then
    report "$1" reused 0
    return
  fi
  old=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
  if try_pull "$2" "$1"; then
    report "$1" pulled $((SECONDS - start))
    return
  fi
  "$3"
  replaced "$1" "$old"
  report "$1" built $((SECONDS - start))
}

have_musl=false
ensure_musl_once() {
  $have_musl || ensure_musl
  have_musl=true
}

have_debian=false
ensure_debian() {
  $have_debian || ensure "$DEBIAN_IMAGE" debian:bookworm build_debian
  have_debian=true
}

(( $# )) || set -- debian rust-musl crates busybox busybox-arm64
for want in "$@"; do
  case $want in
    debian) ensure_debian ;;
    rust-musl) ensure_debian; ensure_musl_once ;;
    rust) ensure_debian; ensure "$RUST_IMAGE" rust:1-bookworm build_rust ;;
    crates) ensure_debian; ensure_crates ;;
    busybox) ensure "$BUSYBOX_IMAGE" alpine:3 build_busybox ;;
    busybox-arm64) ensure_debian; ensure_musl_once; ensure "$BUSYBOX_ARM64_IMAGE" arm64v8/alpine:3 build_busybox_arm64 ;;
    *) echo "test-images: unknown image '$want' (debian, rust-musl, crates, busybox, busybox-arm64, rust)" >&2; exit 2 ;;
  esac
done
remove_in_use
