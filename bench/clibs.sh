#!/usr/bin/env bash
# Benchmark, not a test: does a builder with the C libraries (s2i/clibs.sh) make the
# warm one-line change slower than one without? The same builder base, once with the
# test world's C libraries (the test builder, TEST_BUILDER_IMAGE) and once with
# `--c-libs none`; on bench/crates/heavy with the bench's deps image, whose builder is
# made both ways here. Paired runs, the order alternating; medians of the per-pair
# ratios. Writes bench/results-clibs.md. RUNS=5 by default.
#   make bench-clibs
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
OUT=${BENCH_OUT:-bench/results-clibs.md}
BIN=${BIN:-bin/rust-s2i-musl}
DEPS_IMAGE=${BENCH_DEPS_IMAGE:-rust-s2i-bench/rust-deps:1.96}
WITH=rust-s2i-bench/builder-deps-clibs:latest
WITHOUT=${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}
RUNTIME=${TEST_RUNTIME_IMAGE:-rust-s2i-test/busybox:latest}
WORK=$(mktemp -d /var/tmp/rust-s2i-bench-clibs.XXXXXX)
trap 'rm -rf "$WORK"; docker rmi -f rs2i-bench-clibs-1 rs2i-bench-clibs-2 rs2i-bench-clibs-tmp-1 rs2i-bench-clibs-tmp-2 >/dev/null 2>&1 || true' EXIT

clibs=$(bash hack/clibs-versions.sh "$DEPS_IMAGE")
echo "bench-clibs: $WITH with $clibs (from Debian's sources: several minutes the first time)" >&2
start=$SECONDS
"$BIN" builder --base "$DEPS_IMAGE" --c-libs "$clibs" --c-libs-source debian --tag "$WITH" >"$WORK/builder.log" 2>&1 ||
  { tail -n 30 "$WORK/builder.log" >&2; exit 1; }
made=$((SECONDS - start))
"$BIN" builder --base "$DEPS_IMAGE" --c-libs none --tag "$WITHOUT" >"$WORK/builder.log" 2>&1 ||
  { tail -n 30 "$WORK/builder.log" >&2; exit 1; }

# shellcheck source=bench/lib.sh
. bench/lib.sh
# change N BUILDER: a one-line change of copy N built with BUILDER, its wall seconds.
change() {
  local start
  echo "// change $RANDOM" >>"$WORK/heavy-$1/src/main.rs"
  start=$(now)
  "$BIN" build --source "$WORK/heavy-$1" --binary heavy --builder "$2" --runtime-image "$RUNTIME" \
    --image "rs2i-bench-clibs-$1" --tmp-image "rs2i-bench-clibs-tmp-$1" >/dev/null 2>"$WORK/log" ||
    { tail -n 30 "$WORK/log" >&2; exit 1; }
  secs "$start" "$(now)"
}
for n in 1 2; do cp -r bench/crates/heavy "$WORK/heavy-$n"; done
change 1 "$WITH" >/dev/null # warm -tmp images: the cold builds
change 2 "$WITHOUT" >/dev/null
declare -a with without
for r in $(seq 1 "$RUNS"); do
  if ((r % 2)); then
    with[r]=$(change 1 "$WITH"); without[r]=$(change 2 "$WITHOUT")
  else
    without[r]=$(change 2 "$WITHOUT"); with[r]=$(change 1 "$WITH")
  fi
done

ratios=$(ratios with without)
size() { docker image inspect -f '{{.Size}}' "$1"; }
{
  echo "# What the builder's C libraries cost (bench/clibs.sh)"
  echo
  echo "bench/crates/heavy, one-line change with the -tmp image in place, $RUNS paired runs; \`make bench-clibs\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo
  echo "| builder | C libraries | image bytes | one-line change s (median) |"
  echo "|---|---|---|---|"
  echo "| with | $clibs | $(size "$WITH") | $(median "${with[@]}") |"
  echo "| without | none | $(size "$WITHOUT") | $(median "${without[@]}") |"
  echo
  echo "with/without, median of the per-run ratios: $(median $ratios). Making the builder with them took ${made} s here (0 when the daemon's build cache had the step)."
  echo
  echo "Samples (s): with ${with[*]}; without ${without[*]}."
} | tee "$OUT"
