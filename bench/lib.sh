# bench/lib.sh: the timing and statistics the paired benchmarks share (platforms.sh,
# clibs.sh); sourced, not run.

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
