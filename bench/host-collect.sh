#!/bin/sh
# Times `stackposture collect` over a tree with N extension scripts and N log files
# (the two directory walks), plus a 1 GiB sparse file that must not be read.
# Usage: bench/host-collect.sh [N]   (default 5000). Needs a release build.
set -eu
N=${1:-5000}
BIN=${BIN:-target/release/stackposture}
[ -x "$BIN" ] || cargo build --release
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/etc/cloudstack/management" "$T/var/log/cloudstack/management" "$T/etc/default"
printf 'root:x:0:0::/root:/bin/sh\ncloud:x:996:996::/var/cloudstack/management:/bin/sh\n' > "$T/etc/passwd"
printf 'root:x:0:\ncloud:x:996:\n' > "$T/etc/group"
truncate -s 1G "$T/etc/default/cloudstack-management"
i=0
while [ $i -lt "$N" ]; do
  d="$T/etc/cloudstack/extensions/ext$((i / 50))"; mkdir -p "$d"; : > "$d/s$i.sh"
  : > "$T/var/log/cloudstack/management/l$i.log"
  i=$((i + 1))
done
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s, %M KiB max RSS" "$BIN" collect --root "$T" -o /dev/null
done
