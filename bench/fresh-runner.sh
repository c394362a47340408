#!/usr/bin/env bash
# Benchmark, not a test: the first job on a fresh runner. A GitHub-hosted runner is a new
# machine every job, so the builder is not there: it is pulled, and the build state comes
# from the cache. Here that runner is a new Docker Engine (and a new buildkitd) with an
# empty data root, in a network namespace of its own with a registry on its loopback,
# started anew before every run. On bench/crates/svc (hyper + tokio + serde_json), a
# one-line change of src/main.rs with the build state restored from a cache that the
# original source's build left:
#
#   this project     rust-s2i-musl build with the builder published by `builder --push`
#                    (layers made for pulling; the gzip variant, which this machine's
#                    Docker 20.10 can pull) and --cache local
#   cargo-chef       the cargo-chef pattern (bench/Dockerfile.chef: dependencies built
#                    from the manifests first, then the source) on standalone BuildKit
#                    v0.35.0 with its layer cache exported and imported (mode=max), as
#                    build-push-action's cache-to/cache-from do, FROM the same toolchain
#                    base, pulled from the same registry
#
# and, once per pair, this project with the builder left on the engine (what the second
# job on a self-hosted runner gets) and, when BENCH_BEFORE_BUILDER names one, with an
# older builder image (pushed by docker push, as it was published before).
# Paired runs, the order alternating; medians. Writes bench/results-fresh-runner.md and
# the same table into bench/results.md.
#
#   make bench-fresh-runner            (PAIRS=3 by default)
#
# Needs root (a network namespace, a second dockerd, buildkitd), Debian's
# docker-registry, and buildkitd/buildctl v0.35.0 in BUILDKIT_DIR: built there from the
# Go module proxy when missing (about 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

PAIRS=${PAIRS:-3}
BIN=${BIN:-bin/rust-s2i-musl}
TOOLCHAIN=${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}
BUILDER=${TEST_BUILDER_IMAGE:-rust-s2i-test/builder-musl:latest}
RUNTIME=${TEST_RUNTIME_IMAGE:-rust-s2i-test/busybox:latest}
DEBIAN=${TEST_DEBIAN_IMAGE:-rust-s2i-test/debian:bookworm}
BEFORE=${BENCH_BEFORE_BUILDER:-}
BUILDKIT_DIR=${BUILDKIT_DIR:-/var/tmp/rust-s2i-buildkit}
OUT=${BENCH_OUT:-bench/results-fresh-runner.md}
NS=rs2i-fresh-$$
RUN=/run/$NS
REG=127.0.0.1:5000
WORK=$(mktemp -d /var/tmp/rust-s2i-bench-fresh.XXXXXX)
TARGET=x86_64-unknown-linux-musl

