#!/usr/bin/env bash
# Benchmarks, not tests: builds two crates with three tools side by side, in one run,
# and writes bench/results.md (a markdown table) plus bench/results.tsv (every sample).
#
#   L  cargo in the toolchain image, with a warm target/ volume:
#      docker run --rm -v VOL:/target -v SRC:/src -e CARGO_TARGET_DIR=/target IMAGE
#        cargo build --release --locked --bin X --target TARGET
#      (a -gnu TARGET with RUSTFLAGS=-C target-feature=+crt-static, as P links it).
#      It makes a binary, not an image.
#   B  a BuildKit multi-stage Dockerfile (bench/Dockerfile.buildkit): RUN --mount=type=cache
#      for the cargo registry and target/, final stage the runtime base + the binary.
#   P  this project: rust-s2i-musl build ... --cache local --cache-dir DIR
#
# Crates: examples/hello (no dependencies) and bench/crates/heavy (27 direct, 81 resolved
# dependencies, all Debian librust-*-dev crates through a cargo [source] replacement).
#
# Scenarios, in this order within each run, each tool right after the other:
#   cold       nothing: L's volume removed, B with --no-cache (empty cache mounts, no layer
#              cache), P's -tmp/final images and cache dir removed
#   unchanged  the same source again
#   change     one line of src/main.rs changed (a string that ends up in the binary)
#   fresh      a "fresh machine" with the same one-line kind of change: every local state
#              removed (L's volume, B's build cache via --no-cache, P's -tmp and final
#              images), only P's cache dir kept. BuildKit cache mounts are not exported
#              by any cache backend, so for B (and L) this is a cold build.
#
# Target: x86_64-unknown-linux-musl, what users get by default, on the musl test toolchain
# (rust-s2i-test/rust-musl:1.96, hack/rust-musl/) and its builder. For -gnu +crt-static:
# TEST_TARGET=x86_64-unknown-linux-gnu TEST_BUILDER_IMAGE=rust-s2i-test/builder-gnu:latest
# (make test-builder-gnu).
#
# Environment:
#   RUNS=5        runs per (crate, scenario, tool); medians are over these
#   COLD_RUNS     runs that include the cold scenario (default RUNS); the rest start
#                 from the state the previous run left
#   CRATES        "hello heavy"
#   BENCH_WORK    scratch directory (default /var/tmp/rust-s2i-bench)
#   BENCH_OUT     the markdown report (default bench/results.md)
#
# Ratios are computed pair by pair: within run r, P_r/L_r and P_r/B_r (the three tools
# ran one after the other, in an order rotated from run to run); the table shows the
# median of those per-run ratios, not the ratio of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=bench/lib.sh
. bench/lib.sh

RUNS=${RUNS:-5}
COLD_RUNS=${COLD_RUNS:-$RUNS}
CRATES=${CRATES:-hello heavy}
WORK=${BENCH_WORK:-/var/tmp/rust-s2i-bench}
OUT=${BENCH_OUT:-bench/results.md}
TSV=${OUT%.md}.tsv
DOCKER=${DOCKER:-/usr/bin/docker} # the 20.10 client: BuildKit builds with DOCKER_BUILDKIT=1
BIN=${BIN:-$ROOT/bin/rust-s2i-musl}
TARGET=${TEST_TARGET:-x86_64-unknown-linux-musl}
# musl targets are static by default; a -gnu one only with +crt-static (assemble adds it
# for P, and L and B get the same)
case $TARGET in
  *-gnu) STATIC_RUSTFLAGS="-C target-feature=+crt-static" ;;
  *) STATIC_RUSTFLAGS= ;;
esac
RUST_IMAGE=${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}
# what bench/images.sh and bench/report.sh read
export TEST_TARGET=$TARGET TEST_RUST_IMAGE=$RUST_IMAGE
RUNTIME=${TEST_RUNTIME_IMAGE:-rust-s2i-test/busybox:latest}
TIME=/usr/bin/time

export DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain

# crate table: source dir, binary, toolchain image (L, B), builder image (P)
crate_src()       { case $1 in hello) echo "$ROOT/examples/hello" ;; heavy) echo "$ROOT/bench/crates/heavy" ;; esac; }
crate_toolchain() { case $1 in hello) echo "$RUST_IMAGE" ;; heavy) echo "${BENCH_DEPS_IMAGE:-rust-s2i-bench/rust-deps:1.96}" ;; esac; }
crate_builder()   { case $1 in hello) echo "${TEST_BUILDER_IMAGE:-rust-s2i-test/builder-musl:latest}" ;; heavy) echo "${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}" ;; esac; }

die() { echo "bench: $*" >&2; exit 1; }

[[ -x $BIN ]] || die "$BIN is missing: run make build (or make bench)"
[[ -x $TIME ]] || die "/usr/bin/time is missing: apt-get install time"
[[ -x $DOCKER ]] || die "$DOCKER is missing: the 20.10 client of Debian's docker.io"
for c in $CRATES; do
  [[ -n $(crate_src "$c") ]] || die "unknown crate $c (hello, heavy)"
