//! Fuzzing on the stable toolchain: every parser that reads untrusted bytes gets seeded,
//! structured mutation (bit flips, interesting bytes, truncations, deletions,
//! duplications, splices between seeds, length fields set to their extremes, dictionary
//! tokens, random insertions) from a seeded PRNG, and must never panic, hang or break its
//! stated property (e.g. a facts file that parses writes back to the same facts).
//!
//! Bounded for CI: each parser stops after `DEFAULT_ITERS` executions or
//! `DEFAULT_SECS` seconds, whichever comes first (about 30 s in total on 2 cores).
//! Longer runs: `FUZZ_SECONDS=N` gives each parser N seconds and no execution cap;
//! `FUZZ_SEED=N` changes the seed. Each parser prints `fuzz NAME: E executions in S s,
//! F findings`; a finding (panic, broken property, or one input taking over 10 s) is saved
//! under `target/tmp/fuzz-findings/` and fails the test. Inputs that once failed are
//! replayed first, from `tests/data/fuzz/regressions/<parser>-*`.

use stackposture::catalog::{Catalog, CatalogSource};
use stackposture::collect::accounts::Accounts;
use stackposture::collect::tls::{cert, dhe, hello, probe, suites};
use stackposture::collect::{export, listeners, packages, properties};
use stackposture::facts::Facts;
use stackposture::rootfs::RootFs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DEFAULT_ITERS: u64 = 20_000;
const DEFAULT_SECS: f64 = 3.0;
const MAX_INPUT: usize = 256 * 1024;
/// One input taking longer than this is a finding (a hang, or worse than linear work).
/// Generous: debug builds on a loaded 2-core machine parse 256 KiB in up to ~3 s.
const SLOW: Duration = Duration::from_secs(10);

// ---------- the engine ----------

/// splitmix64: small, seedable, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [&[u8]; 10] = [
    &[0x00],
    &[0xff],
    &[0x7f],
    &[0x80],
    &[0x00, 0x00],
    &[0xff, 0xff],
    &[0x7f, 0xff],
    &[0x80, 0x00],
    &[0xff, 0xff, 0xff],
    &[0x00, 0x40, 0x00],
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut v = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        let pos = rng.below(len + 1);
        match rng.below(10) {
            0 if len > 0 => {
                let p = rng.below(len);
                v[p] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let p = rng.below(len);
                v[p] = INTERESTING[rng.below(4)][0];
            }
            2 => v.truncate(pos),
            3 => {
                let end = (pos + 1 + rng.below(64)).min(len);
                v.drain(pos.min(end)..end);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                for _ in 0..1 + rng.below(3) {
                    v.splice(at..at, chunk.iter().copied());
                }
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(other.len() + 1);
                v.truncate(pos);
                v.extend_from_slice(&other[cut..]);
            }
            6 if len > 0 => {
                // A length field (or any counter) at its extremes.
                let x = INTERESTING[4 + rng.below(6)];
                let p = rng.below(len);
                for (i, b) in x.iter().enumerate() {
                    if let Some(slot) = v.get_mut(p + i) {
                        *slot = *b;
                    }
                }
            }
            7 if !dict.is_empty() => {
                let t = dict[rng.below(dict.len())];
                v.splice(pos..pos, t.iter().copied());
            }
            8 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(pos..pos, bytes);
            }
            _ => {
                // Repeat a tail: large inputs, deep nesting.
                let tail = v[pos..].to_vec();
                // Mostly a few copies; now and then up to the input cap.
                let times = if rng.below(16) == 0 { 64 } else { 4 };
                for _ in 0..rng.below(times) {
                    v.extend_from_slice(&tail);
                }
            }
        }
        v.truncate(MAX_INPUT);
    }
    v
}

fn budget() -> (u64, Duration) {
    match std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
    {
        Some(s) => (u64::MAX, Duration::from_secs_f64(s)),
        None => (DEFAULT_ITERS, Duration::from_secs_f64(DEFAULT_SECS)),
    }
}

fn seed_value() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_F057_AC00)
}

