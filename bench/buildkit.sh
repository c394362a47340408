#!/usr/bin/env bash
# Benchmark, not a test: this project on BuildKit, against this project on the Docker
# Engine and against the usual BuildKit Dockerfile, on bench/crates/heavy (81 resolved
# dependencies, Debian's packaged crates from the bench's deps images, bench/images.sh):
#
#   K  this project on buildkitd: rust-s2i-musl build --engine buildkit --push
#      --cache local, with the bench's deps builder from a registry (buildkitd pulls it)
#   P  this project on the host's Docker Engine, as bench/run.sh runs it: the same
#      builder, on the engine already, --cache local, the image left on the engine
#   B  bench/Dockerfile.buildkit (cache mounts for the cargo registry and target/, as
#      bench/run.sh's B) FROM the deps toolchain image, built by buildctl on the same
#      buildkitd as K and pushed to the same registry
#
# buildkitd (v0.35.0, rootful) and a registry run in a network namespace of their own
# with only a loopback, as in bench/fresh-runner.sh; K runs inside it (nsenter --net),
# so that it reaches the registry; P runs on the host's Docker Engine. Scenarios, each
# system's three one right after the other (a block per system, the blocks' order
# rotated from pair to pair):
#
#   cold   nothing: a fresh buildkitd on an empty data root, an empty cache directory
#          (P: no -tmp or final image, an empty cache directory). K and B pull their
#          builder / toolchain image into that buildkitd; P's builder is on the engine.
#   warm   a one-line change of src/main.rs (bench/lib.sh's change_line, as run.sh),
#          right after, on the same daemon
#   again  a second one-line change on the same daemon, which has had the restored
#          state once (its copy of the local context is sent again only where changed)
#   fresh  another one-line change on a new buildkitd with an empty data root: K keeps
#          only its cache directory, B nothing (its cache mounts were in the old data
#          root), and both pull their image again. P: its -tmp and final images
#          removed, its cache directory kept (its builder stays on the engine).
#
# Medians over PAIRS (default 3) pairs; K/P and K/B are medians of the per-pair ratios.
# For every build, the crates other than heavy that cargo compiled (its `Compiling`
# lines) are counted. Writes bench/results-buildkit.md (with every sample, the commands
# and the machine) and the table into bench/results.md; the build logs stay in
# BENCH_LOGS (default /var/tmp/rust-s2i-bench/buildkit-logs).
#
#   make bench-buildkit         (PAIRS=3 by default)
#
# Needs root (a network namespace, buildkitd), runc, Debian's docker-registry, and
# buildkitd/buildctl v0.35.0 in BUILDKIT_DIR (built there when missing, as
# fresh-runner.sh does). It removes everything it made on exit: buildkitd, the
# registry, the namespace, their directories, and P's images; the test images and the
# bench's deps images stay.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

PAIRS=${PAIRS:-3}
BIN=${BIN:-bin/rust-s2i-musl}
TARGET=x86_64-unknown-linux-musl
DEPS_IMAGE=${BENCH_DEPS_IMAGE:-rust-s2i-bench/rust-deps:1.96}
DEPS_BUILDER=${BENCH_DEPS_BUILDER:-rust-s2i-bench/builder-deps:latest}
RUNTIME=${TEST_RUNTIME_IMAGE:-rust-s2i-test/busybox:latest}
BUILDKIT_DIR=${BUILDKIT_DIR:-/var/tmp/rust-s2i-buildkit}
OUT=${BENCH_OUT:-bench/results-buildkit.md}
LOGS=${BENCH_LOGS:-/var/tmp/rust-s2i-bench/buildkit-logs}
NS=rs2i-kit-$$
RUN=/run/$NS
REG=127.0.0.1:5000
WORK=$(mktemp -d /var/tmp/rust-s2i-bench-kit.XXXXXX)
P_IMAGE=rust-s2i-bench/kit-p
P_TMP=rust-s2i-bench/kit-p-tmp

die() { echo "buildkit.sh: $*" >&2; exit 1; }
say() { echo "buildkit.sh: $*" >&2; }

