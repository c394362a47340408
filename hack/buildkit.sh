#!/usr/bin/env bash
# Prints the directory that holds buildkitd and buildctl v0.35.0, for the BuildKit
# tests (test/testenv/buildkitd.go reads it from BUILDKIT_DIR; the Makefile's test-all
# sets that from this script's output). The binaries are built once from the Go module
# proxy (a scratch module of their own, as bench/fresh-runner.sh builds them: about
# 5 minutes on 2 cores) into a kept directory, /var/lib/rust-s2i-test/buildkit unless
# BUILDKIT_DIR names another, and reused while `buildkitd --version` says v0.35.0.
# When /var/tmp/rust-s2i-buildkit (bench/fresh-runner.sh's default) already holds both
# at that version, they are copied from there instead.
#
# It also installs what buildkitd needs beside itself, from Debian's packages where
# missing: runc (docker.io usually brings it), docker-registry (the registry the tests
# run beside buildkitd), and rootlesskit and uidmap (for running buildkitd rootless).
#
# Progress goes to stderr; stdout is only the directory, so callers can capture it.
set -euo pipefail

prog=buildkit.sh
version=v0.35.0
dir=${BUILDKIT_DIR:-/var/lib/rust-s2i-test/buildkit}
bench_dir=/var/tmp/rust-s2i-buildkit
say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }

# --- Debian's packages ------------------------------------------------------------------
# has PROGRAM: in PATH or in the sbin directories an ordinary user's PATH may lack.
has() { command -v "$1" >/dev/null || [[ -x /usr/sbin/$1 || -x /sbin/$1 || -x /usr/bin/$1 ]]; }
missing=()
has runc || missing+=(runc)
has docker-registry || missing+=(docker-registry)
has rootlesskit || missing+=(rootlesskit)
{ has newuidmap && has newgidmap; } || missing+=(uidmap)
if ((${#missing[@]})); then
	say "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi

# --- buildkitd and buildctl -------------------------------------------------------------
# at_version BINARY: BINARY runs and says it is $version ("buildkitd github.com/moby/buildkit v0.35.0").
at_version() { [[ -x $1 && $("$1" --version 2>/dev/null | awk '{ print $3 }') == "$version" ]]; }
ready() { at_version "$1/buildkitd" && at_version "$1/buildctl"; }

if ! ready "$dir"; then
	# The directory belongs to whoever runs the tests: its parent may be root's.
	if [[ ! -d $dir ]]; then
		mkdir -p "$dir" 2>/dev/null || as_root mkdir -p "$dir"
	fi
	if [[ ! -w $dir ]] || [[ -e $dir/.lock && ! -w $dir/.lock ]]; then
		as_root chown -R "$(id -u):$(id -g)" "$dir"
	fi
	# Serialise concurrent runs (two test processes, or CI and a developer).
	exec 9>"$dir/.lock"
	flock 9
	if ! ready "$dir"; then
		tmp=$(mktemp -d "$dir/build.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		if ready "$bench_dir"; then
			say "copying buildkitd and buildctl $version from $bench_dir into $dir"
			cp "$bench_dir/buildkitd" "$bench_dir/buildctl" "$tmp/"
		else
			say "building buildkitd and buildctl $version into $dir (about 5 minutes on 2 cores, once)"
			(
				cd "$tmp"
				go mod init rs2i-buildkit >/dev/null 2>&1
				# `go get` takes the package paths, or go.sum stays incomplete.
				go get "github.com/moby/buildkit/cmd/buildkitd@$version" "github.com/moby/buildkit/cmd/buildctl@$version"
				for c in buildkitd buildctl; do
					CGO_ENABLED=0 go build -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$version" \
						-o "$c" "github.com/moby/buildkit/cmd/$c"
				done
			) >&2
		fi
		ready "$tmp" || die "the buildkitd and buildctl in $tmp do not say $version"
		mv -f "$tmp/buildkitd" "$tmp/buildctl" "$dir/"
		rm -rf "$tmp"
		trap - EXIT
	fi
	exec 9>&-
	ready "$dir" || die "$dir does not hold buildkitd and buildctl $version"
fi
echo "$dir"
