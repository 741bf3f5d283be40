#!/usr/bin/env bash
# Fleet throughput: N JSON reports (the demo deployment's full report,
# `evaluate examples/demo/facts.json --format json`, each copy with its own host, split over
# two environment directories) read by ONE `stackposture fleet DIR` call pinned to one
# core; prints files per second by wall time and by CPU time (user+sys), per format.
#
#   bench/fleet-throughput.sh                       # release build, 10,000 reports
#   FILES=2000 FORMATS="json" bench/fleet-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-10000}
FORMATS=${FORMATS:-"json table"}
PROFILE=${PROFILE:-release}
# BIN=/path/to/stackposture measures another build (e.g. an older commit's) instead.
if [ -z "${BIN:-}" ]; then
  if [ "$PROFILE" = release ]; then cargo build --release -q; else cargo build -q; fi
  BIN=$PWD/target/$PROFILE/stackposture
fi
D=$(mktemp -d /tmp/sp-fleet-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/reports/prod" "$D/reports/staging"
"$BIN" evaluate examples/demo/facts.json --format json -o "$D/one.json" || [ $? = 1 ]
python3 - "$D" "$FILES" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
text = open(f"{d}/one.json").read()
host = json.loads(text)["host"]
needle = json.dumps(host)
assert text.count(f'"host": {needle}') == 1, "one host field"
for i in range(n):
    env = "prod" if i % 2 == 0 else "staging"
    name = f"ms{i:05d}.bench.example"
    with open(f"{d}/reports/{env}/{name}.json", "w") as f:
        f.write(text.replace(f'"host": {needle}', f'"host": "{name}"', 1))
PY
echo "reports: $FILES x $(stat -c %s "$D/one.json") bytes; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for fmt in $FORMATS; do
  /usr/bin/time -f "%e %U %S %M" -o "$D/time" \
    taskset -c 0 "$BIN" fleet "$D/reports" --format "$fmt" >"$D/out" || [ $? = 1 ]
  read -r wall user sys maxrss < <(tail -n 1 "$D/time")
  python3 -c "
import sys
n, wall, cpu = $FILES, float('$wall'), float('$user') + float('$sys')
print(f'{sys.argv[1]:>6}: {n} reports in {wall:.2f} s wall = {n/wall:,.0f} files/s; '
      f'CPU {cpu:.2f} s (user $user + sys $sys) = {n/cpu:,.0f} files/s per core; '
      f'max RSS {int(sys.argv[2])//1024} MiB')" "$fmt" "$maxrss"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
