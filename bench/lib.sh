# bench/lib.sh: what the benchmarks share (run.sh, platforms.sh, clibs.sh, fresh-runner.sh,
# buildkit.sh): timing, statistics, results.md sections, the one-line change, and a network
# namespace with a registry and buildkitd; sourced, not run.
# shellcheck shell=bash

now() { date +%s.%N; }
# secs START END: the seconds between two `now`s.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# median VALUE...
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratios A B: per run, A[r]/B[r], for two arrays named A and B indexed by run.
ratios() {
  local -n a=$1 b=$2
  local r
  for r in "${!a[@]}"; do awk -v x="${a[r]}" -v y="${b[r]}" 'BEGIN { printf "%.2f\n", x / y }'; done
}

# results_section NAME FILE: bench/results.md carries FILE's table between its
# <!-- NAME --> and <!-- /NAME --> markers (its headings one level down); a
# results.md without them is left alone.
results_section() {
  local tmp
  grep -q "^<!-- $1 -->\$" bench/results.md || return 0
  tmp=$(mktemp)
  sed 's/^# /## /' "$2" >"$tmp.section"
  awk -v f="$tmp.section" -v from="<!-- $1 -->" -v to="<!-- /$1 -->" \
    '$0 == from { print; while ((getline l < f) > 0) print l; skip = 1; next }
     $0 == to { skip = 0 } !skip' bench/results.md >"$tmp"
  cp "$tmp" bench/results.md
  rm -f "$tmp" "$tmp.section"
}

# Go durations as this project prints them ("812ms", "3.2s", "1m2.5s") to seconds.
go_seconds() {
  awk -v d="$1" 'BEGIN {
    s = 0
    while (match(d, /^[0-9.]+(h|ms|µs|us|ns|m|s)/)) {
      t = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
      if (u == "h") s += n * 3600; else if (u == "m") s += n * 60; else if (u == "s") s += n
      else if (u == "ms") s += n / 1000; else s += n / 1000000
    }
    printf "%.3f", s }'
}

# --- the one-line change (run.sh, buildkit.sh) --------------------------------------------
# The line a one-line change rewrites: inserted as the first line of main() in each copy
# of a crate, so that its string is in the binary (an unused static would be dropped by
# the linker, and the binary would not change).
change_line() { # change_line TAG
  printf '    if std::env::var_os("BENCH_CHANGE").is_some() { eprintln!("bench change: %s"); }' "$1"
}

