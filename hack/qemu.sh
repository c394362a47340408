#!/usr/bin/env bash
# Lets this amd64 machine run the tests' arm64 results: Debian's qemu-user-static,
# registered with binfmt_misc through hack/binfmt-aarch64.sh, which refuses a
# magic/mask that would claim the host's own programs and unregisters at once if
# /bin/true stops working. QEMU only runs results; nothing is built under it.
# Idempotent; needs root (or passwordless sudo). hack/test-world.sh unregisters an
# entry that a run added. On an arm64 machine there is nothing to do.
set -euo pipefail

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }

case $(uname -m) in aarch64 | arm64) exit 0 ;; esac
if [[ ! -x /usr/bin/qemu-aarch64-static ]]; then
  echo "qemu.sh: installing qemu-user-static" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user-static >&2 ||
    { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user-static >&2; }
fi
as_root sh "$(dirname "$0")/binfmt-aarch64.sh" register