die() { echo "fresh-runner.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root: a network namespace, a second dockerd and buildkitd"
command -v docker-registry >/dev/null || die "needs Debian's docker-registry (apt-get install docker-registry)"

# in_ns, ns_buildctl, stop, ns_up, ns_down, ensure_buildkit and start_buildkitd are
# bench/lib.sh's (with NS, RUN, WORK, REG and BUILDKIT_DIR above).
ns_docker() { docker -H "unix://$RUN/docker.sock" "$@"; }

cleanup() {
  stop "$RUN/docker.pid"
  ns_down
}
trap cleanup EXIT

# --- the namespace, and the registry on its loopback ------------------------------------
ns_up

# --- a fresh engine: a new dockerd on an empty data root, in the namespace ---------------
# As test/remote's second dockerd: no bridge and no iptables (the namespace has only lo;
# the host's docker0 and rules are the first daemon's), containerd namespaces of its own.
start_dockerd() {
  stop "$RUN/docker.pid"
  rm -rf --one-file-system "$WORK/docker"
  mkdir -p "$WORK/docker" "$RUN/d"
  echo '{}' >"$WORK/daemon.json"
  nsenter --net="/run/netns/$NS" dockerd --config-file "$WORK/daemon.json" --data-root "$WORK/docker" --exec-root "$RUN/d" \
    --pidfile "$RUN/docker.pid" -H "unix://$RUN/docker.sock" \
    --containerd-namespace "$NS" --containerd-plugins-namespace "$NS-plugins" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$WORK/dockerd.log" 2>&1 &
  for _ in $(seq 1 300); do ns_docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
  tail -n 20 "$WORK/dockerd.log" >&2
  die "the fresh dockerd did not come up"
}

# --- a fresh buildkitd, the same way: start_buildkitd -----------------------------------
ensure_buildkit

# --- what the registry serves ----------------------------------------------------------
# The slim builder, published as `builder --push` publishes it (the same build
# arguments as the Makefile's test builder, so the build itself is the daemon's cache).
echo "fresh-runner.sh: publishing $BUILDER as $REG/rs2i/builder:slim" >&2
clibs=$(bash hack/clibs-versions.sh "$TOOLCHAIN")
in_ns "$BIN" builder --base "$TOOLCHAIN" --tag "$BUILDER" --c-libs "$clibs" --c-libs-source debian \
  --push "$REG/rs2i/builder:slim" >"$WORK/publish.out" 2>"$WORK/publish.log" ||
  { tail -n 30 "$WORK/publish.log" >&2; die "publishing the builder failed"; }
# The toolchain base and the runtime base (and the older builder), pushed by a docker
# push as such images are published, through the fresh engine, which then starts anew.
start_dockerd
seed=("$TOOLCHAIN=rs2i/toolchain:1.96" "$RUNTIME=rs2i/busybox:latest")
[[ -z $BEFORE ]] || seed+=("$BEFORE=rs2i/builder:before")
for s in "${seed[@]}"; do
  docker save "${s%%=*}" | ns_docker load -q >/dev/null
  ns_docker tag "${s%%=*}" "$REG/${s#*=}"
  ns_docker push -q "$REG/${s#*=}" >/dev/null
done

# compressed REPO:TAG: the bytes of an image's layers in the registry, as a pull fetches them.
compressed() {
  in_ns curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REG/v2/${1%%:*}/manifests/${1#*:}" |
    python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))'
}
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

# --- the source, its crates, and the cache its first build left -------------------------
mkdir -p "$WORK/svc"
cp -r bench/crates/svc/. "$WORK/svc/"
docker run --rm -i "$DEBIAN" sh -s librust-hyper-dev 'librust-hyper+server-dev' 'librust-hyper+http1-dev' \
  'librust-hyper+tcp-dev' librust-tokio-dev 'librust-tokio+rt-multi-thread-dev' 'librust-tokio+macros-dev' \
  'librust-tokio+net-dev' librust-serde-dev 'librust-serde+derive-dev' librust-serde-json-dev \
  <hack/debian-crates.sh | tar -x -C "$WORK"
mv "$WORK/usr/share/cargo/registry" "$WORK/svc/vendor"
docker run --rm -v "$WORK/svc:/src" -w /src "$TOOLCHAIN" cargo generate-lockfile --offline -q
deps=$(grep -c '^name = ' "$WORK/svc/Cargo.lock")

# src_copy N: the source with the one-line change N, always in the same place, as a
# runner checks a repository out: this project's cache keys are scoped to it. With
# the crates' times kept (cp -a): cargo fingerprints a vendored crate by its files'
# times, and a user's crates come from crates.io into the restored registry, times
# and all; only the changed file is newer.
src_copy() {
  rm -rf "$WORK/src"
  cp -a "$WORK/svc" "$WORK/src"
  [[ $1 == 0 ]] || sed -i "s/^const MESSAGE: &str = .*/const MESSAGE: \&str = \"change $1\";/" "$WORK/src/src/main.rs"
  echo "$WORK/src"
}

