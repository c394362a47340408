#!/usr/bin/env bash
# A private image registry on loopback, for push tests: Debian's docker-registry
# (distribution 2.8) with htpasswd basic auth and no TLS (the daemon treats
# 127.0.0.0/8 registries as insecure, so plain http works).
#
#   hack/registry.sh install                    apt-get install docker-registry, apache2-utils
#                                               (htpasswd) and curl where missing
#   hack/registry.sh start DIR PORT USER PASS   write DIR/{htpasswd,config.yml}, start the registry
#                                               (pid in DIR/pid, log in DIR/log), wait until
#                                               http://127.0.0.1:PORT/v2/ answers 401
#   hack/registry.sh stop DIR                   stop the registry started in DIR
#
# `start` installs first when needed. PASS is read from the REGISTRY_PASSWORD
# environment variable when given as "-", so it need not appear in a process list.
# Progress goes to stderr.
set -euo pipefail

prog=registry.sh
die() { echo "$prog: $*" >&2; exit 1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

registry_bin() {
	local c
	for c in "$(command -v docker-registry 2>/dev/null || true)" /usr/bin/docker-registry; do
		if [[ -n "$c" && -x "$c" ]]; then echo "$c"; return 0; fi
	done
	return 1
}

# missing prints the apt packages still needed: the registry, htpasswd, and curl
# (for the readiness check).
missing() {
	registry_bin >/dev/null || echo docker-registry
	command -v htpasswd >/dev/null || echo apache2-utils
	command -v curl >/dev/null || echo curl
}

install() {
	[[ -z $(missing) ]] && return 0
	# Serialise concurrent installs: two test processes must not both run apt.
	exec 9>/tmp/rust-s2i-registry-install.lock
	flock 9
	local pkgs
	pkgs=$(missing | tr '\n' ' ')
	if [[ -n $pkgs ]]; then
		echo "$prog: installing $pkgs from apt" >&2
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		# shellcheck disable=SC2086 # one word per package
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs >&2
	fi
	exec 9>&-
	pkgs=$(missing | tr '\n' ' ')
	[[ -z $pkgs ]] || die "still missing after apt-get install: $pkgs"
}

start() {
	[[ $# -eq 4 ]] || die "usage: $prog start DIR PORT USER PASS"
	local dir=$1 port=$2 user=$3 pass=$4
	[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
	[[ -n $user ]] || die "USER must not be empty"
	if [[ $pass == - ]]; then
		pass=${REGISTRY_PASSWORD:?REGISTRY_PASSWORD must be set when PASS is -}
	fi
	install
	local bin
	bin=$(registry_bin)

	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	if [[ -f $dir/pid ]] && ours "$(cat "$dir/pid")" "$dir"; then
		die "a registry is already running from $dir (pid $(cat "$dir/pid"))"
	fi
	# -B: bcrypt, the only hash distribution's htpasswd backend accepts. -i: password on stdin.
	printf '%s' "$pass" | htpasswd -B -i -c "$dir/htpasswd" "$user" 2>/dev/null \
		|| die "htpasswd could not write $dir/htpasswd"
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: "$dir/data"
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: rust-s2i-test-registry
    path: "$dir/htpasswd"
EOF
	: >"$dir/log"
	# setsid: the registry gets its own session, so it outlives this script and a
	# Ctrl-C in the caller's terminal does not reach it; `stop` ends it by pid.
	setsid "$bin" serve "$dir/config.yml" >>"$dir/log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/pid"

	local code=none
	for _ in $(seq 1 300); do
		# alive, not ours: for a moment after the fork the child is still bash.
		if ! alive "$pid"; then
			echo "$prog: docker-registry exited; last lines of $dir/log:" >&2
			tail -n 20 "$dir/log" >&2 || true
			rm -f "$dir/pid"
			exit 1
		fi
		# "listening on" is logged once the port is bound: without it a 401 could
		# come from another server that already holds the port.
		grep -qF "listening on 127.0.0.1:$port" "$dir/log" || { sleep 0.1; continue; }
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v2/" || true)
		if [[ $code == 401 ]]; then
			echo "$prog: registry on 127.0.0.1:$port is up (pid $pid)" >&2
			return 0
		fi
		sleep 0.1
	done
	echo "$prog: registry on 127.0.0.1:$port did not answer 401 within 30 s (last status '$code'); last lines of $dir/log:" >&2
	tail -n 20 "$dir/log" >&2 || true
	stop "$dir"
	exit 1
}

# alive PID: the process exists and is not a zombie (an orphaned registry is
# reaped by init only a while after it exits).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)
	[[ $state != Z ]]
}

# ours PID DIR: PID is alive and is the registry serving DIR/config.yml, not a
# recycled pid of something else.
ours() {
	alive "$1" || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "serve $2/config.yml"
}

stop() {
	[[ $# -eq 1 ]] || die "usage: $prog stop DIR"
	local dir pid
	[[ -d $1 ]] || return 0
	dir=$(cd "$1" && pwd)
	[[ -f $dir/pid ]] || return 0
	pid=$(cat "$dir/pid")
	if ours "$pid" "$dir"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			ours "$pid" "$dir" || break
			sleep 0.1
		done
		if ours "$pid" "$dir"; then kill -9 "$pid" 2>/dev/null || true; fi
	fi
	rm -f "$dir/pid"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
install) install ;;
start) start "$@" ;;
stop) stop "$@" ;;
*) die "usage: $prog install | start DIR PORT USER PASS | stop DIR" ;;
esac