# in_ns, ns_buildctl, stop, ns_up, ns_down, ensure_buildkit and start_buildkitd are
# bench/lib.sh's (with NS, RUN, WORK, REG and BUILDKIT_DIR above).
cleanup() {
  ns_down
  docker rmi -f "$P_IMAGE" "$P_TMP" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

((PAIRS >= 1)) || die "PAIRS=$PAIRS: at least 1"
[[ $(id -u) == 0 ]] || die "needs root: a network namespace and buildkitd"
command -v docker-registry >/dev/null || die "needs Debian's docker-registry (apt-get install docker-registry)"
command -v runc >/dev/null || die "needs runc, which buildkitd runs its containers with (apt-get install runc)"
[[ -x $BIN ]] || die "$BIN is missing: run make build (or make bench-buildkit)"
TEST_TARGET=$TARGET BIN=$BIN bash bench/images.sh
for img in "$DEPS_IMAGE" "$DEPS_BUILDER" "$RUNTIME"; do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing: run make test-images"
done
rm -rf "$LOGS"
mkdir -p "$LOGS"
say "PAIRS=$PAIRS, scratch $WORK, namespace $NS, build logs in $LOGS"

ns_up
ensure_buildkit

# --- what the registry serves: the images of the host's engine, under tags that are not
# `latest` (the Dockerfile frontend would take a FROM …:latest for a Docker Hub name) --
K_BUILDER=$REG/rs2i/builder-deps:1
B_TOOLCHAIN=$REG/rs2i/rust-deps:1
REG_RUNTIME=$REG/rs2i/busybox:1
go build -o "$WORK/ocipush" ./test/testenv/cmd/ocipush
for s in "$DEPS_BUILDER=$K_BUILDER" "$DEPS_IMAGE=$B_TOOLCHAIN" "$RUNTIME=$REG_RUNTIME"; do
  say "pushing ${s%%=*} as ${s#*=}"
  docker save -o "$WORK/image.tar" "${s%%=*}"
  in_ns "$WORK/ocipush" "$WORK/image.tar" "${s#*=}" || die "pushing ${s%%=*} failed"
  rm -f "$WORK/image.tar"
done

# --- the three systems' builds ------------------------------------------------------------
# One copy of the source per system, always at the same place (this project's cache keys
# and K's local contexts are scoped to it).
K_CMD=("$BIN" build --engine buildkit --buildkit-host "unix://$RUN/buildkitd.sock" --source "$WORK/src-K"
  --binary heavy --builder "$K_BUILDER" --runtime-image "$REG_RUNTIME" --image "$REG/rs2i/heavy:k" --push
  --cache local --cache-dir "$WORK/cache-K")
P_CMD=("$BIN" build --source "$WORK/src-P" --binary heavy --builder "$DEPS_BUILDER" --runtime-image "$RUNTIME"
  --image "$P_IMAGE" --tmp-image "$P_TMP" --cache local --cache-dir "$WORK/cache-P")
B_CMD=("$BUILDKIT_DIR/buildctl" --addr "unix://$RUN/buildkitd.sock" build --progress plain --frontend dockerfile.v0
  --local context="$WORK/src-B" --local dockerfile="$WORK/dockerfile"
  --output "type=image,name=$REG/rs2i/heavy:b,push=true")
mkdir -p "$WORK/dockerfile"
buildkit_dockerfile "$B_TOOLCHAIN" "$REG_RUNTIME" heavy "$TARGET" "" >"$WORK/dockerfile/Dockerfile"

# src_reset SYSTEM: a fresh copy of the crate with the bench line in main().
src_reset() {
  rm -rf "$WORK/src-$1"
  cp -r bench/crates/heavy "$WORK/src-$1"
  rm -rf "$WORK/src-$1/target"
  add_change_line "$WORK/src-$1/src/main.rs" || die "no 'fn main() ... {' line in bench/crates/heavy/src/main.rs"
}
# src_change SYSTEM TAG: the one-line change.
src_change() { set_change_line "$WORK/src-$1/src/main.rs" "$2" || die "could not change $WORK/src-$1/src/main.rs"; }

# build SYSTEM SCENARIO PAIR: one build; its wall seconds on stdout, its log (stderr) in
# $LOGS/SYSTEM-SCENARIO-PAIR.log, its outputs (stdout) beside it in .out.
build() {
  local log=$LOGS/$1-$2-$3.log start
  start=$(now)
  case $1 in
    K) in_ns "${K_CMD[@]}" ;;
    P) "${P_CMD[@]}" ;;
    B) "${B_CMD[@]}" ;;
  esac >"${log%.log}.out" 2>"$log" || { tail -n 30 "$log" >&2; die "$1's $2 build failed (log: $log)"; }
  secs "$start" "$(now)"
  grep -q 'Compiling heavy v' "$log" || die "$1's $2 build did not compile heavy (log: $log)"
}

