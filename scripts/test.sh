#!/usr/bin/env bash
# The project's test command: `cargo test` (arguments are passed on), then a count of the
# tests that returned without doing their real check (SKIP: a missing tool, not root, ...).
#
# Each SKIP line is printed as it happens, even for a passing test (tests/common `skip`
# writes to the stderr handle, which the harness does not capture), and appended to a log;
# this script prints the log and one closing line at the end:
#   tests: P passed, F failed, S skipped
# where P counts only tests that ran their real check (libtest counts a skipped test as
# passed). The exit status is cargo test's. With CI set, a missing tool fails its test
# instead of skipping, so S is 0 there unless a test skips for a reason CI accepts.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT
export STACKPOSTURE_SKIP_LOG=$log
cargo test "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}

read -r passed failed < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$out")
# One entry per test (a test may report several reasons).
skipped=$(sed -n 's/^SKIP \([^ ]*\): .*/\1/p' "$log" | sort -u | wc -l)
echo
if [ "$skipped" -gt 0 ]; then
  echo "== $skipped test(s) skipped their real check:"
  sort -u "$log"
fi
echo "tests: $((passed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
