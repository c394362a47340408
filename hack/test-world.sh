#!/usr/bin/env bash
# The test world: what `make test` needs around the tests, and giving the machine back
# afterwards. One place says what the tests keep between runs (for speed) and what they
# start, create and remove.
#
#   hack/test-world.sh run CMD...  start the Docker Engine if none answers, run CMD in a
#                                  session of its own, then stop what was started,
#                                  remove what the tests made and print the disk figures;
#                                  on success, on failure and on Ctrl-C
#   hack/test-world.sh kept        the list of what is kept between runs, with sizes
#   hack/test-world.sh clean       remove what the tests made (never what is kept, never
#                                  anything of a user's, even on a shared daemon)
#   hack/test-world.sh purge       remove everything kept too (`make test-clean`)
#
# What is stopped, each by the PID recorded when it was started, never by name:
#   - the Docker Engine, only when this run started it (a running engine is used and
#     left running, with everything in it);
#   - every process left in CMD's session: the tests' second dockerd, sshd, azurite,
#     weed and registries stop themselves when their test ends; a test binary killed by
#     its timeout cannot, and what it started is still in the session.
# What is removed: network namespaces named rs2i-* that appeared during the run, the
# run's TMPDIR, what a BuildKit test world (test/testenv/buildkitd.go) of a test binary
# that is gone left in /var/tmp/rs2i-bk-* and /run/rs2i-bk-* (when a timeout killed it
# before its cleanup), and on the daemon every container, volume and image that carries the
# tests' mark (the io.rust-s2i.test label, which each test image has and each image and
# container made from one inherits; the rust-s2i-e2e- name prefix) and is not kept.
set -euo pipefail

prog=test-world
root=$(cd "$(dirname "$0")/.." && pwd)
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }
say() { echo "$prog: $*" >&2; }

# The mark on every test image; docker images and containers inherit labels. The name
# prefixes are the tests' own names for what they make (a backstop for an image made
# from no test image).
test_label=io.rust-s2i.test
test_names='rust-s2i-test/|rust-s2i-e2e-|rust-s2i-remote/|rust-s2i-act-|rust-s2i-pipeline-|rs2i-' 

# --- what is kept -----------------------------------------------------------------------
# The test images, by the names the Makefile gives them.
kept_images() {
  printf '%s\n' \
    "${TEST_DEBIAN_IMAGE:-rust-s2i-test/debian:bookworm}" \
    "${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}" \
    "${TEST_RUNTIME_IMAGE:-rust-s2i-test/busybox:latest}" \
    "${TEST_RUNTIME_ARM64_IMAGE:-rust-s2i-test/busybox-arm64:latest}" \
    "${TEST_BUILDER_IMAGE:-rust-s2i-test/builder-musl:latest}" \
    "${TEST_GNU_BUILDER_IMAGE:-rust-s2i-test/builder-gnu:latest}" \
    "${TEST_CRATES_IMAGE:-rust-s2i-test/debian-crates:bookworm}" \
    "${TEST_CRATES_BUILDER_IMAGE:-rust-s2i-test/builder-crates:latest}"
}