fn data(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn regressions(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/regressions");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let f = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if f.starts_with(&format!("{name}-")) {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Runs `target` on the seeds, the stored regressions, then on mutations until the budget
/// is spent. `target` returns `Err` when a property it checks does not hold.
fn fuzz(
    name: &str,
    seeds: Vec<Vec<u8>>,
    dict: &[&[u8]],
    target: impl Fn(&[u8]) -> Result<(), String>,
) {
    let (max_iters, max_time) = budget();
    let mut rng = Rng(seed_value()
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b)));
    let mut findings: Vec<(Vec<u8>, String)> = Vec::new();
    let slowest = std::cell::Cell::new((Duration::ZERO, 0usize));
    let run_one = |input: &[u8], findings: &mut Vec<(Vec<u8>, String)>| {
        let t0 = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| target(input)));
        let took = t0.elapsed();
        if took > slowest.get().0 {
            slowest.set((took, input.len()));
        }
        let what = match r {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(Err(e)) => Some(format!("property: {e}")),
            Ok(Ok(())) if took > SLOW => Some(format!("slow: {took:?}")),
            Ok(Ok(())) => None,
        };
        if let Some(w) = what {
            findings.push((input.to_vec(), w));
        }
    };
    for s in seeds.iter().chain(regressions(name).iter()) {
        run_one(s, &mut findings);
    }
    let t0 = Instant::now();
    let mut execs = 0u64;
    while execs < max_iters && t0.elapsed() < max_time && findings.len() < 20 {
        let input = mutate(&mut rng, &seeds, dict);
        run_one(&input, &mut findings);
        execs += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    let (slow, slow_len) = slowest.get();
    eprintln!(
        "fuzz {name}: {execs} executions in {secs:.1} s ({:.0}/s), slowest {:.1} ms ({slow_len} bytes), {} findings",
        execs as f64 / secs.max(1e-9),
        slow.as_secs_f64() * 1000.0,
        findings.len()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings");
    for (i, (input, what)) in findings.iter().enumerate() {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}-{i}")), input);
        eprintln!("  finding {i}: {what} ({} bytes)", input.len());
    }
    assert!(
        findings.is_empty(),
        "{name}: {} findings saved under {}: first: {}",
        findings.len(),
        dir.display(),
        findings[0].1
    );
}

fn hash(b: &[u8]) -> u64 {
    b.iter()
        .fold(seed_value(), |h, x| h.wrapping_mul(131) ^ u64::from(*x))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------- TLS: reply parser, server flight, certificates, HTTP head ----------

fn server_hello(version: u16, suite: u16, ext: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[7u8; 32]);
    b.push(32);
    b.extend_from_slice(&[9u8; 32]);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    if !ext.is_empty() {
        b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        b.extend_from_slice(ext);
    }
    handshake_record(2, &b)
}

fn handshake_record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![kind];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut r = vec![22, 3, 3];
    r.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    r.extend_from_slice(&hs);
    r
}

fn certificate_record(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    handshake_record(11, &body)
}

/// Real certificates: an EC CA, an Ed25519 leaf with SANs and extensions it issued, a
/// self-signed P-384 one.
fn certs() -> Vec<Vec<u8>> {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(1));
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "fuzz CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut p = rcgen::CertificateParams::new(vec![
        "ms.example.org".to_string(),
        "*.cloud.example.org".to_string(),
        "10.0.0.5".to_string(),
    ])
    .unwrap();
    p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = p.signed_by(&key, &issuer).unwrap();
    let k384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let own = rcgen::CertificateParams::new(vec!["self.test".to_string()])
        .unwrap()
        .self_signed(&k384)
        .unwrap();
    vec![
        leaf.der().to_vec(),
        ca_cert.der().to_vec(),
        own.der().to_vec(),
    ]
}

const TLS_DICT: &[&[u8]] = &[
    &[22, 3, 3],
    &[21, 3, 3, 0, 2, 2, 40],
    &[0x00, 0x2b, 0, 2, 3, 4],
    &[0xff, 0x01, 0, 1, 0],
    &[11, 0xff, 0xff, 0xff],
    &[14, 0, 0, 0],
    &[0x30, 0x82],
    &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
];

