#!/usr/bin/env bash
# Verifies every CloudStack source path cited in the catalog's `references` against a
# CloudStack git repository at the commit the reference facts name, and records the
# verified paths with their line counts in tests/data/cloudstack-paths-verified.txt
# (tests/references.rs then checks the catalog against that record, including cited
# line numbers).
#
#   scripts/verify-references.sh /path/to/cloudstack.git [COMMIT]
#
# Any git directory holding the commit works (a clone of apache/cloudstack, or a mirror).
set -euo pipefail
repo=${1:?usage: $0 CLOUDSTACK_GIT_DIR [COMMIT]}
commit=${2:-3d6cafe1936ed2403a1031cd5ad42dd205934412}
cd "$(dirname "$0")/.."
out=tests/data/cloudstack-paths-verified.txt
git -C "$repo" cat-file -e "$commit^{commit}" || { echo "commit $commit not in $repo" >&2; exit 1; }
paths=$(grep -rhoE '"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+\.[A-Za-z0-9]+(:[0-9, -]+)?' checks \
  | sed 's/^"//; s/:.*$//' | grep -vE '^(shared|checks|docs)/' | sort -u)
missing=0
tmp=$(mktemp)
{
  echo "# CloudStack source paths cited by the catalog, verified to exist at commit $commit"
  echo "# (apache/cloudstack). Format: PATH LINES. Written by scripts/verify-references.sh."
} >"$tmp"
for p in $paths; do
  if git -C "$repo" cat-file -e "$commit:$p" 2>/dev/null; then
    n=$(git -C "$repo" show "$commit:$p" | wc -l)
    echo "$p $n" >>"$tmp"
  else
    echo "NOT FOUND at $commit: $p" >&2
    missing=$((missing + 1))
  fi
done
mv "$tmp" "$out"
echo "$(grep -vc '^#' "$out") paths verified, $missing not found"
[ "$missing" -eq 0 ]
