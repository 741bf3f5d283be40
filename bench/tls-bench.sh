#!/usr/bin/env bash
# Time for a full assessment of ONE endpoint (the legacy/weak openssl scenario, the most
# work for every tool) by stackposture, sslyze and testssl.sh, as ratios.
# Usage: bench/tls-bench.sh [RUNS]   (default 5; testssl runs once, it takes ~1 min)
# stackposture: `audit --root <empty dir> --endpoint 127.0.0.1:PORT` (every probe of the
# TLS collector, certificate analysis and the evaluation); sslyze: default full scan;
# testssl.sh: default full run.
source "$(dirname "$0")/tls-lib.sh"
RUNS=${1:-5}
make_certs
start_server legacy-weak weak.pem weak.key -cipher 'ALL:eNULL:@SECLEVEL=0' -min_protocol TLSv1; port=$PORT
EMPTY=$(mktemp -d)
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
sp=$(for _ in $(seq "$RUNS"); do t "$SP" audit --root "$EMPTY" --endpoint "127.0.0.1:$port" --format json; done | median)
sy=$(for _ in $(seq "$RUNS"); do t "$SSLYZE" --quiet "127.0.0.1:$port"; done | median)
ts=$(t "$TESTSSL" --quiet --warnings off --color 0 --ip one "127.0.0.1:$port")
rmdir "$EMPTY"
printf 'stackposture %.3f s (median of %d)\nsslyze       %.3f s (median of %d)\ntestssl.sh   %.3f s (1 run)\n' "$sp" "$RUNS" "$sy" "$RUNS" "$ts"
printf 'sslyze / stackposture  = %.1fx\ntestssl / stackposture = %.1fx\n' "$(echo "$sy / $sp" | bc -l)" "$(echo "$ts / $sp" | bc -l)"
