#!/usr/bin/env bash
# Extracts the setting keys of the §3 tables of the reference facts
# (../shared/reference/cloudstack.md, "## 3." up to "## 4.") into
# tests/data/reference-settings.txt, one key per line, sorted. tests/coverage.rs asserts
# that every key is read by a check or named in an [[omitted]] entry.
#
#   scripts/reference-settings.sh [REFERENCE.md] [OUT|-]
#
# A table row's first cell may hold several keys: `a` / `b`, or `a.order` / `.exclude`
# (a suffix replaces the last component of the key before it). Rows whose first cell
# has no backticked key, e.g. "(servers)", are not settings.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-../shared/reference/cloudstack.md}
out=${2:-tests/data/reference-settings.txt}
[ -r "$ref" ] || { echo "cannot read $ref" >&2; exit 1; }
keys=$(awk '
  /^## 3\./ { on = 1; next }
  /^## [0-9]/ { on = 0 }
  on && /^\| `/ {
    split($0, cells, "|")
    cell = cells[2]
    prev = ""
    while (match(cell, /`[^`]+`/)) {
      k = substr(cell, RSTART + 1, RLENGTH - 2)
      cell = substr(cell, RSTART + RLENGTH)
      if (substr(k, 1, 1) == "." && prev != "") {
        base = prev; sub(/\.[^.]+$/, "", base); k = base k
      }
      print k
      prev = k
    }
  }' "$ref" | sort -u)
{
  echo "# Setting keys of shared/reference/cloudstack.md §3 (written by scripts/reference-settings.sh)."
  echo "$keys"
} >"${out/#-//dev/stdout}"