# Directories kept for speed: the TLS daemon's data root (test/remote), the built
# servers (hack/seaweedfs.sh, hack/azurite.sh), buildkitd and buildctl
# (hack/buildkit.sh; inside /var/lib/rust-s2i-test unless BUILDKIT_DIR moves it, and
# then listed apart). The Go caches are listed apart: they are shared with every other
# Go build on the machine.
kept_dirs() {
  local cache lib=${TEST_TLS_DOCKERD_ROOT:-/var/lib/rust-s2i-test} bk=${BUILDKIT_DIR:-/var/lib/rust-s2i-test/buildkit}
  if [[ $(id -u) -eq 0 ]]; then cache=/var/cache/rust-s2i-musl; else cache=${XDG_CACHE_HOME:-$HOME/.cache}/rust-s2i-musl; fi
  printf '%s\n' "$lib" "$cache"
  case $bk/ in "$lib"/* | "$cache"/*) ;; *) printf '%s\n' "$bk" ;; esac
}

dir_bytes() { as_root du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }

mb() { awk -v b="${1:-0}" 'BEGIN { printf "%8.1f MB", b / 1000000 }'; }

docker_ok() { docker info >/dev/null 2>&1; }

# kept prints the kept list and, last, the total of the project's own kept bytes.
# The images' bytes are the daemon's unique count for the test images together
# (shared layers once), from `docker system df -v`.
kept() {
  local total=0 b img
  echo "kept between runs (reused by the next run):"
  if docker_ok; then
    local ids=()
    while read -r img; do
      if docker image inspect "$img" >/dev/null 2>&1; then
        b=$(docker image inspect -f '{{.Size}}' "$img")
        printf '  %s  image %s\n' "$(mb "$b")" "$img"
        ids+=("$(docker image inspect -f '{{.Id}}' "$img")")
      else
        printf '  %11s  image %s (not built yet)\n' - "$img"
      fi
    done < <(kept_images)
    b=$(images_unique_bytes "${ids[@]}")
    printf '  %s  the images above together (shared layers once)\n' "$(mb "$b")"
    total=$((total + b))
  else
    echo "  (no Docker Engine answers: the test images are not counted)"
  fi
  while read -r d; do
    b=$(dir_bytes "$d")
    printf '  %s  %s\n' "$(mb "$b")" "$d"
    total=$((total + b))
  done < <(kept_dirs)
  printf '  %s  in all (the project'"'"'s own)\n' "$(mb "$total")"
  for d in "$(go env GOCACHE 2>/dev/null)" "$(go env GOMODCACHE 2>/dev/null)"; do
    [[ -z $d ]] || printf '  %s  %s (Go'"'"'s, shared with other Go work: go clean -cache -modcache)\n' "$(mb "$(dir_bytes "$d")")" "$d"
  done
  KEPT_BYTES=$total
}

# images_unique_bytes ID...: the bytes the daemon holds for these images together.
# Layers shared between them count once (the Debian base is below all of them): each
# layer is a line of `docker history`, the same line in every image that has it.
images_unique_bytes() {
  local id
  for id in "$@"; do
    docker history -H=false --no-trunc --format '{{.ID}}|{{.CreatedAt}}|{{.CreatedBy}}|{{.Size}}' "$id"
  done | sort -u | awk -F'|' '{ b += $NF } END { printf "%d\n", b }'
}

# --- removing what the tests made -----------------------------------------------------
# clean [VOLUMES_BEFORE [CONTAINERS_BEFORE]]: what the tests made goes; nothing of a user's, on a shared
# daemon too. An image goes when it has one of the tests' names, or is marked and
# untagged or named for a loopback registry; a container when it has a test name, or is marked and made from an image of
# the tests (a user's container of a test image stays); a volume when it is marked, or
# is a build's secrets volume that was not there before the run and is in no use.
clean() {
  docker_ok || return 0
  local keep=() id img ref name c=0 v=0 i=0
  while read -r img; do
    id=$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null) && keep+=("$id")
  done < <(kept_images)
  # Containers first: an image in use cannot go. One that was there before the run
  # (CONTAINERS_BEFORE) is not the run's.
  while IFS='|' read -r id img name mark; do
    grep -qxF "$id" <<<"${2:-}" && continue
    if [[ $name =~ ^($test_names) ]] || { [[ -n $mark ]] && [[ $img =~ ^($test_names|sha256:|[0-9a-f]{12}) ]]; }; then
      docker rm -f -v "$id" >/dev/null 2>&1 && c=$((c + 1)) || true
    fi
  done < <(docker ps -a --no-trunc --format "{{.ID}}|{{.Image}}|{{.Names}}|{{.Label \"$test_label\"}}")
  while read -r name; do
    if [[ -n $(docker volume inspect -f "{{index .Labels \"$test_label\"}}" "$name" 2>/dev/null) ]] ||
      { [[ $name == rust-s2i-secrets-* ]] && ! grep -qxF "$name" <<<"${1:-}"; }; then
      docker volume rm "$name" >/dev/null 2>&1 && v=$((v + 1)) || true
    fi
  done < <(docker volume ls -q)
  while read -r id ref; do
    [[ $ref == *:"<none>" && $ref != "<none>:<none>" ]] && ref="<none>:<none>" # a digest-only name
    if [[ $ref == "<none>:<none>" ]]; then
      # Marked, or a test toolchain of an older recipe, and the builders made from it.
      [[ -n $(docker image inspect -f "{{index .Config.Labels \"$test_label\"}}{{index .Config.Labels \"$test_label.recipe\"}}" "$id" 2>/dev/null) ]] || continue
      ref=$id
    elif kept_images | grep -qxF "$ref"; then
      continue
    elif [[ ! $ref =~ ^($test_names) ]]; then
      # A marked image the tests pushed to a loopback registry of theirs.
      [[ $ref =~ ^(127\.0\.0\.1|localhost):[0-9]+/ ]] || continue
      [[ -n $(docker image inspect -f "{{index .Config.Labels \"$test_label\"}}" "$id" 2>/dev/null) ]] || continue
    fi
    # A kept image under another name of the tests': only that name goes.
    if [[ " ${keep[*]} " == *" $id "* ]]; then
      [[ $ref == "$id" ]] || docker image rm "$ref" >/dev/null 2>&1 || true
      continue
    fi
    is_parent_of_kept "$id" "${keep[@]}" && continue
    docker image rm -f "$ref" >/dev/null 2>&1 && i=$((i + 1)) || true
  done < <(docker images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}')
  say "removed $c containers, $v volumes and $i images of the tests"
}

# is_parent_of_kept ID KEPT...: whether ID is a layer image below a kept image (the
# classic builder's intermediate images of the test images).
is_parent_of_kept() {
  local id=$1 k p
  shift
  for k in "$@"; do
    p=$k
    while p=$(docker image inspect -f '{{.Parent}}' "$p" 2>/dev/null) && [[ -n $p ]]; do
      [[ $p == "$id" ]] && return 0
    done
  done
  return 1
}

purge() {
  clean
  local img d
  if docker_ok; then
    while read -r img; do docker image rm -f "$img" >/dev/null 2>&1 && say "removed $img" || true; done < <(kept_images)
    docker image prune -f --filter "label=$test_label" >/dev/null 2>&1 || true
  fi
  while read -r d; do
    [[ -e $d ]] && as_root rm -rf "$d" && say "removed $d"
  done < <(kept_dirs)
  say "the Go caches stay (shared with other Go work): go clean -cache -modcache removes them"
}

# --- run ------------------------------------------------------------------------------
used_bytes() { df -B1 --output=used / | tail -n 1 | tr -d ' '; }

# What the run found and started, for finish, which runs as the EXIT trap after run
# has returned: globals, not run's locals.
before_used="" started_pid="" netns_before="" session_pid="" tmp="" volumes_before="" containers_before="" binfmt_before=""

run() {
  before_used=$(used_bytes)
  binfmt_before=$(ls /proc/sys/fs/binfmt_misc 2>/dev/null || true)
  netns_before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort || true)
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/rust-s2i-test-run.XXXXXX")

  finish() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_session "$session_pid"
    clean "$volumes_before" "$containers_before"
    remove_netns "$netns_before"
    remove_buildkit_worlds
    remove_binfmt "$binfmt_before"
    rm -rf "$tmp" 2>/dev/null || as_root rm -rf "$tmp"
    echo >&2
    kept >&2
    stop_docker "$started_pid"
    local after_used
    after_used=$(used_bytes)
    say "disk used: $(mb "$before_used") before, $(mb "$after_used") after ($(mb $((after_used - before_used))) more); kept: $(mb "$KEPT_BYTES")"
    exit "$rc"
  }
  trap finish EXIT
  trap 'say "interrupted; stopping what this run started"; exit 130' INT
  trap 'exit 143' TERM

  if ! docker_ok; then
    bash "$root/hack/docker-up.sh"
    started_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    say "this run started the Docker Engine (pid ${started_pid:-unknown}); it stops it at the end"
  else
    say "a Docker Engine answers already: using it, and leaving it running"
  fi
  volumes_before=$(docker volume ls -q)
  containers_before=$(docker ps -aq --no-trunc)
  # CMD runs in a session of its own: at the end every process still in it is one this
  # run started, and nothing else on the machine is.
  # setsid -w: setsid forks when it cannot make its own process a session leader, and
  # then the shell's $! would not be the session; the child writes its own ID.
  TMPDIR=$tmp setsid -w bash -c 'echo $$ >"$0/session"; exec "$@"' "$tmp" "$@" &
  local waiter=$!
  for _ in $(seq 1 50); do [[ -s $tmp/session ]] && break; sleep 0.1; done
  session_pid=$(cat "$tmp/session" 2>/dev/null || true)
  wait "$waiter"
}

# stop_session SID: SIGTERM to every process left in the session, SIGKILL after 20 s.
stop_session() {
  [[ -n ${1:-} ]] || return 0
  local pids
  pids=$(ps -eo pid=,sid= | awk -v s="$1" '$2 == s { print $1 }')
  [[ -n $pids ]] || return 0
  say "stopping what the tests left running: $(echo $pids)"
  as_root kill -TERM $pids 2>/dev/null
  for _ in $(seq 1 20); do
    pids=$(ps -eo pid=,sid= | awk -v s="$1" '$2 == s { print $1 }')
    [[ -z $pids ]] && return 0
    sleep 1
  done
  as_root kill -KILL $pids 2>/dev/null || true
}

remove_netns() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^rs2i-' || true); do
    grep -qx "$ns" <<<"$1" && continue
    as_root ip netns delete "$ns" && say "removed the network namespace $ns"
  done
}

# remove_buildkit_worlds: the directories of the BuildKit test worlds (named
# rs2i-bk-PID-N after their test binary) whose test binary is gone, with whatever
# buildkitd left mounted in them. A world of a live test binary (another run's) stays.
remove_buildkit_worlds() {
  local d name pid m
  for d in /var/tmp/rs2i-bk-* /run/rs2i-bk-*; do
    [[ -d $d ]] || continue
    name=${d##*/}
    pid=${name#rs2i-bk-}
    pid=${pid%%-*}
    [[ $pid =~ ^[0-9]+$ ]] || continue
    [[ -e /proc/$pid ]] && continue
    # Deepest first: a mount inside another goes before it.
    for m in $(awk -v d="$d/" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2); do
      as_root umount "$m" 2>/dev/null || as_root umount -l "$m" 2>/dev/null || true
    done
    as_root rm -rf --one-file-system "$d" && say "removed $d, left by a BuildKit test world"
  done
}

