#!/usr/bin/env bash
# Installs what test/remote needs to reach a Docker daemon the ways the docker CLI
# does, besides the local socket: sshd (Debian's openssh-server) for ssh://, and ip
# (iproute2), nsenter, setpriv and flock (util-linux) for the second dockerd with TLS
# that runs in a network namespace of its own. Idempotent: installs only what is
# missing. The tests start their own sshd and dockerd and stop them; nothing here
# starts a service: the package's own sshd on port 22 is kept from starting.
set -euo pipefail

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v ip >/dev/null || [[ -x /usr/sbin/ip ]] || [[ -x /sbin/ip ]] || missing+=(iproute2)
for c in nsenter setpriv flock; do
	command -v "$c" >/dev/null || { missing+=(util-linux); break; }
done
((${#missing[@]})) || exit 0

echo "remote-engine.sh: installing ${missing[*]}" >&2
# A policy-rc.d that says "no" keeps the package's sshd from starting on 0.0.0.0:22
# (the tests run their own on loopback). One that is already there is left alone.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e $policy ]]; then
	as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 0755 $policy"
	added_policy=true
fi
trap '$added_policy && as_root rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
	{ as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
