#!/usr/bin/env bash
# Evaluate throughput: N facts files (copies of the demo deployment's full facts,
# examples/demo/facts.json, each with its own host) evaluated by ONE `stackposture evaluate
# DIR` call pinned to one core; prints files per second per format, by wall time and by
# CPU time (user+sys: the machine may be shared).
#
#   bench/evaluate-throughput.sh                    # release build, 10,000 files
#   FILES=2000 FORMATS="prometheus json" bench/evaluate-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-10000}
FORMATS=${FORMATS:-"prometheus json sarif"}
PROFILE=${PROFILE:-release}
# BIN=/path/to/stackposture measures another build (e.g. an older commit's) instead.
if [ -z "${BIN:-}" ]; then
  if [ "$PROFILE" = release ]; then cargo build --release -q; else cargo build -q; fi
  BIN=$PWD/target/$PROFILE/stackposture
fi
D=$(mktemp -d /tmp/sp-eval-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/facts"
python3 - "$D/facts" "$FILES" <<'PY'
import json, sys
src = json.load(open("examples/demo/facts.json"))
for i in range(int(sys.argv[2])):
    src["host"] = f"ms{i:05d}.bench.example"
    with open(f"{sys.argv[1]}/ms{i:05d}.json", "w") as f:
        json.dump(src, f)
PY
echo "facts files: $FILES x $(stat -c %s "$D/facts/ms00000.json") bytes; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for fmt in $FORMATS; do
  rm -rf "$D/out"; mkdir "$D/out"
  /usr/bin/time -f "%e %U %S %M" -o "$D/time" \
    taskset -c 0 "$BIN" evaluate "$D/facts" --format "$fmt" --output-dir "$D/out" >/dev/null || [ $? = 1 ]
  read -r wall user sys maxrss < <(tail -n 1 "$D/time")
  python3 -c "
import sys
n, wall, cpu = $FILES, float('$wall'), float('$user') + float('$sys')
print(f'{sys.argv[1]:>10}: {n} files in {wall:.2f} s wall = {n/wall:,.0f} files/s; '
      f'CPU {cpu:.2f} s (user $user + sys $sys) = {n/cpu:,.0f} files/s per core; '
      f'max RSS {int(sys.argv[2])//1024} MiB')" "$fmt" "$maxrss"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
