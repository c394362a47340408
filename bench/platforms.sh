#!/usr/bin/env bash
# Benchmark, not a test: what a second platform costs this project, on bench/crates/heavy
# (81 resolved dependencies) with the bench's deps builder (bench/images.sh), which
# serves both musl targets. Paired runs, one system right after the other, the order
# alternating from run to run; medians of the per-pair ratios.
#
#   arm64 cold     --platform linux/arm64, nothing kept (no -tmp image, empty cache):
#                  the whole dependency tree cross-compiled for aarch64, no QEMU
#   amd64 cold     the same for linux/amd64 (the native target), its pair
#   1 platform     one-line change of src/main.rs, -tmp image in place: --platform linux/amd64
#   2 platforms    the same change: --platform linux/amd64,linux/arm64 (one cargo run)
#
# and against the anchor, what a build-push-action user gets for linux/arm64: BuildKit
# (Docker's, DOCKER_BUILDKIT=1) building bench/Dockerfile.buildkit (the B system of
# bench/run.sh: cache mounts for the registry and target/) with --platform linux/arm64
# on the arm64 toolchain image of bench/arm64-toolchain.sh, every rustc under qemu-user:
#   arm64 cold     this project cross-compiling (the arm64 cold above) against BuildKit +
#                  QEMU with fresh cache mounts (a new mount id) and no layer cache
#   arm64 change   the one-line change for linux/arm64 alone, -tmp image in place,
#                  against BuildKit + QEMU with its warm cache mounts
#
# The runtime base is a two-platform index (rust-s2i-test/busybox + busybox-arm64) in a
# go-containerregistry registry on loopback, as the e2e tests use it (testenv).
# Writes bench/results-platforms.md and the same table into bench/results.md. RUNS=3 by
# default; ANCHOR=0 leaves the (slow) QEMU anchor out, PAIRS=0 runs only the anchor.
#   make bench-platforms
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
ANCHOR=${ANCHOR:-1}
# PAIRS=0 runs the anchor alone and keeps the table's rows of the two pairs above from
# the last run that measured them (the anchor's QEMU builds take 20 min each here).
PAIRS=${PAIRS:-1}
ARM64_IMAGE=${BENCH_ARM64_IMAGE:-rust-s2i-bench/rust-deps-arm64:1.96}
ARM64_BASE=${BENCH_ARM64_BASE:-rust-s2i-bench/busybox-arm64:platform}
OUT=${BENCH_OUT:-bench/results-platforms.md}
BIN=${BIN:-bin/rust-s2i-musl}
BUILDER=${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}
WORK=$(mktemp -d /var/tmp/rust-s2i-bench-platforms.XXXXXX)
trap 'rm -rf "$WORK"; docker rmi -f rs2i-bench-plat rs2i-bench-plat-tmp-1 rs2i-bench-plat-tmp-2 rs2i-bench-qemu >/dev/null 2>&1 || true' EXIT

# The base's registry serves while its stdin (a pipe this script holds) is open.
go build -o "$WORK/multiarchbase" ./bench/multiarchbase
exec 8> >("$WORK/multiarchbase" >"$WORK/base")
for _ in $(seq 1 100); do [[ -s $WORK/base ]] && break; sleep 0.2; done
base=$(cat "$WORK/base")
[[ -n $base ]] || { echo "platforms.sh: the two-platform base did not come up" >&2; exit 1; }

# shellcheck source=bench/lib.sh
. bench/lib.sh

# build PLATFORMS TMP [extra...]: one build of the heavy crate, its wall seconds on stdout.
build() {
  local platforms=$1 tmp=$2 start
  shift 2
  start=$(now)
  "$BIN" build --source "$WORK/heavy" --binary heavy --builder "$BUILDER" --runtime-image "$base" \
    --image rs2i-bench-plat --tmp-image "$tmp" --platform "$platforms" "$@" >/dev/null 2>"$WORK/log" ||
    { tail -n 30 "$WORK/log" >&2; exit 1; }
  secs "$start" "$(now)"
}

cold() { docker rmi -f "$2" >/dev/null 2>&1 || true; build "$1" "$2" --clean; }
# change PLATFORMS TMP: a one-line change built; its phases (the `<== PHASE (DURATION)`
# lines, and the indented parts below them) go to $WORK/phases-PLATFORMS.tsv.
change() {
  echo "// change $RANDOM" >>"$WORK/heavy/src/main.rs"
  build "$1" "$2"
  sed -nE 's/^(<== |    )([a-z0-9 :]+) \(([0-9.]+)(ms|s)\)$/\2\t\3\t\4/p' "$WORK/log" |
    awk -F'\t' '{ printf "%s\t%.3f\n", $1, ($3 == "ms" ? $2 / 1000 : $2) }' >>"$WORK/phases-${1//\//_}.tsv"
}

