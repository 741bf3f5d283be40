#!/usr/bin/env bash
# Throughput of `stackposture evaluate` on the demo facts: runs it N times in a row
# (one process each: catalog load + compile + evaluation + rendering) and prints
# evaluations per second. Usage: bench/evaluate.sh [BINARY] [N] [FORMAT]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/stackposture}"
n="${2:-200}"
format="${3:-json}"
facts="$here/examples/demo/facts.json"
"$bin" evaluate "$facts" --format "$format" >/dev/null || [ $? -eq 1 ]
start=$(date +%s.%N)
for _ in $(seq "$n"); do
  "$bin" evaluate "$facts" --format "$format" >/dev/null || [ $? -eq 1 ]
done
end=$(date +%s.%N)
awk -v n="$n" -v s="$start" -v e="$end" -v b="$bin" 'BEGIN {
  t = e - s; printf "%s: %d evaluations in %.2f s = %.1f/s (%.2f ms each)\n", b, n, t, n / t, 1000 * t / n }'
