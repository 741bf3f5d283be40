#!/usr/bin/env bash
# Regenerates examples/demo/facts.json by really collecting the demo deployment:
#
#   * the file tree examples/demo/root (read only; nothing in it is changed),
#   * its `cloud` database: a private MariaDB started here (temp datadir, free port on
#     127.0.0.1; never the server on 3306) loaded with tests/fixtures/db/schema-4.22.sql
#     turned back into the 4.20.1 shape the demo runs (version 4.20.1.0 as in its dpkg
#     status, `scope` as a name column: the bitmask came with 4.21, reference §4.2), the
#     settings of examples/demo/cmk-list-configurations.json as `configuration` rows
#     (Secure values as the export holds them: the stored, encrypted text), the accounts
#     the installer makes (cloud@localhost and cloud@'%', H11) with the demo's DB password,
#     and domains/users for the 2FA checks: admin (user 2) enrolled in 2FA, a domain `lax`
#     that overrides enable.user.2fa=false and has a domain admin without 2FA;
#   * this machine's host state (--host-state always: sockets, processes, clock).
#
# db.properties in the tree points at db1.demo.example; --db-url/--db-password-env point
# the collector at the private server instead, and the tree's own key file (`password`)
# decrypts the ENC() values. The result is checked for secrets before it is kept.
#
#   examples/demo/make-facts.sh                      # writes examples/demo/facts.json
#   EXTRA_ARGS="--endpoint ..." examples/demo/make-facts.sh
#   examples/demo/make-facts.sh --endpoint ...       # same: arguments go to `collect`
#
# Hook for more sources: EXTRA_ARGS (word-split) and the script's arguments are appended
# to the `stackposture collect` command line (e.g. the TLS collector's --endpoint flags).
#
# Needs: mariadb-server (mariadbd, mariadb-install-db, mariadb client), python3 with
# cryptography (for the secret check), cargo (or STACKPOSTURE=/path/to/binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
DEMO=examples/demo
OUT=${OUT:-$DEMO/facts.json}
# The demo's DB password: what db.cloud.password=ENC(...) in the tree decrypts to.
DEMO_DB_PASSWORD=Demo-DB-pass-7c1e

for t in mariadbd mariadb-install-db mariadb mariadb-admin python3; do
  command -v "$t" >/dev/null || { echo "make-facts: $t missing (apt-get install mariadb-server python3-cryptography)" >&2; exit 1; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "make-facts: python3 cryptography missing (apt-get install python3-cryptography)" >&2; exit 1; }
if [ -z "${STACKPOSTURE:-}" ]; then
  cargo build -q
  STACKPOSTURE=target/debug/stackposture
fi