#[test]
fn fuzz_tls_reply_parser() {
    let seeds = vec![
        server_hello(0x0303, 0xC02F, &[0xff, 0x01, 0, 1, 0]),
        server_hello(0x0303, 0x1301, &[0x00, 0x2b, 0, 2, 3, 4]),
        server_hello(0x0301, 0x002F, &[]),
        vec![21, 3, 3, 0, 2, 2, 70],
        {
            // A ServerHello split over two records.
            let sh = server_hello(0x0302, 0x0035, &[]);
            let hs = &sh[5..];
            let mut two = vec![22, 3, 1, 0, 10];
            two.extend_from_slice(&hs[..10]);
            two.extend_from_slice(&[22, 3, 1]);
            two.extend_from_slice(&((hs.len() - 10) as u16).to_be_bytes());
            two.extend_from_slice(&hs[10..]);
            two
        },
    ];
    let offers: Vec<(suites::Version, Vec<u16>)> = [
        suites::Version::SSL3,
        suites::Version::TLS10,
        suites::Version::TLS11,
        suites::Version::TLS12,
    ]
    .iter()
    .map(|v| (*v, suites::suites_for_version(*v)))
    .collect();
    fuzz("tls-reply", seeds, TLS_DICT, |b| {
        match hello::parse_reply(b) {
            hello::Parse::NeedMore(0) => return Err("NeedMore(0)".into()),
            hello::Parse::Done(reply) => {
                for (v, offer) in &offers {
                    if let Ok(hello::Verdict::Accepted { suite }) = hello::judge(&reply, *v, offer)
                    {
                        if !offer.contains(&suite) {
                            return Err(format!("accepted {suite:04x}, not offered"));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    });
}

#[test]
fn fuzz_tls_server_flight_and_certificates() {
    let c = certs();
    let mut flight = server_hello(0x0303, 0xC02F, &[]);
    flight.extend(certificate_record(&c[..2]));
    flight.extend(handshake_record(14, &[]));
    let mut anon = server_hello(0x0303, 0x0034, &[]);
    anon.extend(handshake_record(14, &[]));
    let seeds = vec![flight, anon, certificate_record(&c[2..])];
    let now = 1_800_000_000;
    fuzz("tls-flight", seeds, TLS_DICT, |b| {
        if let hello::CertParse::Done(list) = hello::parse_flight_certs(b) {
            if list.len() > 16 {
                return Err(format!("{} certificates kept", list.len()));
            }
            for d in &list {
                if let Ok(i) = cert::analyze(d, now) {
                    let _ = cert::name_matches(&i, "ms.example.org");
                }
            }
        }
        Ok(())
    });
}

/// The DHE probe's reader: ServerHello judged against the DHE-only offer, then the
/// ServerKeyExchange's prime (issue 11, item 5).
#[test]
fn fuzz_dhe_server_key_exchange() {
    let ske = |p: &[u8]| {
        let mut b = (p.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(p);
        b.extend_from_slice(&[0, 1, 2, 0, 1, 5, 0, 0]);
        handshake_record(12, &b)
    };
    let mut seeds = Vec::new();
    for (suite, p) in [(0x009Eu16, vec![0xc9u8; 128]), (0x0033, vec![0xff; 256])] {
        let mut f = server_hello(0x0303, suite, &[]);
        f.extend(certificate_record(&certs()[..1]));
        f.extend(ske(&p));
        f.extend(handshake_record(14, &[]));
        seeds.push(f);
    }
    seeds.push(vec![21, 3, 3, 0, 2, 2, 40]);
    let offer = suites::dhe_suites(suites::Version::TLS12);
    fuzz("tls-dhe", seeds, TLS_DICT, |b| {
        if let dhe::DheParse::Group { suite, bits } =
            dhe::parse_flight(b, suites::Version::TLS12, &offer)
        {
            if !offer.contains(&suite) || bits == 0 || bits > 65535 * 8 {
                return Err(format!("group {bits} bits with suite {suite:04x}"));
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_certificate_analysis() {
    let c = certs();
    let ca = c[1].clone();
    let now = 1_800_000_000;
    fuzz(
        "cert",
        c,
        &[
            &[0x30, 0x82],
            &[0x06, 0x03, 0x55, 0x1d],
            &[0x02, 0x01],
            &[0x05, 0x00],
        ],
        |b| {
            if let Ok(i) = cert::analyze(b, now) {
                for n in ["ms.example.org", "10.0.0.5", "x.cloud.example.org", ""] {
                    let _ = cert::name_matches(&i, n);
                }
                let back: cert::CertInfo =
                    serde_json::from_value(serde_json::to_value(&i).unwrap())
                        .map_err(|e| format!("analysis does not round-trip: {e}"))?;
                if back != i {
                    return Err("analysis does not round-trip".into());
                }
            }
            let _ = cert::issued_by(b, &ca);
            let _ = cert::issued_by(&ca, b);
            Ok(())
        },
    );
}

#[test]
fn fuzz_pem_and_http_head() {
    let c = certs();
    let seeds = vec![
        cert::to_pem(&c).into_bytes(),
        b"HTTP/1.1 301 Moved\r\nLocation: https://ms:8443/client\r\n\r\n".to_vec(),
    ];
    fuzz(
        "pem-http",
        seeds,
        &[
            b"-----BEGIN CERTIFICATE-----\n",
            b"-----END CERTIFICATE-----\n",
            b"\r\n",
            b"HTTP/1.0 ",
        ],
        |b| {
            let t = text(b);
            if cert::pem_certs(&t).len() > 16 {
                return Err("more than 16 certificates".into());
            }
            let h = probe::parse_http_head(b);
            if h.location.as_ref().is_some_and(|l| l.chars().count() > 512) {
                return Err("Location longer than the cap".into());
            }
            Ok(())
        },
    );
}

// ---------- operator and tree files ----------

#[test]
fn fuzz_properties() {
    let seeds = vec![
        data("tests/data/fuzz/sample.properties"),
        data("tests/fixtures/deployments/db.properties.in"),
        data("tests/fixtures/deployments/server.properties.in"),
    ];
    let dict: &[&[u8]] = &[
        b"\\",
        b"\\u",
        b"\\u00",
        b"=",
        b":",
        b"\n",
        b"\r",
        b" \\\n",
        b"ENC(",
        b")",
        b"#",
        b"\xff\xfe",
    ];
    fuzz("properties", seeds, dict, |b| {
        let _ = properties::parse(b);
        Ok(())
    });
}

#[test]
fn fuzz_settings_export() {
    let seeds = vec![
        data("tests/data/fuzz/export.json"),
        br#"{"listconfigurationsresponse": {"count": 1, "configuration": [{"name": "host", "value": 5}]}}"#.to_vec(),
        br#"[{"name": "a", "value": null, "category": "Secure"}]"#.to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"null",
        b"\"name\":",
        b"\"value\":",
        b"1e999",
        b"\"\\u0000\"",
    ];
    fuzz("export", seeds, dict, |b| {
        let _ = export::parse(&text(b));
        Ok(())
    });
}

#[test]
fn fuzz_facts_files() {
    let seeds = vec![data("tests/fixtures/golden-facts.json")];
    let dict: &[&[u8]] = &[
        b"{",
        b"}",
        b"\"missing\": {\"reason\": \"timeout\"}",
        b"\"value\":",
        b"null",
        b"\"schema_version\": 1",
        b"[",
        b"]",
    ];
    fuzz("facts", seeds, dict, |b| {
        if let Ok(f) = Facts::from_json(&text(b)) {
            let again = Facts::from_json(&f.to_json())
                .map_err(|e| format!("written facts do not read back: {e}"))?;
            if again != f {
                return Err("facts do not round-trip".into());
            }
        }
        Ok(())
    });
}

const TOML_DICT: &[&[u8]] = &[
    b"[[check]]\n",
    b"[[waiver]]\n",
    b"\"\"\"",
    b"'''",
    b" = ",
    b"{ op = \"all\", of = [",
    b"] }",
    b"if_absent = \"pass\"\n",
    b"value = { param = \"x\" }",
    b"op = \"matches\", value = \"(\"",
    b"op = \"mode_at_most\", value = \"9999\"",
    b"expires = \"2099-02-30\"\n",
    b"\n",
];

#[test]
fn fuzz_catalog_toml() {
    let seeds = vec![
        data("tests/fixtures/golden-catalog/checks/golden.toml"),
        data("checks/cloudstack/tls.toml"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fuzz.toml");
    let src = CatalogSource {
        dirs: vec![dir.path().to_path_buf()],
        no_builtin: true,
    };
    fuzz("catalog", seeds, TOML_DICT, |b| {
        std::fs::write(&file, b).unwrap();
        let _ = Catalog::load(&src);
        Ok(())
    });
}

#[test]
fn fuzz_profiles_and_waivers() {
    let seeds = vec![
        data("tests/fixtures/golden-catalog/profiles/golden.toml"),
        data("tests/data/fuzz/waivers.toml"),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("checks.toml"),
        data("tests/fixtures/golden-catalog/checks/golden.toml"),
    )
    .unwrap();
    let file = dir.path().join("profiles/fuzz.toml");
    let src = CatalogSource {
        dirs: vec![dir.path().to_path_buf()],
        no_builtin: true,
    };
    let ids = ["CS-TLS-002", "CS-TLS-016"];
    fuzz("profile-waiver", seeds, TOML_DICT, |b| {
        let _ = stackposture::waivers::parse("w.toml", &text(b), &ids);
        std::fs::write(&file, b).unwrap();
        let _ = Catalog::load(&src);
        Ok(())
    });
}

#[test]
fn fuzz_passwd_and_group() {
    let seeds = vec![
        data("tests/data/fuzz/passwd"),
        data("tests/data/fuzz/group"),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    let fs = RootFs::new(dir.path());
    let dict: &[&[u8]] = &[
        b":",
        b"::",
        b"\n",
        b"#",
        b"4294967295",
        b"-1",
        b"99999999999",
    ];
    fuzz("passwd-group", seeds.clone(), dict, |b| {
        // The same bytes as passwd, and a mutation of the other seed as group.
        std::fs::write(dir.path().join("etc/passwd"), b).unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            mutate(&mut Rng(hash(b)), &seeds, dict),
        )
        .unwrap();
        let a = Accounts::load(&fs);
        for id in [0, 998, u32::MAX] {
            let _ = (a.user(id), a.group(id));
        }
        let _ = a.home("cloud");
        Ok(())
    });
}

#[test]
fn fuzz_proc_net_tcp() {
    let seeds = vec![
        data("tests/data/fuzz/proc-net-tcp"),
        data("tests/data/fuzz/proc-net-tcp6"),
    ];
    let dict: &[&[u8]] = &[
        b":",
        b" 0A ",
        b"FFFFFFFF",
        b"00000000000000000000FFFF0100007F",
        b"\n",
    ];
    fuzz("proc-net-tcp", seeds, dict, |b| {
        let _ = listeners::parse(&text(b));
        Ok(())
    });
}

#[test]
fn fuzz_dpkg_status() {
    let seeds = vec![data("tests/data/fuzz/dpkg-status")];
    let dict: &[&[u8]] = &[
        b"\n\n",
        b"Package: ",
        b"Version: ",
        b"Status: install ok installed\n",
        b"\n ",
        b":",
    ];
    fuzz("dpkg-status", seeds, dict, |b| {
        let _ = packages::parse_dpkg_status(&text(b));
        Ok(())
    });
}

#[test]
fn fuzz_show_grants() {
    // SHOW GRANTS FOR CURRENT_USER() as MariaDB and MySQL 8 print it (issue 11 item 5):
    // lines split on '\n'; hostile or odd output must be an error (unknown), never a
    // panic, and no summary may carry a password hash from an IDENTIFIED BY clause.
    let seeds: Vec<Vec<u8>> = [
        "GRANT USAGE ON *.* TO `cloud`@`localhost` IDENTIFIED BY PASSWORD '*HASHHASHHASH'\n\
         GRANT ALL PRIVILEGES ON `cloud`.* TO `cloud`@`localhost`\n\
         GRANT ALL PRIVILEGES ON `cloud_usage`.* TO `cloud`@`localhost`",
        "GRANT USAGE ON *.* TO cloud@'%'",
        "GRANT PROCESS, FILE, SUPER ON *.* TO 'cloud'@'%' WITH GRANT OPTION\n\
         GRANT SELECT (`id`, `name`), INSERT ON `cloud`.`user` TO 'cloud'@'%'\n\
         GRANT PROXY ON ''@'%' TO 'cloud'@'%'",
        "GRANT `app_rw`@`%`,`r2` TO `cloud`@`localhost`\n\
         REVOKE INSERT ON `mysql`.* FROM `cloud`@`localhost`\n\
         SET DEFAULT ROLE `app_rw` FOR `cloud`@`localhost`",
        "GRANT EXECUTE ON PACKAGE BODY `cloud`.`p` TO \"cloud\"@\"h\"",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let dict: &[&[u8]] = &[
        b"`",
        b"'",
        b"\"",
        b"\\",
        b"``",
        b"''",
        b"(",
        b")",
        b",",
        b"@",
        b"%",
        b"*.*",
        b" ON ",
        b" TO ",
        b"GRANT ",
        b" WITH GRANT OPTION",
        b"\n",
        b"\0",
        b"\xff",
    ];
    fuzz("show_grants", seeds, dict, |b| {
        // Every line ends with an IDENTIFIED BY clause (as older servers print it): what
        // follows the grantee must never reach the summary.
        let lines: Vec<String> = text(b)
            .split('\n')
            .map(|l| format!("{l} IDENTIFIED BY PASSWORD '*CANARY7'"))
            .collect();
        match stackposture::collect::database::grants::parse_grants(&lines) {
            Ok(v) if v.to_string().contains("CANARY7") => {
                Err("a password hash reached the summary".into())
            }
            _ => Ok(()),
        }
    });
}