# add_change_line MAIN_RS: inserts `change_line initial` as the first line of main();
# fails when the file has no `fn main() ... {` line.
add_change_line() {
  awk -v line="$(change_line initial)" '
    { print }
    !done && /^fn main\(\).*\{[[:space:]]*$/ { print line; done = 1 }
    END { if (!done) exit 1 }' "$1" >"$1.new" || return 1
  mv "$1.new" "$1"
}

# set_change_line MAIN_RS TAG: rewrites that line with TAG (one line, and the binary
# changes); fails when the file does not have it afterwards.
set_change_line() {
  awk -v line="$(change_line "$2")" '/eprintln!\("bench change: / { print line; next } { print }' "$1" >"$1.new"
  mv "$1.new" "$1"
  grep -q "bench change: $2\"" "$1"
}

# buildkit_dockerfile TOOLCHAIN RUNTIME BINARY TARGET RUSTFLAGS: bench/Dockerfile.buildkit
# (B: cache mounts for the cargo registry and target/) with its placeholders filled in.
buildkit_dockerfile() {
  sed -e "s|@TOOLCHAIN@|$1|" -e "s|@RUNTIME@|$2|" -e "s|@BINARY@|$3|g" -e "s|@TARGET@|$4|g" -e "s|@RUSTFLAGS@|$5|" \
    bench/Dockerfile.buildkit
}

# --- a network namespace with a registry and buildkitd (fresh-runner.sh, buildkit.sh) ----
# As root. The caller sets NS (the namespace's name), RUN (/run/$NS: sockets and pid
# files), WORK (a scratch directory: configuration, logs, the registry's storage,
# buildkitd's data root $WORK/buildkit), REG (the registry's 127.0.0.1:PORT on the
# namespace's loopback) and BUILDKIT_DIR (buildkitd and buildctl), and defines die.
# The namespace has only its loopback; nothing here touches the host's network.

# nsenter execs what it runs, so a background `nsenter … &` has that program's pid
# in $!; a function run in the background would give its subshell's instead.
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
ns_buildctl() { "$BUILDKIT_DIR/buildctl" --addr "unix://$RUN/buildkitd.sock" "$@"; }

# stop PIDFILE: SIGTERM to the process whose pid is in PIDFILE, and wait for it to go.
stop() {
  local pid
  [[ -s $1 ]] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$1"
}

# unmount_under DIR: unmounts whatever is still mounted at or below DIR (what a
# buildkitd that did not stop cleanly left), deepest first; lazily when busy.
unmount_under() {
  local m
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

# ns_up: the namespace with its loopback up, $RUN, and the registry (Debian's
# docker-registry, plain http, storage in $WORK/registry) answering on $REG in it.
ns_up() {
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  mkdir -p "$RUN"
  cat >"$WORK/registry.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $WORK/registry } }
http: { addr: $REG }
YML
  nsenter --net="/run/netns/$NS" docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  echo $! >"$WORK/registry.pid"
  for _ in $(seq 1 100); do in_ns curl -fs "http://$REG/v2/" >/dev/null && return 0; sleep 0.1; done
  tail -n 20 "$WORK/registry.log" >&2
  die "the registry did not come up on $REG in $NS"
}

# kill_containers: kills the build containers that a buildkitd which did not stop
# cleanly left running (every process in the cgroup $NS, where start_buildkitd's
# configuration puts them, in any hierarchy: cgroup v1 or v2), then removes those cgroups.
kill_containers() {
  local dirs pids
  mapfile -t dirs < <(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$NS" 2>/dev/null)
  ((${#dirs[@]})) || return 0
  for _ in $(seq 1 100); do
    pids=$(find "${dirs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
    [[ -n $pids ]] || break
    echo "$pids" | xargs -r kill -KILL 2>/dev/null || true
    sleep 0.1
  done
  find "${dirs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

# ns_down: stops buildkitd and the registry, kills and unmounts what buildkitd left, and
# removes the namespace, $RUN and $WORK. For an EXIT trap: it never fails.
ns_down() {
  stop "$RUN/buildkitd.pid"
  stop "$WORK/registry.pid"
  kill_containers
  unmount_under "$WORK"
  ip netns delete "$NS" 2>/dev/null || true
  rm -rf --one-file-system "$RUN" "$WORK"
}

# ensure_buildkit: buildkitd and buildctl v0.35.0 in $BUILDKIT_DIR, built there from the
# Go module proxy when missing (about 5 minutes).
ensure_buildkit() {
  local version=v0.35.0
  [[ ! -x $BUILDKIT_DIR/buildkitd || ! -x $BUILDKIT_DIR/buildctl ]] || return 0
  echo "${0##*/}: building buildkitd and buildctl $version into $BUILDKIT_DIR (about 5 min)" >&2
  mkdir -p "$BUILDKIT_DIR/src"
  (cd "$BUILDKIT_DIR/src" && { [[ -f go.mod ]] || go mod init rs2i-buildkit >/dev/null 2>&1; } &&
    go get "github.com/moby/buildkit/cmd/buildkitd@$version" "github.com/moby/buildkit/cmd/buildctl@$version" &&
    for c in buildkitd buildctl; do
      CGO_ENABLED=0 go build -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$version" \
        -o "$BUILDKIT_DIR/$c" "github.com/moby/buildkit/cmd/$c" || exit 1
    done) >&2
}

# start_buildkitd: (re)starts buildkitd in the namespace on a new, empty data root
# ($WORK/buildkit: the old one, and whatever the old buildkitd left running or mounted,
# go first), rootful (runc, overlayfs), with the registry over plain http and no garbage
# collection; returns once it answers on unix://$RUN/buildkitd.sock. Its build
# containers' cgroups are under /$NS, its temporary mounts under $WORK/tmp, so that
# ns_down finds what a buildkitd that did not stop cleanly left.
start_buildkitd() {
  stop "$RUN/buildkitd.pid"
  kill_containers
  unmount_under "$WORK/buildkit"
  unmount_under "$WORK/tmp"
  rm -rf --one-file-system "$WORK/buildkit"
  mkdir -p "$WORK/buildkit" "$WORK/tmp"
  cat >"$WORK/buildkitd.toml" <<TOML
[registry."$REG"]
  http = true
  insecure = true
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  gc = false
  defaultCgroupParent = "$NS"
[worker.containerd]
  enabled = false
TOML
  TMPDIR=$WORK/tmp nsenter --net="/run/netns/$NS" "$BUILDKIT_DIR/buildkitd" --config "$WORK/buildkitd.toml" \
    --root "$WORK/buildkit" --addr "unix://$RUN/buildkitd.sock" >"$WORK/buildkitd.log" 2>&1 &
  echo $! >"$RUN/buildkitd.pid"
  for _ in $(seq 1 300); do ns_buildctl debug workers >/dev/null 2>&1 && return 0; sleep 0.2; done
  tail -n 20 "$WORK/buildkitd.log" >&2
  die "buildkitd did not come up"
}
