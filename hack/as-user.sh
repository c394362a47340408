#!/usr/bin/env bash
# Runs a command as an ordinary user, the way a GitHub runner runs the test suite:
# the user (AS_USER, default rs2i-test) has passwordless sudo and is in the group
# that owns the Docker socket, and works in its own copy of this working tree
# (uncommitted changes included, refreshed on every run) with its own GOPATH and
# GOCACHE. The user is made on first use.
#
#   hack/as-user.sh                              # make test: the whole suite
#   hack/as-user.sh go test -count=1 ./internal/...
#
# It needs root to set the user up, and re-runs itself with sudo when started by
# anyone else. Variables that choose test images or daemons (TEST_*, DOCKER_*,
# AZURITE_*, BUILDKIT_*), Go's GOFLAGS/GOPROXY, and the machine's proxy and CA bundle settings
# (for npm, which installs Azurite) are passed on; nothing else is.
# The user's module cache starts as a copy of the caller's downloads
# (AS_USER_MODCACHE, default `go env GOMODCACHE`/cache/download), so nothing needs
# fetching.
set -euo pipefail

user="${AS_USER:-rs2i-test}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
go_bin="${GO_BIN:-/usr/local/go/bin}"

if [[ $(id -u) -ne 0 ]]; then
	exec sudo --preserve-env "$0" "$@"
fi
(($#)) || set -- make test

if ! command -v sudo >/dev/null; then
	echo "as-user: installing sudo" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends sudo >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends sudo >&2; }
fi

sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
sock="${sock#unix://}"
if [[ -S "$sock" ]]; then
	group="$(stat -c %G "$sock")"
	if [[ "$group" == root ]]; then
		echo "as-user: $sock belongs to group root; start dockerd with --group docker" >&2
		exit 1
	fi
else
	# No engine yet: `make test` starts one (hack/test-world.sh), whose socket belongs
	# to the group docker, as Debian's docker.io makes it.
	groupadd -f docker
	group=docker
fi

if ! id "$user" >/dev/null 2>&1; then
	echo "as-user: creating user $user" >&2
	useradd --create-home --shell /bin/bash "$user"
fi
usermod -a -G "$group" "$user"
# Subordinate user and group IDs, which a rootless buildkitd (the Rootless option of
# test/testenv/buildkitd.go's world, run by rootlesskit) maps the users of its build
# containers to. useradd gives them only where /etc/subuid exists; a user made
# before has none either. The range starts after all the others, as useradd's would.
has_subids() { awk -F: -v u="$user" -v i="$(id -u "$user")" '$1 == u || $1 == i { f = 1 } END { exit !f }' "$1" 2>/dev/null; }
if ! has_subids /etc/subuid || ! has_subids /etc/subgid; then
	for f in /etc/subuid /etc/subgid; do [[ -e $f ]] || : >"$f"; done
	start=$(cat /etc/subuid /etc/subgid | awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { print m }')
	range="$start-$((start + 65535))"
	echo "as-user: giving $user the subordinate IDs $range" >&2
	has_subids /etc/subuid || usermod --add-subuids "$range" "$user"
	has_subids /etc/subgid || usermod --add-subgids "$range" "$user"
fi
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" >"/etc/sudoers.d/$user"
chmod 0440 "/etc/sudoers.d/$user"
home="$(getent passwd "$user" | cut -d: -f6)"
ugroup="$(id -gn "$user")"

work="$home/rust-s2i-musl"
rm -rf "$work"
mkdir -p "$work"
tar -C "$repo" --exclude=./bin -cf - . | tar -C "$work" -xf -
chown -R "$user:$ugroup" "$work"

gopath="$home/go"
seed="${AS_USER_MODCACHE:-$("$go_bin/go" env GOMODCACHE 2>/dev/null)/cache/download}"
if [[ -d "$seed" && ! -d "$gopath/pkg/mod/cache/download" ]]; then
	echo "as-user: seeding $user's module cache from $seed" >&2
	mkdir -p "$gopath/pkg/mod/cache"
	cp -a "$seed" "$gopath/pkg/mod/cache/download"
fi
mkdir -p "$gopath" "$home/.cache"
chown -R "$user:$ugroup" "$gopath" "$home/.cache"

env_args=(
	HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash
	PATH="$go_bin:$gopath/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	GOPATH="$gopath" GOCACHE="$home/.cache/go-build" TMPDIR=/tmp
)
while IFS= read -r kv; do
	env_args+=("$kv")
done < <(env | grep -E '^(TEST_[A-Z0-9_]*|DOCKER_[A-Z0-9_]*|AZURITE_[A-Z0-9_]*|WEED_[A-Z0-9_]*|SYFT_[A-Z0-9_]*|BUILDKIT_[A-Z0-9_]*|GOFLAGS|GOPROXY|GONOSUMDB|GOSUMDB|GOPRIVATE|TERM|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|GIT_SSL_CAINFO|CURL_CA_BUNDLE)=' || true)

echo "as-user: running as $user (uid $(id -u "$user"), groups $(id -Gn "$user")) in $work: $*" >&2
exec sudo -u "$user" -H env -i "${env_args[@]}" \
	bash -c 'cd "$1" && shift && exec "$@"' as-user "$work" "$@"
