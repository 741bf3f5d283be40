# Shared by bench/tls-compare.sh and bench/tls-bench.sh: test scenarios (openssl s_server
# on 127.0.0.1 with certificates made here) and one verdict extractor per tool.
# Verdicts: legacy (SSLv3/TLS1.0/TLS1.1 accepted), weak (NULL/EXPORT/RC4/DES/3DES/anon
# suite, or CBC at TLS 1.0), shortkey (RSA < 2048), sha1 (leaf signed with SHA-1/MD5),
# expired (leaf not_after in the past), cbc12 (a CBC suite accepted at TLS 1.2), rsakx
# (a static-RSA TLS_RSA_* suite accepted at any version). testssl.sh gives only the
# first five (its category lists do not split CBC by version or static RSA out): "-".
set -euo pipefail
SP=${SP:-$(cd "$(dirname "$0")/.." && pwd)/target/release/stackposture}
SSLYZE=${SSLYZE:-/tmp/sslyze-venv/bin/sslyze}
TESTSSL=${TESTSSL:-$(command -v testssl || command -v testssl.sh || true)}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_server NAME CERT KEY [s_server args...] -> sets PORT and appends to PIDS
start_server() {
  local name=$1 cert=$2 key=$3; shift 3
  local port; port=$(free_port)
  (cd "$WORK" && exec openssl s_server -accept "127.0.0.1:$port" -cert "$cert" -key "$key" -www -quiet "$@" \
      >/dev/null 2>&1 </dev/null) &
  PIDS+=($!)
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
  PORT=$port
}

make_certs() {
  cd "$WORK"
  openssl req -x509 -newkey rsa:1024 -sha1 -nodes -days 30 -subj /CN=weak.test -keyout weak.key -out weak.pem 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 365 -subj /CN=ca.test -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=ms.test -keyout ms.key -out ms.csr 2>/dev/null
  printf 'subjectAltName=DNS:ms.test,IP:127.0.0.1\n' > ext.cnf
  openssl x509 -req -in ms.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 200 -sha256 -extfile ext.cnf -out ms.pem 2>/dev/null
  cat ms.pem ca.pem > ms-chain.pem
  # expired: a one-off CA run with explicit dates
  mkdir -p ca/newcerts; : > ca/index.txt; echo 01 > ca/serial
  cat > ca.cnf <<CNF
[ca]
default_ca=c
[c]
dir=$WORK/ca
database=\$dir/index.txt
new_certs_dir=\$dir/newcerts
serial=\$dir/serial
default_md=sha256
policy=p
[p]
commonName=supplied
CNF
  openssl req -newkey rsa:2048 -nodes -subj /CN=old.test -keyout old.key -out old.csr 2>/dev/null
  openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in old.csr -out old.pem \
      -startdate 20200101000000Z -enddate 20210101000000Z -notext 2>/dev/null
  cd - >/dev/null
}

# Scenario table: name|cert|key|s_server args
SCENARIOS=(
  "legacy-weak|weak.pem|weak.key|-cipher ALL:eNULL:@SECLEVEL=0 -min_protocol TLSv1"
  "modern-ca|ms-chain.pem|ms.key|"
  "tls12-cbc-only|ms-chain.pem|ms.key|-cipher ECDHE-RSA-AES128-SHA:AES256-SHA -max_protocol TLSv1.2"
  "tls10-only|ms-chain.pem|ms.key|-cipher DEFAULT:@SECLEVEL=0 -min_protocol TLSv1 -max_protocol TLSv1"
  "expired|old.pem|old.key|"
  "tls12-rsa-cbc|ms-chain.pem|ms.key|-cipher AES128-SHA -min_protocol TLSv1.2 -max_protocol TLSv1.2"
  "ecdhe-aead-only|ms-chain.pem|ms.key|-cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305 -min_protocol TLSv1.2"
)