cp -r bench/crates/heavy "$WORK/heavy"
if [[ $PAIRS != 1 ]]; then
  grep -E '^\| (cold|one-line change) \|' "$OUT" >"$WORK/pairs" ||
    { echo "platforms.sh: PAIRS=0 needs the pair rows of an earlier run in $OUT" >&2; exit 1; }
  grep -E '^Samples \(s\): arm64 cold' "$OUT" >"$WORK/pairs-samples" || true
  pairs_from=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}\.$' "$OUT" | head -n 1)
fi
declare -a arm amd one two
if [[ $PAIRS == 1 ]]; then
  for r in $(seq 1 "$RUNS"); do
    if ((r % 2)); then
      arm[r]=$(cold linux/arm64 rs2i-bench-plat-tmp-1); amd[r]=$(cold linux/amd64 rs2i-bench-plat-tmp-2)
    else
      amd[r]=$(cold linux/amd64 rs2i-bench-plat-tmp-2); arm[r]=$(cold linux/arm64 rs2i-bench-plat-tmp-1)
    fi
  done
  # Warm -tmp images for the change pairs: one per system, each holding its own targets.
  cold linux/amd64 rs2i-bench-plat-tmp-1 >/dev/null
  cold linux/amd64,linux/arm64 rs2i-bench-plat-tmp-2 >/dev/null
  for r in $(seq 1 "$RUNS"); do
    if ((r % 2)); then
      one[r]=$(change linux/amd64 rs2i-bench-plat-tmp-1); two[r]=$(change linux/amd64,linux/arm64 rs2i-bench-plat-tmp-2)
    else
      two[r]=$(change linux/amd64,linux/arm64 rs2i-bench-plat-tmp-2); one[r]=$(change linux/amd64 rs2i-bench-plat-tmp-1)
    fi
  done
fi

# The anchor. qemu_build TAG [--no-cache]: one BuildKit build for linux/arm64 of the
# copy in $WORK/heavy-q, its cache mounts named by TAG (a new TAG is an empty cache);
# its wall seconds on stdout, those of an attempt that ran to the end.
#
# Debian bookworm's qemu-user (7.2) now and then deadlocks a multithreaded program that
# forks: cargo's child, before it becomes rustc, sleeps on a futex for ever. An attempt
# in which BuildKit's emulated processes get no CPU for 60 s is such a hang: they are
# killed (by PID), the hang is counted in $WORK/hangs, and the build runs again from the
# same start (a cold one with a new, empty cache).
qemu_build() {
  local tag=$1 start rc
  shift
  while :; do
    sed -e "s|@TOOLCHAIN@|$ARM64_IMAGE|; s|@RUNTIME@|$ARM64_BASE|; s|@RUSTFLAGS@||" \
      -e "s|@TARGET@|aarch64-unknown-linux-musl|g; s|@BINARY@|heavy|g" \
      -e "s|id=rust-s2i-bench-heavy-|id=rust-s2i-bench-qemu-$tag-|g" bench/Dockerfile.buildkit >"$WORK/Dockerfile.qemu"
    start=$(now)
    rc=0
    qemu_attempt "$@" || rc=$?
    case $rc in
      0) secs "$start" "$(now)"; return ;;
      2) echo hang >>"$WORK/hangs"
         echo "platforms.sh: BuildKit + QEMU hung (qemu-user fork deadlock); again" >&2
         [[ $* != *--no-cache* ]] || tag=$(date +%s%N) ;;
      *) tail -n 30 "$WORK/qlog" >&2; exit 1 ;;
    esac
  done
}
qemu_attempt() {
  local pid last=none idle=0 ticks
  DOCKER_BUILDKIT=1 /usr/bin/docker build --platform linux/arm64 "$@" -q -t rs2i-bench-qemu \
    -f "$WORK/Dockerfile.qemu" "$WORK/heavy-q" >/dev/null 2>"$WORK/qlog" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    ticks=$(executor_ticks)
    if [[ -z $ticks || $ticks != "$last" ]]; then idle=0 last=$ticks; else idle=$((idle + 5)); fi
    if ((idle >= 60)); then
      kill -KILL $(executor_pids) 2>/dev/null || true
      wait "$pid" || true
      return 2
    fi
  done
  wait "$pid" || return 1
}
# executor_pids: the processes a BuildKit RUN step runs (every descendant of its runc).
executor_pids() {
  local roots
  roots=$(pgrep -f '^runc .*/buildkit/executor/' || true)
  [[ -n $roots ]] || return 0
  ps -eo pid=,ppid= | awk -v roots="$roots" '
    BEGIN { n = split(roots, r, "\n"); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END { do { grew = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 } } while (grew)
          for (i = 1; i <= n; i++) delete keep[r[i]]; for (p in keep) print p }'
}
# executor_ticks: their CPU time so far (user + system clock ticks), empty when none run.
executor_ticks() {
  local p total=0 any=
  for p in $(executor_pids); do
    [[ -r /proc/$p/stat ]] || continue
    any=1
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  [[ -z $any ]] || echo "$total"
}
declare -a pcold qcold pchange qchange
if [[ $ANCHOR == 1 ]]; then
  bash bench/arm64-toolchain.sh
  cp -r bench/crates/heavy "$WORK/heavy-q"
  for r in $(seq 1 "$RUNS"); do
    tag=$(date +%s%N)
    if ((r % 2)); then
      qcold[r]=$(qemu_build "$tag" --no-cache); pcold[r]=$(cold linux/arm64 rs2i-bench-plat-tmp-1)
    else
      pcold[r]=$(cold linux/arm64 rs2i-bench-plat-tmp-1); qcold[r]=$(qemu_build "$tag" --no-cache)
    fi
    echo "// change $RANDOM" >>"$WORK/heavy-q/src/main.rs"
    if ((r % 2)); then
      pchange[r]=$(change linux/arm64 rs2i-bench-plat-tmp-1); qchange[r]=$(qemu_build "$tag")
    else
      qchange[r]=$(qemu_build "$tag"); pchange[r]=$(change linux/arm64 rs2i-bench-plat-tmp-1)
    fi
  done
  # the cache mounts of the anchor runs: gigabytes of arm64 target/ directories
  DOCKER_BUILDKIT=1 /usr/bin/docker builder prune -f --filter type=exec.cachemount >/dev/null 2>&1 || true