# remove_binfmt BEFORE: the binfmt_misc entries that appeared during the run go (the
# QEMU of the arm64 tests); writing -1 to an entry removes that entry only.
remove_binfmt() {
  local e
  for e in $(ls /proc/sys/fs/binfmt_misc 2>/dev/null); do
    [[ $e == register || $e == status ]] && continue
    grep -qxF "$e" <<<"$1" && continue
    if [[ $e == qemu-aarch64 ]]; then
      as_root sh "$root/hack/binfmt-aarch64.sh" unregister >/dev/null && say "removed the binfmt_misc entry $e"
    else
      echo -1 | as_root tee "/proc/sys/fs/binfmt_misc/$e" >/dev/null && say "removed the binfmt_misc entry $e"
    fi
  done
}

# stop_docker PID: stop the engine this run started, as its service manager would.
# Its containerd is its child and goes with it.
stop_docker() {
  [[ -n ${1:-} ]] || return 0
  say "stopping the Docker Engine this run started (pid $1)"
  as_root kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 60); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 1
  done
  say "the Docker Engine did not stop within 60 s of SIGTERM; killing it"
  as_root kill -KILL "$1" 2>/dev/null || true
}

case ${1:-} in
  run) shift; (($#)) || { say "usage: $0 run CMD..."; exit 2; }; run "$@" ;;
  kept) kept ;;
  clean) clean ;;
  purge) purge ;;
  *) say "usage: $0 run CMD... | kept | clean | purge"; exit 2 ;;
esac