# deps SYSTEM SCENARIO PAIR: how many crates other than heavy that build compiled.
deps() { { grep -oE 'Compiling [A-Za-z0-9_-]+ v[0-9]' "$LOGS/$1-$2-$3.log" || true; } | awk '$2 != "heavy"' | wc -l; }

declare -a Kc Kw Ka Kf Pc Pw Pa Pf Bc Bw Ba Bf KDc KDw KDa KDf PDf BDf KH
: >"$WORK/k-phases.tsv"
# k_phases SCENARIO PAIR: K's phases (its `<== PHASE (DURATION)` lines) to k-phases.tsv.
k_phases() {
  { grep -E '^<== .+ \([^)]*\)$' "$LOGS/K-$1-$2.log" || true; } | sed -E 's/^<== (.+) \(([^)]*)\)$/\1\t\2/' |
    while IFS=$'\t' read -r phase dur; do printf '%s\t%s\t%s\n' "$1" "$phase" "$(go_seconds "$dur")"; done >>"$WORK/k-phases.tsv"
}

run_K() { # run_K PAIR
  local r=$1 s
  start_buildkitd
  rm -rf "$WORK/cache-K"
  src_reset K
  Kc[r]=$(build K cold "$r")
  src_change K "pair$r-warm"
  Kw[r]=$(build K warm "$r")
  src_change K "pair$r-again"
  Ka[r]=$(build K again "$r")
  start_buildkitd # a new, empty data root: only the cache directory is kept
  src_change K "pair$r-fresh"
  Kf[r]=$(build K fresh "$r")
  KDc[r]=$(deps K cold "$r"); KDw[r]=$(deps K warm "$r"); KDa[r]=$(deps K again "$r"); KDf[r]=$(deps K fresh "$r")
  KH[r]=$(sed -n 's/^cache-hit=//p' "$LOGS/K-fresh-$r.out")
  for s in cold warm again fresh; do k_phases "$s" "$r"; done
  say "pair $r/$PAIRS K: cold ${Kc[r]} s, warm ${Kw[r]} s, again ${Ka[r]} s, fresh ${Kf[r]} s (deps compiled on the fresh buildkitd: ${KDf[r]}, cache-hit=${KH[r]})"
}
run_B() { # run_B PAIR
  local r=$1
  start_buildkitd
  src_reset B
  Bc[r]=$(build B cold "$r")
  src_change B "pair$r-warm"
  Bw[r]=$(build B warm "$r")
  src_change B "pair$r-again"
  Ba[r]=$(build B again "$r")
  start_buildkitd # a new, empty data root: the cache mounts are gone with the old one
  src_change B "pair$r-fresh"
  Bf[r]=$(build B fresh "$r")
  BDf[r]=$(deps B fresh "$r")
  say "pair $r/$PAIRS B: cold ${Bc[r]} s, warm ${Bw[r]} s, again ${Ba[r]} s, fresh ${Bf[r]} s (deps compiled on the fresh buildkitd: ${BDf[r]})"
}
run_P() { # run_P PAIR
  local r=$1
  docker rmi -f "$P_IMAGE" "$P_TMP" >/dev/null 2>&1 || true
  rm -rf "$WORK/cache-P"
  src_reset P
  Pc[r]=$(build P cold "$r")
  src_change P "pair$r-warm"
  Pw[r]=$(build P warm "$r")
  src_change P "pair$r-again"
  Pa[r]=$(build P again "$r")
  docker rmi -f "$P_IMAGE" "$P_TMP" >/dev/null # a fresh engine's view: only the cache directory is kept
  src_change P "pair$r-fresh"
  Pf[r]=$(build P fresh "$r")
  PDf[r]=$(deps P fresh "$r")
  say "pair $r/$PAIRS P: cold ${Pc[r]} s, warm ${Pw[r]} s, again ${Pa[r]} s, fresh ${Pf[r]} s (deps compiled with the -tmp image gone: ${PDf[r]})"
}

