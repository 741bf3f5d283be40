#!/bin/sh
# Reliability figures for the DB collector against hostile servers (issue 10):
#  1. per hostile case (tests/hostile/db/mod.rs: fake MySQL 8 full auth with its own key,
#     hostile key replies, auth switches, endless 1 MiB rows, one 8 MiB row): exit code,
#     wall time and peak RSS of the `stackposture collect` process (wait4 ru_maxrss,
#     cross-checked with /usr/bin/time %M);
#  2. the soak: SP_SOAK_N collections in a row against a private MariaDB with a random
#     fault each (connections KILLed mid-collection, a table locked past the timeout):
#     wrong facts, panics, unknown facts, RSS at a quarter and at the end.
# Usage: bench/hostile-db.sh [SOAK_N]   (default 300). BIN=path uses that binary for
# the per-case runs (e.g. target/release/stackposture); default: the debug test build.
set -eu
cd "$(dirname "$0")/.."
N=${1:-300}
[ -n "${BIN:-}" ] && export SP_HOSTILE_BIN="$BIN"
[ -x /usr/bin/time ] && export SP_HOSTILE_TIME=1
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
SP_SOAK_N=$N cargo test --test hostile -- --include-ignored --nocapture --test-threads=1 2>&1 \
  | grep -oE '(HOSTILE-DB|SOAK|WRONG) .*|test result.*' \
  | sed 's/^HOSTILE-DB //'
