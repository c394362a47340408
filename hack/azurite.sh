#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator, from npm) for the gha cache's v2 tests
# and prints the path of its azurite-blob binary. The install is kept under
# AZURITE_DIR and reused when present. The default is /var/cache/rust-s2i-musl/azurite
# for root (as in .ci/run here) and the user's own cache directory for anyone else
# (as on a GitHub runner), where nothing needs sudo.
# Progress goes to stderr; stdout is only the path, so callers can capture it.
set -euo pipefail

version="${AZURITE_VERSION:-3.35.0}"
if [[ $(id -u) -eq 0 ]]; then
	default_dir=/var/cache/rust-s2i-musl/azurite
else
	default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rust-s2i-musl/azurite"
fi
dir="${AZURITE_DIR:-$default_dir}/${version}"
bin="${dir}/node_modules/.bin/azurite-blob"

if [[ ! -x "${bin}" ]]; then
	command -v npm >/dev/null || { echo "azurite.sh: npm not found (apt-get install -y npm)" >&2; exit 1; }
	mkdir -p "${dir}"
	# Serialise concurrent installs (two test processes, or CI and a developer).
	exec 9>"${dir}.lock"
	flock 9
	if [[ ! -x "${bin}" ]]; then
		echo "azurite.sh: installing azurite@${version} into ${dir}" >&2
		tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
		npm install --prefix "${tmp}" --no-audit --no-fund --no-save --loglevel=error "azurite@${version}" >&2
		rm -rf "${dir}"
		mv "${tmp}" "${dir}"
	fi
fi
echo "${bin}"
