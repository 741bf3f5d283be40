#!/usr/bin/env bash
# Throughput of `stackposture evaluate` on the demo facts: runs it N times in a row (one
# process each: catalog load and compile, evaluation of every check, rendering) and
# prints evaluations per second of wall time and the CPU time per run (user + sys of the
# children, less sensitive to a busy machine than wall time).
# Usage: bench/evaluate.sh [BINARY] [N] [FORMAT]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/stackposture}"
n="${2:-200}"
format="${3:-json}"
facts="$here/examples/demo/facts.json"
run() { "$bin" evaluate "$facts" --format "$format" >/dev/null || [ $? -eq 1 ]; }
run
start=$(date +%s.%N)
for _ in $(seq "$n"); do run; done
end=$(date +%s.%N)
# `times` prints the shell's and then the children's user and system time.
# (Not in a pipeline: a subshell would report its own, empty, children.)
tmp=$(mktemp)
times >"$tmp"
cpu=$(tail -1 "$tmp" | awk '{ gsub(/[ms]/, " "); print ($1 * 60 + $2) + ($3 * 60 + $4) }')
rm -f "$tmp"
awk -v n="$n" -v s="$start" -v e="$end" -v c="$cpu" -v b="$bin" 'BEGIN {
  t = e - s
  printf "%s: %d evaluations in %.2f s = %.1f/s wall; %.2f ms CPU each\n", b, n, t, n / t, 1000 * c / (n + 1) }'
