#!/usr/bin/env bash
# Before/after figures of issue 9, measured in one run on one machine:
#
#   1. a full live audit of a realistic deployment: the demo tree (examples/demo/root),
#      its `cloud` database on a private MariaDB (schema-4.22, the demo's settings, the
#      admin's password stored as CloudStack stores it: PBKDF2-HMAC-SHA1, 100,000 rounds,
#      64 bytes), four loopback endpoints (three openssl s_server, one plain HTTP) given
#      with --endpoint, host state read (--host-state always);
#   2. a database and a TLS endpoint that both accept and never answer (timeouts 3 s);
#   3. with strace installed: stat calls of `collect` on a 10,000-entry tree.
#
# Builds the old commit (OLD, default 8fb2ef7 = main before issue 9) from `git archive`
# and the working tree, both `--release`, into one CARGO_TARGET_DIR (dependencies are
# built once), then runs old and new alternately RUNS times (default 10) and prints the
# median and minimum wall time and the mean CPU time of each.
#
#   bench/audit.sh            # RUNS=10 OLD=8fb2ef7
#
# Needs: cargo, git, mariadb-server, openssl, python3; strace optional. Uses only
# 127.0.0.1 and a temp dir; never the MariaDB on 3306.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${OLD:-8fb2ef7}
RUNS=${RUNS:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/bench}
for t in cargo git mariadbd mariadb-install-db mariadb mariadb-admin openssl python3; do
  command -v "$t" >/dev/null || { echo "bench/audit.sh: $t missing" >&2; exit 1; }
done

W=$(mktemp -d /tmp/sp-bench.XXXXXX)
cleanup() {
  if [ -f "$W/servers.pid" ]; then xargs -r kill < "$W/servers.pid" 2>/dev/null || true; fi
  if [ -f "$W/mysqld.pid" ]; then kill "$(cat "$W/mysqld.pid")" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do [ -f "$W/mysqld.pid" ] || break; sleep 0.1; done
  rm -rf "$W"
}
trap cleanup EXIT

# --- builds ---------------------------------------------------------------------------
echo "building $OLD and the working tree (release)..." >&2
mkdir -p "$W/old-src"
git archive "$OLD" | tar -x -C "$W/old-src"
(cd "$W/old-src" && cargo build --release --locked -q)
cp "$CARGO_TARGET_DIR/release/stackposture" "$W/sp-old"
cargo build --release --locked -q
cp "$CARGO_TARGET_DIR/release/stackposture" "$W/sp-new"

# --- the deployment's database --------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/data"
USERARG=()
if [ "$(id -u)" = 0 ]; then chown -R mysql:mysql "$W"; USERARG=(--user=mysql); fi
mariadb-install-db --no-defaults "${USERARG[@]}" --datadir="$W/data" \
  --auth-root-authentication-method=normal --skip-test-db >"$W/install.log" 2>&1
mariadbd --no-defaults "${USERARG[@]}" --datadir="$W/data" --bind-address=127.0.0.1 --port="$PORT" \
  --socket="$W/sock" --pid-file="$W/mysqld.pid" --log-error="$W/err.log" --skip-name-resolve \
  --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 >/dev/null 2>&1 &
for _ in $(seq 1 300); do
  mariadb-admin --no-defaults --socket="$W/sock" -uroot ping >/dev/null 2>&1 && break
  sleep 0.1
done
SQL=(mariadb --no-defaults --socket="$W/sock" -uroot)
export BENCH_DB_PASSWORD=Bench-DB-pass-5b2
"${SQL[@]}" <<SQL
CREATE DATABASE cloud;
CREATE USER 'cloud'@'localhost' IDENTIFIED BY '$BENCH_DB_PASSWORD';
CREATE USER 'cloud'@'%' IDENTIFIED BY '$BENCH_DB_PASSWORD';
GRANT ALL ON cloud.* TO 'cloud'@'localhost'; GRANT ALL ON cloud.* TO 'cloud'@'%';
GRANT PROCESS ON *.* TO 'cloud'@'localhost'; GRANT PROCESS ON *.* TO 'cloud'@'%';
SQL
"${SQL[@]}" cloud < tests/fixtures/db/schema-4.22.sql
python3 - examples/demo/cmk-list-configurations.json >"$W/settings.sql" <<'PY'
import base64, hashlib, json, sys
def q(v):
    return "NULL" if v is None else "'" + str(v).replace("\\", "\\\\").replace("'", "''") + "'"
for c in json.load(open(sys.argv[1]))["configuration"]:
    print("INSERT INTO configuration (category, instance, component, name, value, description, default_value, is_dynamic, updated) "
          f"VALUES ({q(c.get('category', 'Advanced'))}, 'DEFAULT', 'management-server', {q(c['name'])}, {q(c.get('value'))}, "
          f"{q(c.get('description'))}, {q(c.get('defaultvalue'))}, {1 if c.get('isdynamic') else 0}, '2026-11-01 00:00:00');")
# The admin's password as PBKDF2UserAuthenticator stores it: b64(salt):b64(key):rounds.
salt = b"bench-salt-0123456789abcdef0123"
key = hashlib.pbkdf2_hmac("sha1", b"Not-the-default-1", salt, 100000, 64)
enc = base64.b64encode(salt).decode() + ":" + base64.b64encode(key).decode() + ":100000"
print(f"UPDATE user SET password = '{enc}' WHERE id = 2;")
PY
"${SQL[@]}" cloud <"$W/settings.sql"