D=$(mktemp -d /tmp/sp-demo.XXXXXX)
cleanup() {
  if [ -f "$D/servers.pid" ]; then xargs -r kill < "$D/servers.pid" 2>/dev/null || true; fi
  if [ -f "$D/mysqld.pid" ]; then kill "$(cat "$D/mysqld.pid")" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do [ -f "$D/mysqld.pid" ] || break; sleep 0.1; done
  rm -rf "$D"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$D/data"
USERARG=()
if [ "$(id -u)" = 0 ]; then chown -R mysql:mysql "$D"; USERARG=(--user=mysql); fi
mariadb-install-db --no-defaults "${USERARG[@]}" --datadir="$D/data" \
  --auth-root-authentication-method=normal --skip-test-db >"$D/install.log" 2>&1
mariadbd --no-defaults "${USERARG[@]}" --datadir="$D/data" --bind-address=127.0.0.1 --port="$PORT" \
  --socket="$D/sock" --pid-file="$D/mysqld.pid" --log-error="$D/err.log" --skip-name-resolve \
  --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 >/dev/null 2>&1 &
for _ in $(seq 1 300); do
  mariadb-admin --no-defaults --socket="$D/sock" -uroot ping >/dev/null 2>&1 && break
  sleep 0.1
done
mariadb-admin --no-defaults --socket="$D/sock" -uroot ping >/dev/null
SQL=(mariadb --no-defaults --socket="$D/sock" -uroot)

# The database and the installer's accounts (create-database.sql; H11).
"${SQL[@]}" <<SQL
CREATE DATABASE cloud; CREATE DATABASE cloud_usage;
CREATE USER 'cloud'@'localhost' IDENTIFIED BY '$DEMO_DB_PASSWORD';
CREATE USER 'cloud'@'%' IDENTIFIED BY '$DEMO_DB_PASSWORD';
GRANT ALL ON cloud.* TO 'cloud'@'localhost'; GRANT ALL ON cloud_usage.* TO 'cloud'@'localhost';
GRANT ALL ON cloud.* TO 'cloud'@'%'; GRANT ALL ON cloud_usage.* TO 'cloud'@'%';
GRANT PROCESS ON *.* TO 'cloud'@'localhost'; GRANT PROCESS ON *.* TO 'cloud'@'%';
SQL
"${SQL[@]}" cloud < tests/fixtures/db/schema-4.22.sql
# Back to the 4.20.1 shape: scope names (before the 4.21 bitmask), the demo's release.
"${SQL[@]}" cloud <<'SQL'
ALTER TABLE configuration MODIFY scope varchar(255) DEFAULT NULL;
DELETE FROM version;
INSERT INTO version (version, updated, step) VALUES ('4.20.1.0', NOW(), 'Complete');
SQL

# Settings: one row per entry of the cmk export.
python3 - "$DEMO/cmk-list-configurations.json" >"$D/settings.sql" <<'PY'
import json, sys
def q(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("\\", "\\\\").replace("'", "''") + "'"
def scope(s):
    # cmk lists every scope ("global, domain"); a pre-4.21 row holds the one scope name.
    if not s:
        return None
    names = {"global": "Global", "zone": "Zone", "cluster": "Cluster", "storagepool": "StoragePool",
             "managementserver": "ManagementServer", "imagestore": "ImageStore",
             "domain": "Domain", "account": "Account"}
    parts = [p.strip().lower() for p in s.split(",") if p.strip()]
    specific = [p for p in parts if p != "global"]
    return names.get((specific or parts)[-1], (specific or parts)[-1])
for c in json.load(open(sys.argv[1]))["configuration"]:
    print("INSERT INTO configuration (category, instance, component, name, value, description, default_value, scope, is_dynamic, updated) "
          f"VALUES ({q(c.get('category', 'Advanced'))}, 'DEFAULT', 'management-server', {q(c['name'])}, {q(c.get('value'))}, "
          f"{q(c.get('description'))}, {q(c.get('defaultvalue'))}, {q(scope(c.get('scope')))}, {1 if c.get('isdynamic') else 0}, '2026-11-01 00:00:00');")
PY
"${SQL[@]}" cloud <"$D/settings.sql"

# The Root CA as RootCAProvider stores it (reference §6.3): a self-signed RSA-4096
# SHA256withRSA certificate (2 x ca.framework.cert.keysize), category Hidden, V2-encrypted
# with the DB key (the demo's db.cloud.encrypt.secret decrypts to `password`, H2). The CA
# private key is made in the temp dir and never stored.
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:4096 -sha256 -days 10950 -nodes -subj /CN=ca.cloudstack.apache.org \
    -keyout "$D/rootca.key" -out "$D/rootca.pem" >/dev/null 2>&1
  python3 - "$D/rootca.pem" > "$D/rootca.sql" <<'PY'
import base64, hashlib, os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
pem = open(sys.argv[1]).read()
iv = os.urandom(12)
ct = base64.b64encode(iv + AESGCM(hashlib.sha256(b"password").digest()).encrypt(iv, pem.encode(), None)).decode()
print("INSERT INTO configuration (category, instance, component, name, value, default_value, scope, is_dynamic, updated) "
      f"VALUES ('Hidden', 'DEFAULT', 'RootCAProvider', 'ca.plugin.root.ca.certificate', '{ct}', NULL, 1, 1, NOW());")
PY
  "${SQL[@]}" cloud <"$D/rootca.sql"
fi

# Domains and users for the 2FA checks (CS-SET-006/008): global 2FA is on in the export;
# domain `lax` switches it off and has a domain admin who never enrolled.
"${SQL[@]}" cloud <<'SQL'
UPDATE user SET state = 'enabled', is_user_2fa_enabled = 1, user_2fa_provider = 'totp' WHERE id = 2;
INSERT INTO domain (id, parent, name, uuid, path, level) VALUES (2, 1, 'customers', 'd-2', '/customers/', 1), (3, 1, 'lax', 'd-3', '/lax/', 1);
INSERT INTO domain_details (domain_id, name, value) VALUES (2, 'enable.user.2fa', 'true'), (3, 'enable.user.2fa', 'false');
INSERT INTO account (id, account_name, uuid, type, domain_id) VALUES
  (3, 'customers-admin', 'a-3', 2, 2), (4, 'lax-admin', 'a-4', 2, 3), (5, 'lax-user', 'a-5', 0, 3);
INSERT INTO user (id, uuid, username, password, account_id, state, is_user_2fa_enabled, user_2fa_provider) VALUES
  (3, 'u-3', 'customersadmin', 'x', 3, 'enabled', 1, 'totp'),
  (4, 'u-4', 'laxadmin', 'x', 4, 'enabled', 0, NULL),
  (5, 'u-5', 'laxuser', 'x', 5, 'enabled', 0, NULL);
SQL

# The demo's endpoints, served for real on loopback (openssl s_server, python http.server)
# as this deployment serves them: 8443 with a self-signed RSA certificate close to expiry
# that still accepts TLS 1.0/1.1 and CBC suites (java.security.ciphers as shipped, H15);
# 8250 only *requesting* a client certificate (ca.plugin.root.auth.strictness=false after
# the upgrade, H3); 9090 requiring one; plain HTTP on 8080 (http.enable=true, H5).
TLSARGS=()
if command -v openssl >/dev/null; then
  P="$D/pki"; mkdir -p "$P"
  ( cd "$P"
    openssl req -x509 -newkey rsa:2048 -sha256 -days 20 -nodes -subj /CN=ms1.demo.example \
      -keyout ms.key -out ms.pem >/dev/null 2>&1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 -nodes \
      -subj /CN=ca.cloudstack.apache.org -keyout ca.key -out ca.pem >/dev/null 2>&1 )
  freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  serve() { # PORT ARGS...: an s_server in the background, its pid recorded for cleanup
    local port=$1; shift
    (cd "$P" && exec openssl s_server -accept "127.0.0.1:$port" -www -quiet "$@" </dev/null >/dev/null 2>&1) &
    echo $! >> "$D/servers.pid"
  }
  HTTPS=$(freeport); AGENT=$(freeport); CLUSTER=$(freeport); HTTP=$(freeport)
  serve "$HTTPS" -cert ms.pem -key ms.key -min_protocol TLSv1 -cipher 'DEFAULT:@SECLEVEL=0'
  serve "$AGENT" -cert ms.pem -key ms.key -verify 1 -CAfile ca.pem
  serve "$CLUSTER" -cert ms.pem -key ms.key -Verify 1 -CAfile ca.pem
  (cd "$P" && exec python3 -m http.server "$HTTP" --bind 127.0.0.1 </dev/null >/dev/null 2>&1) &
  echo $! >> "$D/servers.pid"
  for port in "$HTTPS" "$AGENT" "$CLUSTER" "$HTTP"; do
    for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  done
  TLSARGS=(--endpoint "https=127.0.0.1:$HTTPS" --endpoint "agent=127.0.0.1:$AGENT"
           --endpoint "cluster=127.0.0.1:$CLUSTER" --endpoint "http=127.0.0.1:$HTTP")
else
  echo "make-facts: openssl missing: no TLS endpoints in the demo facts" >&2
fi

# Collect for real. The hook: EXTRA_ARGS and this script's arguments.
# shellcheck disable=SC2086
DEMO_DB_PASSWORD="$DEMO_DB_PASSWORD" "$STACKPOSTURE" collect --root "$DEMO/root" \
  --db-url "mysql://cloud@127.0.0.1:$PORT/cloud" --db-password-env DEMO_DB_PASSWORD --db-timeout 10 \
  --host-state always "${TLSARGS[@]}" ${EXTRA_ARGS:-} "$@" -o "$D/facts.json"

# No secret in the result: the DB password, every value ENC() in the tree decrypts to
# (with the tree's key), the key itself as a value, and the demo's own markers.
python3 - "$D/facts.json" "$DEMO/root" "$DEMO_DB_PASSWORD" <<'PY'
import base64, hashlib, json, re, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
facts_path, root, dbpw = sys.argv[1:4]
text = open(facts_path).read()
facts = json.loads(text)
assert facts["sources"]["db"]["status"] == "ok", facts["sources"]["db"]
key = open(root + "/etc/cloudstack/management/key").readline().strip()
def dec(ct):
    b = base64.b64decode(ct)
    return AESGCM(hashlib.sha256(key.encode()).digest()).decrypt(b[:12], b[12:], None).decode()
plain = {dbpw}
for f in ("db.properties", "server.properties"):
    for ct in re.findall(r"ENC\(([^)]*)\)", open(f"{root}/etc/cloudstack/management/{f}").read()):
        plain.add(dec(ct))
def values(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from values(x)
    elif isinstance(v, list):
        for x in v:
            yield from values(x)
    elif isinstance(v, str):
        yield v
all_values = list(values(facts))
for p in sorted(plain | {key}):
    # Distinctive plaintexts must not appear anywhere; short common words (the key
    # `password`) must not appear as a value.
    leaked = (p in text) if len(p) >= 9 else any(v == p for v in all_values)
    if leaked:
        sys.exit(f"make-facts: a secret ({len(p)} chars) appears in the facts; not written")
print(f"make-facts: {len(facts['facts'])} facts, no secret found ({len(plain | {key})} checked)")
PY
cp "$D/facts.json" "$OUT"
echo "make-facts: wrote $OUT"
