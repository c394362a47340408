#!/usr/bin/env bash
# hack/clibs-versions.sh IMAGE: the CLIBS string ("openssl=V libpq=V zlib=V sqlite=V")
# of the upstream versions of Debian's own sources of those libraries, as IMAGE's apt
# sees them, for a builder made on IMAGE with CLIBS_SOURCE=debian (the offline test
# builder: no upstream site is reachable there, Debian's mirror is). The Makefile's
# test-images target passes it as `builder --c-libs "..." --c-libs-source debian`.
#
# The sources are openssl, postgresql-NN (the one IMAGE's libpq5 comes from), zlib
# and sqlite3. Of each, the newest version whose .dsc downloads: a mirror whose
# indexes name a newer upload than its pool holds (seen on this project's test
# machines) gives the newest one that s2i/clibs.sh can fetch, which on a complete
# mirror is simply the newest. Versions lose epoch, Debian revision and repack
# suffix the way clibs.sh reads them (1:1.2.13.dfsg-1 -> 1.2.13).
# Runs one throwaway container (--rm), which reaches the image's Debian mirror.
set -euo pipefail

image=${1:?usage: hack/clibs-versions.sh IMAGE}

docker run --rm --label io.rust-s2i.test=1 "$image" sh -eu -c '
  exec 3>&1 4>&2 >/dev/null 2>&1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n "s/^[[:space:]]*deb[[:space:]]/deb-src /p" "$f"
  done >/etc/apt/sources.list.d/clibs-versions-src.list
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && { sed "s/^Types:.*/Types: deb-src/" "$f"; echo; }
  done >/etc/apt/sources.list.d/clibs-versions-src.sources
  apt-get update -qq || true
  upstream_of() {
    v=$1
    case $v in *:*) v=${v#*:} ;; esac
    case $v in *-*) v=${v%-*} ;; esac
    case $v in *+really*) v=${v##*+really} ;; esac
    printf "%s\n" "$v" | sed -E "s/([.+~]dfsg|[+~]ds|[+~]repack)[0-9.]*\$//"
  }
  pq=$(apt-cache show libpq5 | sed -n "s/^Source: \([^ ]*\).*/\1/p" | head -n 1)
  [ -n "$pq" ] || { echo "clibs-versions: no libpq5 in the image'"'"'s archives" >&4; exit 1; }
  out=
  for pair in openssl:openssl libpq:$pq zlib:zlib sqlite:sqlite3; do
    name=${pair%%:*} src=${pair#*:} found=
    for v in $(apt-cache showsrc "$src" | sed -n "s/^Version: //p" | sort -u | sort -rV); do
      d=$(mktemp -d)
      if (cd "$d" && apt-get source -q --dsc-only -o APT::Sandbox::User=root "$src=$v"); then
        found=$(upstream_of "$v"); rm -rf "$d"; break
      fi
      rm -rf "$d"
    done
    [ -n "$found" ] || { echo "clibs-versions: no source of $src downloads" >&4; exit 1; }
    out="$out $name=$found"
  done
  echo ${out} >&3
'