START=$SECONDS
for r in $(seq 1 "$PAIRS"); do
  case $((r % 3)) in 1) order="K B P" ;; 2) order="B P K" ;; 0) order="P K B" ;; esac
  for t in $order; do "run_$t" "$r"; done
  say "pair $r/$PAIRS done ($((SECONDS - START)) s elapsed)"
done
TOTAL=$((SECONDS - START))

# --- the report -------------------------------------------------------------------------
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo "**met**"; else echo "**not met**"; fi; }
# mratio A B: the median of the per-pair ratios A[r]/B[r] (arrays named A and B).
mratio() { local v; mapfile -t v < <(ratios "$1" "$2"); median "${v[@]}"; }
# row LABEL K P B NOTE: a table row from the arrays named K, P and B.
row() {
  local -n k=$2 p=$3 b=$4
  echo "| $1 | $(median "${k[@]}") | $(median "${p[@]}") | $(median "${b[@]}") | $(mratio "$2" "$3") | $(mratio "$2" "$4") | $5 |"
}
gb() { awk -v b="$(docker image inspect -f '{{.Size}}' "$1")" 'BEGIN { printf "%.2f GB", b / 1e9 }'; }
kw_p=$(mratio Kw Pw)
ka_p=$(mratio Ka Pa)
kf_b=$(mratio Kf Bf)
kf_deps=$(max "${KDf[@]}")
hits=$(printf '%s\n' "${KH[@]}" | grep -c '^true$' || true)
P_REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo +dirty), bin/ built $(date -u -r "$BIN" +%Y-%m-%dT%H:%MZ)"
summary=$WORK/summary.md
{
  echo "# This project on BuildKit (bench/buildkit.sh)"
  echo
  echo "bench/crates/heavy ($(grep -c '^name = ' bench/crates/heavy/Cargo.lock) crates in Cargo.lock), $PAIRS paired runs, median seconds;"
  echo "\`make bench-buildkit\` on $(nproc) cores, $(date -u +%F), rust-s2i-musl at $P_REV."
  echo "K: this project on buildkitd v0.35.0 (\`--engine buildkit --push --cache local\`); P: this project on the"
  echo "Docker Engine (\`--cache local\`); B: [Dockerfile.buildkit](Dockerfile.buildkit) (cache mounts) by buildctl on"
  echo "the same buildkitd. K/P and K/B: medians of the per-pair ratios."
  echo
  echo "| scenario | K | P | B | K/P | K/B | crates compiled besides heavy (max over pairs) |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  row "cold: fresh buildkitd, empty cache (P: no -tmp image)" Kc Pc Bc "K $(max "${KDc[@]}")"
  row "one-line change, daemon warm" Kw Pw Bw "K $(max "${KDw[@]}")"
  row "another one-line change on that daemon (it has had the state once)" Ka Pa Ba "K $(max "${KDa[@]}")"
  row "one-line change, fresh buildkitd with only the cache (P: -tmp image removed)" Kf Pf Bf \
    "deps compiled: $kf_deps (K, cache hit in $hits of $PAIRS); P $(max "${PDf[@]}"), B $(max "${BDf[@]}")"
  echo
  echo "Targets: K's one-line change on a warm buildkitd ≤ 1.1× P: K/P = $kw_p, $(verdict le "$kw_p" 1.1);"
  echo "on a daemon that has had the state once, K/P = $ka_p, $(verdict le "$ka_p" 1.1)."
  echo "K on a fresh buildkitd: no dependency compiled ($kf_deps), $(verdict test "$kf_deps" -eq 0); ≤ 0.5× B: K/B = $kf_b, $(verdict le "$kf_b" 0.5)."
  echo
  echo "K and B pull their image (the deps builder, $(gb "$DEPS_BUILDER"), and the deps toolchain, $(gb "$DEPS_IMAGE"),"
  echo "unpacked) from the loopback registry into every fresh buildkitd, cold and fresh rows alike; P's"
  echo "builder stays on the engine. K and B push their image to that registry, P leaves its"
  echo "image on the engine. Details, every sample and the commands: [results-buildkit.md](results-buildkit.md)."
} >"$summary"

