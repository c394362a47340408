#!/usr/bin/env bash
# hack/clibs-versions.sh IMAGE: the CLIBS string ("openssl=V libpq=V zlib=V sqlite=V")
# of the upstream versions of Debian's own sources of those libraries, as IMAGE's apt
# sees them, for a builder made on IMAGE with CLIBS_SOURCE=debian (the offline test
# builder: no upstream site is reachable there, Debian's mirror is). The Makefile's
# test-images target passes it as `builder --c-libs "..." --c-libs-source debian`.
#
# The recipe itself answers (`s2i/clibs.sh debian-versions`), so the versions are read
# the way the builder's build fetches them. Runs one throwaway container (--rm), which
# reaches the image's Debian mirror.
set -euo pipefail

image=${1:?usage: hack/clibs-versions.sh IMAGE}
exec docker run --rm -i --label io.rust-s2i.test=1 "$image" sh -s -- debian-versions \
  <"$(dirname "$0")/../s2i/clibs.sh"
