#!/usr/bin/env bash
# Settings-collection benchmark: a private MariaDB loaded with the 4.22-shaped schema,
# 100,000 domains (+1 account each), 1,000,000 account_details rows and 100,000
# domain_details rows; then `stackposture collect` against it. Prints the collector's own
# figure (queries and elapsed time, from the facts' source status) for each run.
#
#   bench/settings.sh                 # debug build
#   PROFILE=release bench/settings.sh # release build
#   RUNS=5 DOMAINS=100000 DETAILS=1000000 bench/settings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-debug}
RUNS=${RUNS:-3}
DOMAINS=${DOMAINS:-100000}
DETAILS=${DETAILS:-1000000}
command -v mariadbd >/dev/null || { echo "mariadbd missing (apt-get install mariadb-server)" >&2; exit 1; }
if [ "$PROFILE" = release ]; then cargo build --release -q; else cargo build -q; fi
BIN=target/$PROFILE/stackposture
D=$(mktemp -d /tmp/sp-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
USERARG=(); [ "$(id -u)" = 0 ] && { chown -R mysql:mysql "$D"; USERARG=(--user=mysql); }
mkdir -p "$D/data"; [ "$(id -u)" = 0 ] && chown mysql:mysql "$D/data"
cleanup() { [ -f "$D/mysqld.pid" ] && kill "$(cat "$D/mysqld.pid")" 2>/dev/null; sleep 1; rm -rf "$D"; }
trap cleanup EXIT
mariadb-install-db --no-defaults "${USERARG[@]}" --datadir="$D/data" --auth-root-authentication-method=normal --skip-test-db >"$D/install.log" 2>&1
mariadbd --no-defaults "${USERARG[@]}" --datadir="$D/data" --bind-address=127.0.0.1 --port="$PORT" \
  --socket="$D/sock" --pid-file="$D/mysqld.pid" --log-error="$D/err.log" --skip-name-resolve \
  --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=0 >/dev/null 2>&1 &
for _ in $(seq 1 100); do mariadb-admin --no-defaults --socket="$D/sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
SQL="mariadb --no-defaults --socket=$D/sock -uroot"
$SQL -e "CREATE DATABASE cloud; CREATE USER 'cloud'@'127.0.0.1' IDENTIFIED BY 'bench-pw'; GRANT ALL ON cloud.* TO 'cloud'@'127.0.0.1';"
$SQL cloud < tests/fixtures/db/schema-4.22.sql
t0=$(date +%s.%N)
$SQL cloud <<SQL
SET foreign_key_checks = 0;
INSERT INTO configuration (category, instance, component, name, value, default_value, scope, is_dynamic, updated)
  SELECT 'Advanced', 'DEFAULT', 'bench', CONCAT('bench.setting.', seq), seq, '0', 1, 1, NOW() FROM seq_1_to_1500;
INSERT INTO configuration (category, instance, name, value, default_value, scope, is_dynamic)
  VALUES ('Advanced','DEFAULT','enable.user.2fa','true','false',64,1), ('Advanced','DEFAULT','api.throttling.enabled','true','false',0,0);
INSERT INTO domain (id, parent, name, uuid, path, level) SELECT seq, 1, CONCAT('d', seq), UUID(), CONCAT('/d', seq, '/'), 1 FROM seq_2_to_$((DOMAINS + 1));
INSERT INTO account (id, account_name, uuid, type, domain_id) SELECT seq, CONCAT('acct', seq), UUID(), IF(seq % 100 = 0, 2, 0), seq FROM seq_3_to_$((DOMAINS + 2));
INSERT INTO user (uuid, username, password, account_id, state, is_user_2fa_enabled)
  SELECT UUID(), CONCAT('user', seq), 'x', seq, 'enabled', seq % 2 FROM seq_3_to_$((DOMAINS + 2));
INSERT INTO domain_details (domain_id, name, value)
  SELECT seq, ELT(1 + seq % 4, 'enable.user.2fa', 'mandate.user.2fa', 'some.other.key', 'vm.max'), IF(seq % 3 = 0, 'false', 'true') FROM seq_2_to_$((DOMAINS + 1));
INSERT INTO account_details (account_id, name, value)
  SELECT 3 + seq % $DOMAINS, ELT(1 + seq % 10, 'api.allowed.source.cidr.list', 'vm.cpu', 'vm.ram', 'a', 'b', 'c', 'd', 'e', 'f', 'api.key.access'),
         IF(seq % 10 = 0, '10.0.0.0/8', 'x') FROM seq_1_to_$DETAILS;
SQL
t1=$(date +%s.%N)
echo "loaded: $($SQL -N cloud -e 'SELECT (SELECT COUNT(*) FROM domain), (SELECT COUNT(*) FROM account_details), (SELECT COUNT(*) FROM domain_details), (SELECT COUNT(*) FROM configuration)') (domain, account_details, domain_details, configuration rows) in $(echo "$t1 - $t0" | bc) s"
ROOT=$(mktemp -d); trap 'cleanup; rm -rf "$ROOT"' EXIT
for i in $(seq 1 "$RUNS"); do
  s=$(date +%s.%N)
  SP_BENCH_PW=bench-pw "$BIN" collect --root "$ROOT" --db-url "mysql://cloud@127.0.0.1:$PORT/cloud" \
     --db-password-env SP_BENCH_PW --db-timeout 30 > "$D/facts.json"
  e=$(date +%s.%N)
  python3 - "$D/facts.json" "$(echo "$e - $s" | bc)" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
st = f["sources"]["db"]
assert st["status"] == "ok", st
o = f["facts"]["cs.domain_override.enable.user.2fa"]["value"]
a = f["facts"]["cs.account_override.api.allowed.source.cidr.list"]["value"]
print(f"settings collection: {st['detail']}  (whole process {float(sys.argv[2]):.3f} s; "
      f"{sum(1 for k in f['facts'] if k.startswith('cs.setting.'))} settings; "
      f"domain overrides enable.user.2fa={o['count']}, account overrides cidr={a['count']}, "
      f"admins without 2FA={f['facts']['cs.admin_users_without_2fa']['value']['count']})")
PY
done