done
if [[ " $CRATES " == *" heavy "* ]]; then bash bench/images.sh; fi
for c in $CRATES; do
  for img in "$(crate_toolchain "$c")" "$(crate_builder "$c")" "$RUNTIME"; do
    $DOCKER image inspect "$img" >/dev/null 2>&1 || die "image $img is missing: run make test-images"
  done
done

mkdir -p "$WORK/logs"
rm -f "$WORK"/samples.tsv "$WORK"/phases.tsv "$WORK"/parts.tsv "$WORK"/sizes.tsv "$WORK"/floor.tsv
: >"$WORK/samples.tsv"; : >"$WORK/phases.tsv"; : >"$WORK/parts.tsv"; : >"$WORK/sizes.tsv"; : >"$WORK/floor.tsv"

# Names of everything the harness creates; nothing else is touched.
l_volume()  { echo "rust-s2i-bench-l-$1"; }
b_image()   { echo "rust-s2i-bench/b-$1"; }
p_image()   { echo "rust-s2i-bench/p-$1"; }
p_tmp()     { echo "rust-s2i-bench/p-$1-tmp"; }
p_cache()   { echo "$WORK/$1/p-cache"; }
srcdir()    { echo "$WORK/$1/src-$2"; } # one copy of the source per tool

# The line the "change" scenario rewrites is lib.sh's change_line: the first line of
# main() in each copy, its string in the binary.

# reset_source CRATE TOOL: a fresh copy of the crate with the bench line in main().
reset_source() {
  local d
  d=$(srcdir "$1" "$2")
  rm -rf "$d"
  cp -r "$(crate_src "$1")" "$d"
  rm -rf "$d/target"
  add_change_line "$d/src/main.rs" || die "no 'fn main() ... {' line in $(crate_src "$1")/src/main.rs"
}

# change_source CRATE TOOL TAG: rewrite the bench line (one line, and the binary changes).
change_source() {
  local f
  f=$(srcdir "$1" "$2")/src/main.rs
  set_change_line "$f" "$3" || die "could not change $f"
}

# reset_state CRATE TOOL: drop the tool's local build state (cold / fresh machine).
reset_state() {
  case $2 in
    L) $DOCKER volume rm -f "$(l_volume "$1")" >/dev/null ;;
    B) : ;; # the next build runs with --no-cache (fresh cache mounts, no layer cache)
    P) $DOCKER rmi -f "$(p_image "$1")" "$(p_tmp "$1")" >/dev/null 2>&1 || true ;;
  esac
}

b_dockerfile() { # b_dockerfile CRATE: the Dockerfile for B, from the template
  local f=$WORK/$1/Dockerfile
  buildkit_dockerfile "$(crate_toolchain "$1")" "$RUNTIME" "$1" "$TARGET" "$STATIC_RUSTFLAGS" >"$f"
  echo "$f"
}

# build TOOL CRATE NOCACHE LOG: one build; prints the wall time in seconds.
build() {
  local tool=$1 c=$2 nocache=$3 log=$4 src tf old new
  src=$(srcdir "$c" "$tool")
  tf=$(mktemp)
  case $tool in
    L)
      $TIME -f %e -o "$tf" $DOCKER run --rm \
        -v "$(l_volume "$c"):/target" -v "$src:/src" -w /src \
        -e CARGO_TARGET_DIR=/target -e CARGO_TERM_COLOR=never \
        -e RUSTFLAGS="$STATIC_RUSTFLAGS" \
        "$(crate_toolchain "$c")" \
        cargo build --release --locked --bin "$c" --target "$TARGET" >"$log" 2>&1 ;;
    B)
      old=$($DOCKER image inspect -f '{{.Id}}' "$(b_image "$c")" 2>/dev/null || true)
      $TIME -f %e -o "$tf" $DOCKER build $nocache -f "$WORK/$c/Dockerfile" \
        -t "$(b_image "$c")" "$src" >"$log" 2>&1
      new=$($DOCKER image inspect -f '{{.Id}}' "$(b_image "$c")")
      # the previous image would be left dangling
      [[ -z $old || $old == "$new" ]] || $DOCKER rmi "$old" >/dev/null 2>&1 || true ;;
    P)
      $TIME -f %e -o "$tf" "$BIN" build --source "$src" --binary "$c" \
        --builder "$(crate_builder "$c")" --runtime-image "$RUNTIME" \
        --image "$(p_image "$c")" --tmp-image "$(p_tmp "$c")" \
        --cache local --cache-dir "$(p_cache "$c")" >"$log" 2>&1 ;;
  esac || { tail -n 40 "$log" >&2; rm -f "$tf"; die "$tool build of $c failed (log: $log)"; }
  tail -n 1 "$tf"
  rm -f "$tf"
}

# go_seconds (P's durations to seconds) is lib.sh's.
dir_bytes() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }

