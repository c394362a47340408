# bench/lib.sh: the timing, statistics and results.md sections the paired benchmarks share (platforms.sh,
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