# ours BUILDER CACHE N: this project's build of change N; the wall seconds on stdout,
# the builder's pull seconds and bytes (from its own report) to $WORK/pull.
ours() {
  local start src
  src=$(src_copy "$3")
  start=$(now)
  DOCKER_HOST="unix://$RUN/docker.sock" "$BIN" build --source "$src" --binary svc --builder "$1" \
    --runtime-image "$REG/rs2i/busybox:latest" --image svc --tmp-image svc-tmp \
    --cache local --cache-dir "$2" >"$WORK/ours.out" 2>"$WORK/ours.log" ||
    { tail -n 30 "$WORK/ours.log" >&2; die "this project's build failed"; }
  secs "$start" "$(now)"
  [[ $3 == 0 ]] || grep -qx 'cache-hit=true' "$WORK/ours.out" || die "change $3 did not restore the state from the cache"
  grep -oE 'builder image: [^,]+, (pulled in [0-9.hms]+ \([0-9.]+ [KMG]i?B|already on the engine)' "$WORK/ours.log" |
    head -n 1 >"$WORK/pull" || true
  [[ $3 == 0 ]] || ns_docker run --rm svc --once | grep -q "change $3" || die "the image of change $3 does not print it"
}

# chef CACHE-IN CACHE-OUT N: the cargo-chef pattern's build of change N on BuildKit; the
# wall seconds on stdout, the base's FROM step's seconds to $WORK/pull.
chef() {
  local start src
  src=$(src_copy "$3")
  start=$(now)
  ns_buildctl build --progress plain --frontend dockerfile.v0 \
    --local context="$src" --local dockerfile=bench --opt filename=Dockerfile.chef \
    --opt build-arg:TOOLCHAIN="$REG/rs2i/toolchain:1.96" --opt build-arg:RUNTIME="$REG/rs2i/busybox:latest" \
    --opt build-arg:TARGET="$TARGET" \
    ${1:+--import-cache "type=local,src=$1"} --export-cache "type=local,dest=$2,mode=max" \
    --output "type=image,name=$REG/rs2i/svc:chef,push=false" >"$WORK/chef.log" 2>&1 ||
    { tail -n 30 "$WORK/chef.log" >&2; die "the cargo-chef build failed"; }
  secs "$start" "$(now)"
  grep -q 'Compiling svc' "$WORK/chef.log" || die "the cargo-chef build did not compile svc"
  ! grep -qE 'Compiling (hyper|tokio|serde) ' "$WORK/chef.log" || [[ $3 == 0 ]] || die "change $3 rebuilt the dependencies: the imported cache missed"
}

# The caches both systems restore from: what a build of the unchanged source left.
echo "fresh-runner.sh: first builds ($deps crates), which leave the caches" >&2
start_dockerd
ours "$REG/rs2i/builder:slim" "$WORK/cache-ours" 0 >/dev/null
start_buildkitd
chef "" "$WORK/cache-chef" 0 >/dev/null

# ctr_pull REF: the seconds containerd (the fresh engine's own, through ctr) takes to
# pull and unpack REF: the same work Docker Engine 23+ does with containerd's image
# store, and the way to see the zstd variant here, which Docker 20.10 cannot pull.
ctr_pull() {
  local start
  start_dockerd
  start=$(now)
  in_ns ctr --address "$RUN/d/containerd/containerd.sock" -n "$NS-pull" image pull --plain-http "$1" >/dev/null ||
    die "ctr could not pull $1"
  secs "$start" "$(now)"
}

# from_log: the seconds and bytes in $WORK/pull ("pulled in 4.2s (301.5 MiB").
pull_secs() { grep -oE 'pulled in [0-9.]+(ms|s)' "$WORK/pull" | awk '{ v = $3; if (v ~ /ms$/) v = v / 1000; else sub(/s$/, "", v); print v }'; }
pull_bytes() { grep -oE '\([0-9.]+ [KMG]i?B' "$WORK/pull" | tr -d '('; }