record_sizes() { # record_sizes CRATE RUN: image sizes, P's cache bytes, L's volume bytes
  local c=$1 r=$2 v
  printf '%s\t%s\tB_image\t%s\n' "$c" "$r" "$($DOCKER image inspect -f '{{.Size}}' "$(b_image "$c")")" >>"$WORK/sizes.tsv"
  printf '%s\t%s\tP_image\t%s\n' "$c" "$r" "$($DOCKER image inspect -f '{{.Size}}' "$(p_image "$c")")" >>"$WORK/sizes.tsv"
  printf '%s\t%s\tP_cache\t%s\n' "$c" "$r" "$(dir_bytes "$(p_cache "$c")")" >>"$WORK/sizes.tsv"
  v=$($DOCKER volume inspect -f '{{.Mountpoint}}' "$(l_volume "$c")" 2>/dev/null || true)
  [[ -z $v ]] || printf '%s\t%s\tL_volume\t%s\n' "$c" "$r" "$(dir_bytes "$v")" >>"$WORK/sizes.tsv"
}

order_for() { # order_for RUN: the tools in an order rotated from run to run
  case $(($1 % 3)) in 1) echo "L B P" ;; 2) echo "B P L" ;; 0) echo "P L B" ;; esac
}

# Which P is measured: the commit bin/ was built from is not recorded, so this is the
# work tree's commit, "+dirty" when it has uncommitted changes, and the binary's time.
BENCH_P_REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo +dirty), bin/ built $(date -u -r "$BIN" +%Y-%m-%dT%H:%MZ)"
export BENCH_P_REV
START=$SECONDS
# Each invocation changes the source to strings never built before: otherwise B's layer
# cache (kept by the daemon across invocations) would turn a "change" into a cache hit.
NONCE=$(date +%s)-$$
echo "bench: RUNS=$RUNS COLD_RUNS=$COLD_RUNS CRATES='$CRATES' work=$WORK" >&2
for c in $CRATES; do
  mkdir -p "$WORK/$c"
  b_dockerfile "$c" >/dev/null
  for t in L B P; do reset_source "$c" "$t"; done
  for r in $(seq 1 "$RUNS"); do
    scenarios="unchanged change fresh"
    if ((r <= COLD_RUNS)); then scenarios="cold $scenarios"; fi
    # without a cold build in this run, "unchanged" follows the previous run's fresh build
    for s in $scenarios; do
      for t in $(order_for "$r"); do
        nocache=
        case $s in
          cold)
            reset_state "$c" "$t"; reset_source "$c" "$t"
            [[ $t != P ]] || rm -rf "$(p_cache "$c")"
            [[ $t != B ]] || nocache=--no-cache ;;
          change) change_source "$c" "$t" "$NONCE-run$r-change" ;;
          fresh)
            reset_state "$c" "$t"; change_source "$c" "$t" "$NONCE-run$r-fresh"
            [[ $t != B ]] || nocache=--no-cache ;;
        esac
        log=$WORK/logs/$c-$s-$t-$r.log
        secs=$(build "$t" "$c" "$nocache" "$log")
        printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$s" "$t" "$r" "$secs" >>"$WORK/samples.tsv"
        if [[ $t == P ]]; then
          grep -E '^<== .+ \([^)]*\)$' "$log" | sed -E 's/^<== (.+) \(([^)]*)\)$/\1\t\2/' |
            while IFS=$'\t' read -r phase dur; do
              printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$s" "$r" "$phase" "$(go_seconds "$dur")"
            done >>"$WORK/phases.tsv"
          # the parts of a phase, indented below it: "    s2i build: cargo (1.2s)"
          grep -E '^    [a-z0-9 ]+: .+ \([^)]*\)$' "$log" | sed -E 's/^    (.+) \(([^)]*)\)$/\1\t\2/' |
            while IFS=$'\t' read -r part dur; do
              printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$s" "$r" "$part" "$(go_seconds "$dur")"
            done >>"$WORK/parts.tsv" || true # none when nothing was built
        fi
        printf 'bench: %-5s %-9s %s run %d/%d: %6.2fs  (%ds elapsed)\n' "$c" "$s" "$t" "$r" "$RUNS" "$secs" $((SECONDS - START)) >&2
      done
      if [[ $s == cold ]]; then record_sizes "$c" "$r"; fi
      # The floor every tool pays once: a container of P's builder started and removed,
      # doing nothing, as docker run does it (default network).
      if [[ $s == change ]]; then
        tf=$(mktemp)
        $TIME -f %e -o "$tf" $DOCKER run --rm --entrypoint /bin/true "$(crate_builder "$c")" >/dev/null 2>&1 || true
        printf '%s\t%s\t%s\n' "$c" "$r" "$(tail -n 1 "$tf")" >>"$WORK/floor.tsv"
        rm -f "$tf"
      fi
    done
  done
  if ((COLD_RUNS == 0)); then record_sizes "$c" end; fi
done
TOTAL=$((SECONDS - START))

bash bench/report.sh "$WORK" "$RUNS" "$COLD_RUNS" "$TOTAL" >"$OUT"
{
  printf 'crate\tscenario\ttool\trun\tseconds\n'
  cat "$WORK/samples.tsv"
} >"$TSV"
cat "$OUT"
echo "bench: wrote $OUT and $TSV in ${TOTAL}s; build logs in $WORK/logs" >&2
