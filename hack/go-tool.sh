#!/usr/bin/env bash
# go-tool.sh NAME PACKAGE VERSION [LDFLAGS]: builds the Go command PACKAGE at VERSION
# from the Go module proxy, in a scratch module of its own (its dependencies never
# enter ours), and prints the path of the binary. The test tools it serves (weed,
# syft) take minutes to build on 2 cores, so the binary is kept under
# /var/cache/rust-s2i-musl/NAME/VERSION for root, the user's own cache directory for
# anyone else (NAME_DIR, upper case, moves it), and reused when present.
# Progress goes to stderr; stdout is only the path, so callers can capture it.
set -euo pipefail

name=$1 pkg=$2 version=$3 ldflags=${4:-}
if [[ $(id -u) -eq 0 ]]; then
	default_dir=/var/cache/rust-s2i-musl/$name
else
	default_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rust-s2i-musl/$name"
fi
override="${name^^}_DIR"
dir="${!override:-$default_dir}/${version}"
bin="${dir}/${name}"

if [[ ! -x "${bin}" ]]; then
	mkdir -p "${dir}"
	# Serialise concurrent builds (two test processes, or CI and a developer).
	exec 9>"${dir}.lock"
	flock 9
	if [[ ! -x "${bin}" ]]; then
		echo "go-tool.sh: building ${name} ${version} into ${dir} (minutes on 2 cores, once)" >&2
		tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
		# `go get` takes the package path, or go.sum stays incomplete.
		(
			cd "${tmp}"
			go mod init "${name}build" >/dev/null 2>&1
			go get "${pkg}@${version}" >&2
			CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags}" -o "${name}" "${pkg}" >&2
		)
		mv "${tmp}/${name}" "${bin}"
		rm -rf "${tmp}"
	fi
fi
echo "${bin}"