declare -a P B W F PP FB PB CG CZ
for r in $(seq 1 "$PAIRS"); do
  run_ours() {
    start_dockerd
    rm -rf "$WORK/c"; cp -a "$WORK/cache-ours" "$WORK/c"
    P[r]=$(ours "$REG/rs2i/builder:slim" "$WORK/c" "$r")
    PP[r]=$(pull_secs); PB[r]=$(pull_bytes)
    # The second job on the same engine: the builder is there, the state comes from the cache.
    ns_docker rmi -f svc svc-tmp >/dev/null
    rm -rf "$WORK/c"; cp -a "$WORK/cache-ours" "$WORK/c"
    W[r]=$(ours "$REG/rs2i/builder:slim" "$WORK/c" "$((r + 100))")
  }
  run_chef() {
    start_buildkitd
    rm -rf "$WORK/ci" "$WORK/co"; cp -a "$WORK/cache-chef" "$WORK/ci"
    B[r]=$(chef "$WORK/ci" "$WORK/co" "$r")
    # Getting the toolchain base (and the imported cache's layers): BuildKit
    # pulls them lazily, under whichever step first needs them, and logs each
    # layer's unpacking as "extracting sha256:… 4.4s done"; the sum of those.
    FB[r]=$(awk '/ extracting sha256:[0-9a-f]+ [0-9.]+s done$/ { v = $(NF - 1); sub(/s$/, "", v); t += v }
      END { printf "%.1f", t }' "$WORK/chef.log")
  }
  if ((r % 2)); then run_ours; run_chef; else run_chef; run_ours; fi
  CG[r]=$(ctr_pull "$REG/rs2i/builder:slim")
  CZ[r]=$(ctr_pull "$REG/rs2i/builder:slim-zstd")
  if [[ -n $BEFORE ]]; then
    start_dockerd
    rm -rf "$WORK/c"; cp -a "$WORK/cache-ours" "$WORK/c"
    F[r]=$(ours "$REG/rs2i/builder:before" "$WORK/c" "$((r + 200))")
    FP[r]=$(pull_secs)
  fi
  echo "fresh-runner.sh: pair $r: this project ${P[r]} s (builder pull ${PP[r]} s, ${PB[r]}), cargo-chef ${B[r]} s (unpacking ${FB[r]} s), builder on the engine ${W[r]} s, containerd pull gzip ${CG[r]} s zstd ${CZ[r]} s${BEFORE:+, older builder ${F[r]} s (pull ${FP[r]} s)}" >&2
done

slim=$(compressed rs2i/builder:slim); slimz=$(compressed rs2i/builder:slim-zstd)
base=$(compressed rs2i/toolchain:1.96)
{
  echo "# The first job on a fresh runner (bench/fresh-runner.sh)"
  echo
  echo "bench/crates/svc ($deps crates), a one-line change with the build state restored from the cache,"
  echo "on a new Docker Engine / buildkitd with an empty data root and a loopback registry;"
  echo "$PAIRS paired runs, medians; \`make bench-fresh-runner\` on $(nproc) cores, $(date +%F)."
  echo
  echo "| system | one-line change on a fresh runner | of which getting the toolchain | bytes pulled for it (compressed) |"
  echo "|---|---|---|---|"
  echo "| this project (slim builder, gzip variant) | $(median "${P[@]}") s | $(median "${PP[@]}") s pulling the builder | $(mb "$slim") |"
  echo "| cargo-chef pattern on BuildKit, cache exported/imported (mode=max) | $(median "${B[@]}") s | $(median "${FB[@]}") s unpacking the base and the cached layers | $(mb "$base") base + the imported cache |"
  if [[ -n $BEFORE ]]; then
    echo "| this project with the older builder ($BEFORE) | $(median "${F[@]}") s | $(median "${FP[@]}") s pulling the builder | $(mb "$(compressed rs2i/builder:before)") |"
  fi
  echo "| this project, builder already on the engine | $(median "${W[@]}") s | — | — |"
  echo
  echo "This project / cargo-chef, per pair: $(ratios P B | tr '\n' ' ')(median $(median $(ratios P B))x)."
  echo "The slim builder's layers: $(mb "$slim") gzip, $(mb "$slimz") zstd (Docker 23+; this machine's 20.10 pulls the gzip variant)."
  echo "The slim builder's pull alone, by containerd 1.6 (ctr) on the fresh engine: gzip $(median "${CG[@]}") s, zstd $(median "${CZ[@]}") s (samples: gzip ${CG[*]}; zstd ${CZ[*]})."
  echo "Samples (s): this project ${P[*]}; cargo-chef ${B[*]}; builder on the engine ${W[*]}${BEFORE:+; older builder ${F[*]}}."
  echo
  echo "The parts of the published builder, as \`builder --push\` reported them:"
  echo
  echo '```'
  grep '^|' "$WORK/publish.log"
  echo '```'
} | tee "$OUT"
results_section fresh-runner "$OUT"