fi

# phase_medians ONE TWO: per phase or part (in the order first seen), the median seconds
# in each file of `name<TAB>seconds` lines.
phase_medians() {
  local name
  cut -f1 "$1" "$2" | awk '!seen[$0]++' | while IFS= read -r name; do
    echo "| $name | $(median_of "$1" "$name") | $(median_of "$2" "$name") |"
  done
}
median_of() { # median_of FILE NAME: "-" when NAME has no line in FILE
  local v
  v=$(awk -F'\t' -v n="$2" '$1 == n { print $2 }' "$1")
  if [[ -n $v ]]; then median $v; else echo -; fi
}

{
  echo "# What a second platform costs (bench/platforms.sh)"
  echo
  echo "bench/crates/heavy, $RUNS paired runs, medians; \`make bench-platforms\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
  [[ $PAIRS == 1 ]] || echo "The first two rows are from the run of ${pairs_from%.} (this one was \`PAIRS=0\`, the anchor alone)."
  echo
  echo "| scenario | A | B | A s (median) | B s (median) | A/B (median of per-run ratios) |"
  echo "|---|---|---|---|---|---|"
  if [[ $PAIRS == 1 ]]; then
    echo "| cold | arm64 (cross-compiled) | amd64 (native) | $(median "${arm[@]}") | $(median "${amd[@]}") | $(median $(ratios arm amd)) |"
    echo "| one-line change | 2 platforms | 1 platform | $(median "${two[@]}") | $(median "${one[@]}") | $(median $(ratios two one)) |"
  else
    cat "$WORK/pairs"
  fi
  if [[ $ANCHOR == 1 ]]; then
    echo "| cold, arm64 | this project (cross-compiled) | BuildKit + QEMU | $(median "${pcold[@]}") | $(median "${qcold[@]}") | $(median $(ratios pcold qcold)) |"
    echo "| one-line change, arm64 | this project (cross-compiled) | BuildKit + QEMU | $(median "${pchange[@]}") | $(median "${qchange[@]}") | $(median $(ratios pchange qchange)) |"
  fi
  if [[ $PAIRS == 1 ]]; then
    echo
    echo "Where the second platform's time goes on the one-line change (median seconds of the phases and parts P prints):"
    echo
    echo "| phase or part | 1 platform | 2 platforms |"
    echo "|---|---|---|"
    phase_medians "$WORK/phases-linux_amd64.tsv" "$WORK/phases-linux_amd64,linux_arm64.tsv"
    echo
    echo "Samples (s): arm64 cold ${arm[*]}; amd64 cold ${amd[*]}; 2 platforms ${two[*]}; 1 platform ${one[*]}."
  else
    echo
    cat "$WORK/pairs-samples"
  fi
  if [[ $ANCHOR == 1 ]]; then
    echo "Anchor samples (s): this project arm64 cold ${pcold[*]}, BuildKit + QEMU cold ${qcold[*]}; this project arm64 change ${pchange[*]}, BuildKit + QEMU change ${qchange[*]}."
    echo "BuildKit + QEMU attempts stopped as hung (Debian's qemu-user 7.2 deadlocking a forked cargo child) and run again: $(cat "$WORK/hangs" 2>/dev/null | wc -l)."
  fi
} | tee "$OUT"
# bench/results.md carries the same table between its platforms markers.
results_section platforms "$OUT"