verdicts_stackposture() { # PORT -> "legacy weak shortkey sha1 expired cbc12 rsakx" as 0/1
  local d; d=$(mktemp -d)
  "$SP" audit --root "$d" --endpoint "127.0.0.1:$1" --format json --color never > "$WORK/sp.json" || true
  rmdir "$d"
  python3 - "$WORK/sp.json" <<'PY'
import json,sys
r={x["id"]:x["outcome"] for x in json.load(open(sys.argv[1]))["results"]}
f=lambda i: "1" if r.get(i)=="fail" else ("0" if r.get(i)=="pass" else "?")
print(f("CS-TLS-002"), f("CS-TLS-003"), f("CS-TLS-007"), f("CS-TLS-006"), f("CS-TLS-004"),
      f("CS-TLS-016"), f("CS-TLS-017"))
PY
}

verdicts_sslyze() {
  "$SSLYZE" --quiet --json_out="$WORK/sslyze.json" "127.0.0.1:$1" >/dev/null 2>&1 || true
  python3 - "$WORK/sslyze.json" <<'PY'
import json,sys,re,datetime
j=json.load(open(sys.argv[1]))["server_scan_results"][0]["scan_result"]
def acc(k):
    r=(j.get(k) or {}).get("result") or {}
    return [c["cipher_suite"]["name"] for c in r.get("accepted_cipher_suites",[])]
legacy=any(acc(k) for k in ["ssl_2_0_cipher_suites","ssl_3_0_cipher_suites","tls_1_0_cipher_suites","tls_1_1_cipher_suites"])
allc=[n for k in j if k.endswith("_cipher_suites") for n in acc(k)]
weak=any(re.search(r"NULL|EXPORT|RC4|_DES_|DES40|3DES|_anon_",n) for n in allc) or any("CBC" in n for n in acc("tls_1_0_cipher_suites"))
leaf=j["certificate_info"]["result"]["certificate_deployments"][0]["received_certificate_chain"][0]
pk=leaf["public_key"]
short= pk["algorithm"] in ("_RSAPublicKey","RSAPublicKey") and pk["key_size"]<2048
sha1=(leaf.get("signature_hash_algorithm") or {}).get("name","") in ("sha1","md5")
na=leaf.get("not_valid_after") or leaf.get("not_valid_after_utc")
exp=datetime.datetime.fromisoformat(na.replace("Z","+00:00"))
if exp.tzinfo is None: exp=exp.replace(tzinfo=datetime.timezone.utc)
expired=exp<datetime.datetime.now(datetime.timezone.utc)
cbc12=any("_CBC_" in n for n in acc("tls_1_2_cipher_suites"))
rsakx=any(n.startswith("TLS_RSA_") for n in allc)
print(*["1" if b else "0" for b in (legacy,weak,short,sha1,expired,cbc12,rsakx)])
PY
}

verdicts_testssl() {
  rm -f "$WORK/testssl.json"
  "$TESTSSL" --quiet --warnings off --color 0 --ip one -p -s -S -B --jsonfile "$WORK/testssl.json" "127.0.0.1:$1" >/dev/null 2>&1 || true
  python3 - "$WORK/testssl.json" <<'PY'
import json,sys,re
j=json.load(open(sys.argv[1]))
d={x["id"]:x["finding"] for x in j}
off=lambda i: d.get(i,"").startswith("offered")
legacy=any(off(i) for i in ["SSLv2","SSLv3","TLS1","TLS1_1"])
weak=any(off(i) for i in ["cipherlist_NULL","cipherlist_aNULL","cipherlist_EXPORT","cipherlist_LOW","cipherlist_3DES_IDEA"]) \
     or ("VULNERABLE" in d.get("BEAST","") or "CBC" in d.get("BEAST_CBC_TLS1",""))
ks=d.get("cert_keySize","")
m=re.search(r"RSA (\d+)",ks); short=bool(m) and int(m.group(1))<2048
sha1=bool(re.search(r"SHA1|MD5",d.get("cert_signatureAlgorithm",""),re.I))
expired="expired" in d.get("cert_expirationStatus","").lower()
print(*["1" if b else "0" for b in (legacy,weak,short,sha1,expired)], "- -")
PY
}
