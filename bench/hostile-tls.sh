#!/usr/bin/env bash
# Wall time and peak memory of a whole `stackposture collect` against hostile TLS peers
# on 127.0.0.1 (issue 10): silent, garbage, trickle (one byte per 100 ms), a huge record
# (a 64 KiB record header, then 1 MiB), an immediate close, a reset (RST), a ServerHello
# followed by silence, and a Certificate message announcing 16 MiB. Each peer is given as
# three endpoints (https, agent, cluster) so all probe rounds run against it.
#
#   bench/hostile-tls.sh                      # debug build, --tls-timeout-ms 4000 (default)
#   PROFILE=release TIMEOUT_MS=1000 bench/hostile-tls.sh
#
# Prints one line per peer: exit code, wall seconds and max RSS (from /usr/bin/time -v).
# The bound to compare with: about 2 x --tls-timeout-ms (the version round, then the
# certificate round), plus start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-debug}
TIMEOUT_MS=${TIMEOUT_MS:-4000}
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [ "$PROFILE" = release ]; then cargo build --release -q; else cargo build -q; fi
BIN=target/$PROFILE/stackposture
T=$(mktemp -d /tmp/sp-hostile.XXXXXX)
PEER_PID=
cleanup() { [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$T/root"
cat > "$T/peer.py" <<'PY'
import socket, sys, threading, time
mode = sys.argv[1]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(128)
print(srv.getsockname()[1], flush=True)

def hello(c):
    c.settimeout(3)
    h = b""
    while len(h) < 5: 
        x = c.recv(5 - len(h))
        if not x: return None
        h += x
    n = int.from_bytes(h[3:5], "big"); b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: return None
        b += x
    sid = b[38]; s = b[39 + sid + 2: 39 + sid + 4]
    body = b[4:6] + bytes(32) + b"\x00" + s + b"\x00"
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + len(hs).to_bytes(2, "big") + hs

def serve(c):
    try:
        if mode == "silent": time.sleep(60)
        elif mode == "garbage": c.sendall(b"SSH-2.0-OpenSSH_9.2 garbage\r\n" * 50)
        elif mode == "trickle":
            c.sendall(bytes([22, 3, 3, 0x40, 0]))
            for _ in range(600): c.sendall(b"\x00"); time.sleep(0.1)
        elif mode == "huge": c.sendall(bytes([22, 3, 3, 0xff, 0xff]) + b"A" * (1 << 20))
        elif mode == "close": pass
        elif mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif mode == "hello-silence":
            sh = hello(c)
            if sh: c.sendall(sh)
            time.sleep(60)
        elif mode == "huge-cert":
            sh = hello(c)
            if sh:
                c.sendall(sh + bytes([22, 3, 3, 0x40, 0, 11, 0xff, 0xff, 0xff]) + b"0" * 0x3ffc)
                for _ in range(1024): c.sendall(bytes([22, 3, 3, 0x40, 0]) + b"0" * 0x4000)
    except OSError:
        pass
    finally:
        c.close()

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
echo "binary: $BIN ($PROFILE), --tls-timeout-ms $TIMEOUT_MS, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %5s %9s %12s\n' peer exit wall_s maxrss_KiB
for mode in silent garbage trickle huge close reset hello-silence huge-cert; do
  python3 "$T/peer.py" "$mode" > "$T/port" & PEER_PID=$!
  for _ in $(seq 1 50); do [ -s "$T/port" ] && break; sleep 0.1; done
  P=$(cat "$T/port")
  set +e
  /usr/bin/time -v "$BIN" collect --root "$T/root" --tls-timeout-ms "$TIMEOUT_MS" \
    --endpoint "https=127.0.0.1:$P" --endpoint "agent=127.0.0.1:$P" --endpoint "cluster=127.0.0.1:$P" \
    -o "$T/facts.json" 2> "$T/time"
  rc=$?
  set -e
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$T/time" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time")
  printf '%-14s %5s %9s %12s\n' "$mode" "$rc" "$wall" "$rss"
  kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null || true; PEER_PID=
  : > "$T/port"
done
