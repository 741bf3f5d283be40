#!/usr/bin/env bash
# Runs stackposture, sslyze and testssl.sh side by side on the same TLS endpoints
# (openssl s_server scenarios on 127.0.0.1) and compares their verdicts (one line per
# tool: legacy weak shortkey sha1 expired cbc12 rsakx, 1 = finding, ? = unknown, - = the
# tool does not report it).
# Needs: openssl, testssl.sh (apt), sslyze (pip, venv: SSLYZE=/path/to/sslyze),
# a release build (cargo build --release). Exit 1 on any disagreement.
source "$(dirname "$0")/tls-lib.sh"
make_certs
printf '%-16s %-10s %s\n' scenario tool "legacy weak shortkey sha1 expired cbc12 rsakx"
rc=0
for s in "${SCENARIOS[@]}"; do
  IFS='|' read -r name cert key args <<<"$s"
  # shellcheck disable=SC2086
  start_server "$name" "$cert" "$key" $args; port=$PORT
  a=$(verdicts_stackposture "$port"); printf '%-16s %-10s %s\n' "$name" stackposture "$a"
  b=$(verdicts_sslyze "$port");       printf '%-16s %-10s %s\n' "$name" sslyze "$b"
  c=$(verdicts_testssl "$port");      printf '%-16s %-10s %s\n' "$name" testssl "$c"
  # sslyze is the oracle (acceptance: agree with sslyze or testssl.sh); testssl.sh uses
  # the system OpenSSL 3 and cannot complete a handshake with a TLS 1.0-only server, so
  # a difference from it alone is reported, not failed.
  if [ "$a" != "$b" ]; then echo "  DISAGREE with sslyze on $name"; rc=1; fi
  if [ "${a% * *}" != "${c% * *}" ]; then echo "  (testssl.sh differs on $name)"; fi
  kill "${PIDS[-1]}" 2>/dev/null || true
done
exit $rc
