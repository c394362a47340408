#!/bin/sh
# cross.sh TARGET...: the C side of each musl target whose architecture is not the
# builder's own, on a Debian-family base: dpkg's foreign architecture, Debian's cross
# gcc and binutils, and that architecture's musl-dev (which brings
# ARCH-linux-musl-gcc, the C compiler the cc crate wants for the target). cargo is told
# in $CARGO_HOME/config.toml, the lowest of its config files (a crate's own
# .cargo/config.toml wins): the linker (rustc's default `cc` is the host's gcc), and
# CC_/AR_ for build scripts. A cross gcc given -fuse-ld=mold looks for
# ARCH-linux-gnu-ld.mold, hence the link. The builder's own target needs none of this.
set -eu

host=$(uname -m)
targets= env=
for target in "$@"; do
  arch=${target%%-*}
  case $target in *-linux-musl) ;; *) continue ;; esac
  [ "$arch" != "$host" ] || continue
  case $arch in
    x86_64) deb=amd64 pkg=x86-64 ;;
    aarch64) deb=arm64 pkg=aarch64 ;;
    *) echo "cross.sh: no cross toolchain known for $target" >&2; exit 1 ;;
  esac
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "cross.sh: $target is cross-compiled here, which needs a Debian-family base (apt-get)" >&2; exit 1
  fi
  dpkg --add-architecture "$deb"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "gcc-$pkg-linux-gnu" "binutils-$pkg-linux-gnu" "musl-dev:$deb"
  rm -rf /var/lib/apt/lists/*
  if command -v mold >/dev/null 2>&1; then ln -sf "$(command -v mold)" "/usr/local/bin/$arch-linux-gnu-ld.mold"; fi
  under=$(echo "$target" | tr - _)
  targets="$targets
[target.$target]
linker = \"$arch-linux-gnu-gcc\""
  env="$env
CC_$under = \"$arch-linux-musl-gcc\"
AR_$under = \"$arch-linux-gnu-ar\""
done
if [ -n "$targets" ]; then
  mkdir -p "$CARGO_HOME"
  printf '# Written by the builder image (s2i/cross.sh): the cross targets'"'"' C side.%s\n\n[env]%s\n' \
    "$targets" "$env" >>"$CARGO_HOME/config.toml"
fi