# --- the endpoints ----------------------------------------------------------------------
P="$W/pki"; mkdir -p "$P"
( cd "$P"
  openssl req -x509 -newkey rsa:2048 -sha256 -days 20 -nodes -subj /CN=ms1.demo.example \
    -keyout ms.key -out ms.pem >/dev/null 2>&1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 -nodes \
    -subj /CN=ca.cloudstack.apache.org -keyout ca.key -out ca.pem >/dev/null 2>&1 )
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() {
  local port=$1; shift
  (cd "$P" && exec openssl s_server -accept "127.0.0.1:$port" -www -quiet "$@" </dev/null >/dev/null 2>&1) &
  echo $! >> "$W/servers.pid"
}
HTTPS=$(freeport); AGENT=$(freeport); CLUSTER=$(freeport); HTTP=$(freeport)
serve "$HTTPS" -cert ms.pem -key ms.key -min_protocol TLSv1 -cipher 'DEFAULT:@SECLEVEL=0'
serve "$AGENT" -cert ms.pem -key ms.key -verify 1 -CAfile ca.pem
serve "$CLUSTER" -cert ms.pem -key ms.key -Verify 1 -CAfile ca.pem
(cd "$P" && exec python3 -m http.server "$HTTP" --bind 127.0.0.1 </dev/null >/dev/null 2>&1) &
echo $! >> "$W/servers.pid"
for port in "$HTTPS" "$AGENT" "$CLUSTER" "$HTTP"; do
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
done

# --- 1. full live audit ------------------------------------------------------------------
COMMON=(--root examples/demo/root --db-url "mysql://cloud@127.0.0.1:$PORT/cloud"
        --db-password-env BENCH_DB_PASSWORD --host-state always
        --endpoint "https=127.0.0.1:$HTTPS" --endpoint "agent=127.0.0.1:$AGENT"
        --endpoint "cluster=127.0.0.1:$CLUSTER" --endpoint "http=127.0.0.1:$HTTP")
ARGS=(audit "${COMMON[@]}" --format json -o "$W/report.json")  # a file: -o refuses to replace a device
# Both must really read every source (exit 1 = findings, by design).
for b in old new; do
  "$W/sp-$b" collect "${COMMON[@]}" -o "$W/facts-$b.json"
  python3 - "$W/facts-$b.json" "$b" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
assert f["sources"]["db"]["status"] == "ok", f["sources"]["db"]
assert f["facts"]["cs.user2.default_password"]["value"] is False, f["facts"]["cs.user2.default_password"]
assert f["facts"]["tls.https.reachable"]["value"] is True
print(f"{sys.argv[2]}: db ok, admin password checked, endpoints probed ({len(f['facts'])} facts)")
PY
done
python3 - "$RUNS" "$W/sp-old" "$W/sp-new" "${ARGS[@]}" <<'PY'
import os, resource, statistics, subprocess, sys, time
runs, old, new, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
wall = {"old": [], "new": []}
cpu = {"old": [], "new": []}
def one(name, binary):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall[name].append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu[name].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    assert p.returncode in (0, 1), f"{name}: exit {p.returncode}"
one("old", old); one("new", new)  # warm-up, not counted
wall = {"old": [], "new": []}; cpu = {"old": [], "new": []}
for _ in range(runs):
    one("old", old); one("new", new)
print(f"full live audit, {runs} alternating runs each:")
for n in ("old", "new"):
    print(f"  {n}: wall median {statistics.median(wall[n]):.3f} s, min {min(wall[n]):.3f} s; "
          f"CPU mean {statistics.mean(cpu[n]):.3f} s")
print(f"  speed-up (median wall): {statistics.median(wall['old']) / statistics.median(wall['new']):.2f}x; "
      f"(CPU): {statistics.mean(cpu['old']) / statistics.mean(cpu['new']):.2f}x")
PY

# --- 2. a hung database and a hung TLS endpoint -------------------------------------------
python3 - "$W/sp-old" "$W/sp-new" <<'PY'
import socket, subprocess, sys, tempfile, threading, time
held = []
def silent():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept(); held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
db, tls = silent(), silent()
root = tempfile.mkdtemp()
args = ["collect", "--root", root, "--db-url", f"mysql://cloud@127.0.0.1:{db}/cloud",
        "--db-timeout", "3", "--endpoint", f"hung=127.0.0.1:{tls}", "--tls-timeout-ms", "3000",
        "-o", root + "/facts.json"]
print("hung database + hung TLS endpoint (each timeout 3 s):")
for name, b in (("old", sys.argv[1]), ("new", sys.argv[2])):
    t = []
    for _ in range(3):
        t0 = time.perf_counter(); subprocess.run([b] + args, check=True); t.append(time.perf_counter() - t0)
    print(f"  {name}: " + ", ".join(f"{x:.2f} s" for x in t))
PY

# --- 3. stat calls of the file inventory -------------------------------------------------
if command -v strace >/dev/null; then
  T="$W/tree"; mkdir -p "$T/etc/cloudstack/management" "$T/var/log/cloudstack/management"
  for i in $(seq 0 4999); do
    d="$T/etc/cloudstack/extensions/ext$((i / 50))"; mkdir -p "$d"; : > "$d/s$i.sh"
    : > "$T/var/log/cloudstack/management/l$i.log"
  done
  echo "stat calls, collect --no-db on a 10,000-entry tree (strace -c -f -e trace=statx,newfstatat,lstat):"
  for b in old new; do
    n=$(strace -c -f -e trace=statx,newfstatat,lstat "$W/sp-$b" collect --root "$T" --no-db \
          --host-state never -o "$W/facts-stat-$b.json" 2>&1 | awk '$NF == "total" {print $4}')
    echo "  $b: $n"
  done
fi
