#!/usr/bin/env bash
# Builds Anchore's syft (the SBOM scanner the supply-chain tests read the final
# image with, test/e2e/supplychain_test.go) from the Go module proxy at a pinned
# version, and prints the path of the binary. The build takes several minutes on 2
# cores, so the binary is kept under SYFT_DIR and reused when present:
# /var/cache/rust-s2i-musl/syft for root (as in .ci/run here), the user's own cache
# directory for anyone else.
# Progress goes to stderr; stdout is only the path, so callers can capture it.
set -euo pipefail

version="${SYFT_VERSION:-v1.57.2}"
if [[ $(id -u) -eq 0 ]]; then
	default_dir=/var/cache/rust-s2i-musl/syft
else
	default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rust-s2i-musl/syft"
fi
dir="${SYFT_DIR:-$default_dir}/${version}"
bin="${dir}/syft"

if [[ ! -x "${bin}" ]]; then
	mkdir -p "${dir}"
	# Serialise concurrent builds (two test processes, or CI and a developer).
	exec 9>"${dir}.lock"
	flock 9
	if [[ ! -x "${bin}" ]]; then
		echo "syft.sh: building syft ${version} into ${dir} (several minutes on 2 cores)" >&2
		tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
		# A scratch module of its own, so syft's dependencies never enter ours. `go get`
		# takes the package path, or go.sum stays incomplete. The version is stamped
		# as syft's own release build does, so `syft version` names it.
		(
			cd "${tmp}"
			go mod init syftbuild >/dev/null 2>&1
			go get "github.com/anchore/syft/cmd/syft@${version}" >&2
			CGO_ENABLED=0 go build -trimpath \
				-ldflags "-X main.version=${version#v}" \
				-o syft github.com/anchore/syft/cmd/syft >&2
		)
		mv "${tmp}/syft" "${bin}"
		rm -rf "${tmp}"
	fi
fi
echo "${bin}"
