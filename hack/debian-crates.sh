#!/bin/sh
# Debian's packaged sources of some crates, for builds that cannot reach crates.io:
#
#   docker run --rm -i DEBIAN_IMAGE sh -s PACKAGE... <hack/debian-crates.sh >crates.tar
#
# Run inside a Debian image (it uses the image's apt), it writes to stdout a tar of
# usr/share/cargo/registry/NAME-VERSION/ for every librust-* package in the
# dependency closure of the librust-*-dev PACKAGEs: unpacked with dpkg-deb, so none
# of the other packages Debian makes them depend on (the -dev packages of C
# libraries, bindgen's clang) is installed. Cargo reads the result as a directory
# source. Progress goes to stderr.
set -eu
apt-get update -q >/dev/null
work=$(mktemp -d)
cd "$work"
# The recursion lists virtual packages too (a crate's features, which its own
# package provides); those have no candidate of their own and are skipped.
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "$@" | grep -E '^librust-' | sort -u |
  while read -r p; do
    if apt-cache policy "$p" | grep -q 'Candidate: [0-9]'; then echo "$p"; fi
  done >list
echo "debian-crates: $(wc -l <list) packages" >&2
# shellcheck disable=SC2046 # one word per package
apt-get download -q -o APT::Sandbox::User=root $(cat list) >/dev/null
for d in *.deb; do dpkg-deb -x "$d" x; done
tar -C x -c usr/share/cargo/registry