phase_rows() {
  local p s v out
  cut -f2 "$WORK/k-phases.tsv" | awk '!seen[$0]++' | while IFS= read -r p; do
    out="| $p |"
    for s in cold warm again fresh; do
      mapfile -t v < <(awk -F'\t' -v s="$s" -v p="$p" '$1 == s && $2 == p { print $3 }' "$WORK/k-phases.tsv")
      if ((${#v[@]})); then out+=" $(median "${v[@]}") |"; else out+=" – |"; fi
    done
    echo "$out"
  done
}
# shown with the scratch directory's name as WORK and the namespace's as NS
show() { local c="$*"; c=${c//"$WORK"/WORK}; echo "${c//"$NS"/NS}"; }
{
  cat "$summary"
  echo
  echo "## Every sample (seconds, pair 1 to $PAIRS)"
  echo
  echo "| scenario | K | P | B | K deps compiled | K cache-hit |"
  echo "|---|---|---|---|---|---|"
  echo "| cold | ${Kc[*]} | ${Pc[*]} | ${Bc[*]} | ${KDc[*]} | |"
  echo "| warm | ${Kw[*]} | ${Pw[*]} | ${Bw[*]} | ${KDw[*]} | |"
  echo "| again | ${Ka[*]} | ${Pa[*]} | ${Ba[*]} | ${KDa[*]} | |"
  echo "| fresh | ${Kf[*]} | ${Pf[*]} | ${Bf[*]} | ${KDf[*]} | ${KH[*]} |"
  echo
  echo "K/P per pair: cold $(ratios Kc Pc | tr '\n' ' ')· warm $(ratios Kw Pw | tr '\n' ' ')· again $(ratios Ka Pa | tr '\n' ' ')· fresh $(ratios Kf Pf | tr '\n' ' ')"
  echo "K/B per pair: cold $(ratios Kc Bc | tr '\n' ' ')· warm $(ratios Kw Bw | tr '\n' ' ')· again $(ratios Ka Ba | tr '\n' ' ')· fresh $(ratios Kf Bf | tr '\n' ' ')"
  echo "Crates compiled besides heavy on the fresh buildkitd, per pair: P ${PDf[*]}; B ${BDf[*]}."
  echo
  echo "## K's phases (median seconds, from its \`<== PHASE (DURATION)\` lines)"
  echo
  echo "| phase | cold | warm | again | fresh |"
  echo "|---|---:|---:|---:|---:|"
  phase_rows
  echo
  echo "## Commands"
  echo
  echo "In a network namespace NS with only a loopback, buildkitd $("$BUILDKIT_DIR/buildkitd" --version | awk '{ print $3 }')"
  echo "(rootful, runc, overlayfs, gc off) on a new data root WORK/buildkit per restart, and Debian's docker-registry on $REG."
  echo "The images pushed there with test/testenv/cmd/ocipush from \`docker save\`: $DEPS_BUILDER as $K_BUILDER,"
  echo "$DEPS_IMAGE as $B_TOOLCHAIN, $RUNTIME as $REG_RUNTIME. The one-line change rewrites the line that"
  echo "bench/lib.sh's add_change_line puts first in main() (a string in the binary)."
  echo
  echo '```sh'
  echo "# K, inside the namespace"
  show nsenter --net=/run/netns/NS "${K_CMD[@]}"
  echo "# P, on the host's Docker Engine"
  show "${P_CMD[@]}"
  echo "# B; WORK/dockerfile/Dockerfile is bench/Dockerfile.buildkit FROM $B_TOOLCHAIN and $REG_RUNTIME"
  show "${B_CMD[@]}"
  echo '```'
  echo
  echo "## The machine"
  echo
  echo "- $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1e6 }' /proc/meminfo) memory, Linux $(uname -r)"
  echo "- Docker Engine $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'); buildkitd and buildctl $("$BUILDKIT_DIR/buildctl" --version | awk '{ print $3 }')"
  echo "- $(docker run --rm "$DEPS_IMAGE" rustc --version 2>/dev/null || echo 'rustc ?'), target $TARGET"
  echo "- rust-s2i-musl at $P_REV"
  echo "- the whole run took ${TOTAL} s; build logs in $LOGS"
} >"$OUT"
cat "$OUT"
results_section buildkit "$summary"
say "wrote $OUT and its table into bench/results.md in ${TOTAL} s; build logs in $LOGS"
