#!/usr/bin/env bash
# Builds SeaweedFS's `weed` (an S3-compatible object store, for the s3 cache's tests)
# from the Go module proxy and prints the path of the binary. The build takes about
# 7 minutes on 2 cores, so the binary is kept under WEED_DIR and reused when present:
# /var/cache/rust-s2i-musl/weed for root (as in .ci/run here), the user's own cache
# directory for anyone else.
# Progress goes to stderr; stdout is only the path, so callers can capture it.
set -euo pipefail

version="${WEED_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
if [[ $(id -u) -eq 0 ]]; then
	default_dir=/var/cache/rust-s2i-musl/weed
else
	default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rust-s2i-musl/weed"
fi
dir="${WEED_DIR:-$default_dir}/${version}"
bin="${dir}/weed"

if [[ ! -x "${bin}" ]]; then
	mkdir -p "${dir}"
	# Serialise concurrent builds (two test processes, or CI and a developer).
	exec 9>"${dir}.lock"
	flock 9
	if [[ ! -x "${bin}" ]]; then
		echo "seaweedfs.sh: building weed ${version} into ${dir} (about 7 minutes on 2 cores)" >&2
		tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
		# A scratch module of its own, so weed's dependencies never enter ours. `go get`
		# takes the package path, or go.sum stays incomplete.
		(
			cd "${tmp}"
			go mod init weedbuild >/dev/null 2>&1
			go get "github.com/seaweedfs/seaweedfs/weed@${version}" >&2
			CGO_ENABLED=0 go build -trimpath -o weed github.com/seaweedfs/seaweedfs/weed >&2
		)
		mv "${tmp}/weed" "${bin}"
		rm -rf "${tmp}"
	fi
fi
echo "${bin}"
