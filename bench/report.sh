#!/usr/bin/env bash
# bench/report.sh WORK RUNS COLD_RUNS TOTAL_SECONDS: the markdown report of bench/run.sh,
# from WORK/samples.tsv (crate scenario tool run seconds), WORK/phases.tsv (crate scenario
# run phase seconds) and WORK/sizes.tsv (crate run what bytes). POSIX awk only.
set -euo pipefail
WORK=$1 RUNS=$2 COLD_RUNS=$3 TOTAL=$4
DOCKER=${DOCKER:-/usr/bin/docker}

# shared awk: median of a space-separated list
AWK_LIB='
function median(list,    a, n, i, j, t) {
  n = split(list, a, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function secs(x) { return (x == "") ? "—" : (x < 10 ? sprintf("%.2f", x) : sprintf("%.1f", x)) }
function ratio(x) { return (x == "") ? "—" : sprintf("%.2f", x) }
function mb(x) { return (x == "") ? "—" : (x >= 1000000 ? sprintf("%.1f MB", x / 1000000) : sprintf("%.1f kB", x / 1000)) }
'

rustc_version=$($DOCKER run --rm "${TEST_RUST_IMAGE:-rust-s2i-test/rust-musl:1.96}" rustc --version 2>/dev/null || echo "rustc ?")
target=${TEST_TARGET:-x86_64-unknown-linux-musl}
case $target in *-gnu) target="$target (+crt-static)" ;; esac
cat <<EOF
# rust-s2i-musl build benchmarks

Written by \`make bench\` (\`bash bench/run.sh\`) on $(date -u +%Y-%m-%dT%H:%MZ): RUNS=$RUNS
(cold: $COLD_RUNS), $(nproc) cores, Docker $($DOCKER version -f '{{.Server.Version}}' 2>/dev/null),
$rustc_version, target $target.
P is rust-s2i-musl at ${BENCH_P_REV:-?}.
The whole run took ${TOTAL}s. Times are wall-clock seconds from \`/usr/bin/time -f %e\`;
the machine is shared, so expect noise.

- **L**: \`cargo build --release\` in the toolchain image with a warm target/ volume
  (\`docker run --rm -v VOL:/target ...\`). It makes a binary only, no image.
- **B**: BuildKit multi-stage Dockerfile ([Dockerfile.buildkit](Dockerfile.buildkit))
  with \`RUN --mount=type=cache\` for the cargo registry and target/, final stage the
  runtime base plus the binary.
- **P**: \`rust-s2i-musl build --cache local --cache-dir DIR\`.

Crates: \`hello\` is examples/hello (no dependencies); \`heavy\` is
[crates/heavy](crates/heavy) (27 direct, 81 resolved dependencies from Debian's
librust-*-dev crates).

Scenarios: **cold** (no state at all; B with \`--no-cache\`); **unchanged** (same source
again); **change** (one line of src/main.rs changed: a string that is in the binary);
**fresh** (a "fresh machine": the same kind of one-line change, every tool's local state
deleted: L's volume, B's build cache, P's -tmp and final images; only P's cache
directory kept. BuildKit's cache mounts are not exported by any cache backend, so B's
fresh machine is a cold build, and so is L's).

Each cell is the median over the runs (n). **P/L** and **P/B** are computed pair by
pair: within each run the three tools ran one right after the other (order rotated
from run to run), the ratio is taken per run, and the table shows the median of those
per-run ratios (not the ratio of the medians). Below 1 means P is faster.

## Build times (median seconds)

| crate | scenario | n | L | B | P | P/L | P/B |
|---|---|---:|---:|---:|---:|---:|---:|
EOF

awk -F'\t' "$AWK_LIB"'
{
  k = $1 SUBSEP $2
  if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
  t[k, $3] = t[k, $3] " " $5
  v[k, $3, $4] = $5; runs[k] = runs[k] " " $4
}
END {
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, ks, SUBSEP)
    n = split(t[k, "P"], dummy, " ")
    pl = ""; pb = ""
    split(runs[k], rr, " ")
    for (j in rr) {
      r = rr[j]
      if (done[k, r]++) continue
      if (v[k, "L", r] > 0 && v[k, "P", r] != "") pl = pl " " v[k, "P", r] / v[k, "L", r]
      if (v[k, "B", r] > 0 && v[k, "P", r] != "") pb = pb " " v[k, "P", r] / v[k, "B", r]
    }
    printf "| %s | %s | %d | %s | %s | %s | %s | %s |\n", ks[1], ks[2], n,
      secs(median(t[k, "L"])), secs(median(t[k, "B"])), secs(median(t[k, "P"])),
      ratio(median(pl)), ratio(median(pb))
  }
}' "$WORK/samples.tsv"

cat <<EOF

## Sizes (median over the cold runs)

The final image is the runtime base (busybox, about 2 MB) plus the binary. P's cache is
the \`--cache-dir\` directory after a cold build (the cargo registry entry and the
target/ entry without the crate itself, zstd). It is what crosses machines. L's
target/ volume is local state only, shown for scale (B's cache mounts are the same kind
of state, kept inside one BuildKit daemon).

| crate | B final image | P final image | P cache (portable) | L target/ volume (local) |
|---|---:|---:|---:|---:|
EOF

awk -F'\t' "$AWK_LIB"'
{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } s[$1, $3] = s[$1, $3] " " $4 }
END {
  for (i = 1; i <= n; i++) {
    c = order[i]
    printf "| %s | %s | %s | %s | %s |\n", c, mb(median(s[c, "B_image"])), mb(median(s[c, "P_image"])),
      mb(median(s[c, "P_cache"])), mb(median(s[c, "L_volume"]))
  }
}' "$WORK/sizes.tsv"

cat <<EOF

## P's phases (median seconds)

From the \`<== PHASE (DURATION)\` lines P prints; "total" is P's wall time from the
table above. A phase missing from a row did not run (an unchanged rebuild stops after
checking its inputs).

EOF

awk -F'\t' "$AWK_LIB"'
FILENAME == ARGV[1] { if ($3 == "P") { tot[$1 SUBSEP $2] = tot[$1 SUBSEP $2] " " $5 } ; next }
{
  k = $1 SUBSEP $2
  if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
  if (!($4 in pseen)) { pseen[$4] = 1; phases[++np] = $4 }
  p[k, $4] = p[k, $4] " " $5
}
END {
  printf "| crate | scenario |"; for (j = 1; j <= np; j++) printf " %s |", phases[j]; printf " total |\n"
  printf "|---|---|"; for (j = 1; j <= np; j++) printf "---:|"; printf "---:|\n"
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, ks, SUBSEP)
    printf "| %s | %s |", ks[1], ks[2]
    for (j = 1; j <= np; j++) printf " %s |", secs(median(p[k, phases[j]]))
    printf " %s |\n", secs(median(tot[k]))
  }
}' "$WORK/samples.tsv" "$WORK/phases.tsv"

cat <<EOF

## Around cargo on a one-line change (median seconds)

The parts of P's phases in the **change** scenario, from the indented
\`PART (DURATION)\` lines P prints. "prepare images: builder image" and "runtime
image" are the time to get each image: an inspect here, where the engine has both
(on a fresh runner, the pull). The s2i build's parts join the times the Docker
client saw and those assemble wrote, on the same clock (a container's is the
host's): the child process's start, S2I's own steps (the source placed, the
scripts), the container's create, its start with the source streamed in, assemble
before cargo, cargo, the binary out on assemble's stdout (overlapping the exit), the
container's exit as the daemon reports it, S2I's steps before the commit, the commit
of the -tmp image, the container's removal. "package: written during the commit" is
the final image, written while the daemon commits; the package phase is what is
left of it once the build is done. **outside cargo** is P's wall time less cargo,
run by run; **floor** is \`docker run --rm --entrypoint /bin/true BUILDER\`, timed in
the same runs: the container start and exit that every tool pays once.

EOF

awk -F'\t' "$AWK_LIB"'
FILENAME == ARGV[1] { if ($2 == "change" && $3 == "P") { tot[$1] = tot[$1] " " $5; tr[$1 SUBSEP $4] = $5 }; next }
FILENAME == ARGV[2] { if ($2 == "change") { if (!($1 in cseen)) { cseen[$1] = 1; crates[++nc] = $1 }; if ($4 == "package") pk[$1] = pk[$1] " " $5 }; next }
FILENAME == ARGV[3] {
  if ($2 == "change") {
    if (!($4 in pseen)) { pseen[$4] = 1; parts[++np] = $4 }
    v[$1, $4] = v[$1, $4] " " $5
    if ($4 == "s2i build: cargo") cg[$1 SUBSEP $3] = $5
  }
  next
}
{ fl[$1] = fl[$1] " " $3 }
END {
  printf "| part |"; for (i = 1; i <= nc; i++) printf " %s |", crates[i]; printf "\n"
  printf "|---|"; for (i = 1; i <= nc; i++) printf "---:|"; printf "\n"
  for (j = 1; j <= np; j++) {
    printf "| %s |", parts[j]
    for (i = 1; i <= nc; i++) printf " %s |", secs(median(v[crates[i], parts[j]]))
    printf "\n"
  }
  printf "| package (left after the build) |"; for (i = 1; i <= nc; i++) printf " %s |", secs(median(pk[crates[i]])); printf "\n"
  printf "| **total** |"; for (i = 1; i <= nc; i++) printf " %s |", secs(median(tot[crates[i]])); printf "\n"
  for (k in tr) if (k in cg) { split(k, ks, SUBSEP); out[ks[1]] = out[ks[1]] " " (tr[k] - cg[k]) }
  printf "| **outside cargo** |"; for (i = 1; i <= nc; i++) printf " %s |", secs(median(out[crates[i]])); printf "\n"
  printf "| floor: docker run --rm |"; for (i = 1; i <= nc; i++) printf " %s |", secs(median(fl[crates[i]])); printf "\n"
}' "$WORK/samples.tsv" "$WORK/phases.tsv" "$WORK/parts.tsv" "$WORK/floor.tsv"

cat <<EOF

Every sample is in [results.tsv](results.tsv); the build logs stay in \`$WORK/logs\`.
EOF

# The multi-platform table (bench/platforms.sh, which rewrites what is between the
# markers when it runs) belongs to this report too.
if [[ -f bench/results-platforms.md ]]; then
  echo
  echo '<!-- platforms -->'
  sed 's/^# /## /' bench/results-platforms.md
  echo '<!-- /platforms -->'
fi
