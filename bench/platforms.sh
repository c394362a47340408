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
# The runtime base is a two-platform index (rust-s2i-test/busybox + busybox-arm64) in a
# go-containerregistry registry on loopback, as the e2e tests use it (testenv).
# Writes bench/results-platforms.md. RUNS=3 by default.
#   make bench-platforms
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/results-platforms.md}
BIN=${BIN:-bin/rust-s2i-musl}
BUILDER=${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}
WORK=$(mktemp -d /var/tmp/rust-s2i-bench-platforms.XXXXXX)
trap 'rm -rf "$WORK"; docker rmi -f rs2i-bench-plat rs2i-bench-plat-tmp-1 rs2i-bench-plat-tmp-2 >/dev/null 2>&1 || true' EXIT

# The base's registry serves while its stdin (a pipe this script holds) is open.
go build -o "$WORK/multiarchbase" ./bench/multiarchbase
exec 8> >("$WORK/multiarchbase" >"$WORK/base")
for _ in $(seq 1 100); do [[ -s $WORK/base ]] && break; sleep 0.2; done
base=$(cat "$WORK/base")
[[ -n $base ]] || { echo "platforms.sh: the two-platform base did not come up" >&2; exit 1; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

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
change() { echo "// change $RANDOM" >>"$WORK/heavy/src/main.rs"; build "$1" "$2"; }

cp -r bench/crates/heavy "$WORK/heavy"
declare -a arm amd one two
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

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratios() { # ratios A[] B[]: per-run A/B
  local -n a=$1 b=$2
  local r
  for r in "${!a[@]}"; do awk -v x="${a[r]}" -v y="${b[r]}" 'BEGIN { printf "%.2f\n", x / y }'; done
}
{
  echo "# What a second platform costs (bench/platforms.sh)"
  echo
  echo "bench/crates/heavy, $RUNS paired runs, medians; \`make bench-platforms\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo
  echo "| scenario | A | B | A s (median) | B s (median) | A/B (median of per-run ratios) |"
  echo "|---|---|---|---|---|---|"
  echo "| cold | arm64 (cross-compiled) | amd64 (native) | $(median "${arm[@]}") | $(median "${amd[@]}") | $(median $(ratios arm amd)) |"
  echo "| one-line change | 2 platforms | 1 platform | $(median "${two[@]}") | $(median "${one[@]}") | $(median $(ratios two one)) |"
  echo
  echo "Samples (s): arm64 cold ${arm[*]}; amd64 cold ${amd[*]}; 2 platforms ${two[*]}; 1 platform ${one[*]}."
} | tee "$OUT"
