//! The TLS collector against real servers on 127.0.0.1: a rustls server (modern cases,
//! client-auth modes, expired and test-CA-issued certificates), `openssl s_server` for the
//! legacy cases (TLS 1.0/1.1, weak suites, RSA-1024, SHA-1), a plain HTTP responder, and
//! hostile peers (garbage, silence, trickle, huge record). Certificates are made in the
//! test (rcgen for ECDSA, `openssl` for RSA). Servers die on Drop.
//!
//! Needs `openssl` (Debian package `openssl`): without it the openssl cases print SKIP,
//! or fail when CI is set.

mod common;

use common::tls::{free_port, openssl, s_server, self_signed};
use stackposture::catalog::Catalog;
use stackposture::collect::tls::{self, probe::Limits, EndpointSpec, TlsOptions};
use stackposture::evaluate::{evaluate_check, EvalContext, Outcome};
use stackposture::facts::{Facts, MissingReason};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------- helpers ----------

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("openssl is required in CI (apt-get install openssl)");
        }
        common::skip("openssl not found; install the Debian package `openssl`");
    }
    ok
}

fn opts(endpoints: &[String], probe_ms: u64) -> TlsOptions {
    TlsOptions {
        probe_deployment: false,
        not_probed_because: "test".into(),
        endpoints: endpoints
            .iter()
            .map(|e| EndpointSpec::parse(e).unwrap())
            .collect(),
        limits: Limits {
            connect: Duration::from_millis(probe_ms.min(2000)),
            probe: Duration::from_millis(probe_ms),
            client_auth_wait: Duration::from_millis(300),
            max_bytes: 256 * 1024,
        },
        now: now(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn val(f: &Facts, key: &str) -> serde_json::Value {
    let x = f.get(key).unwrap_or_else(|| panic!("{key} not collected"));
    x.value
        .clone()
        .unwrap_or_else(|| panic!("{key} missing: {:?}", x.missing))
}

fn missing(f: &Facts, key: &str) -> MissingReason {
    let x = f.get(key).unwrap_or_else(|| panic!("{key} not collected"));
    x.missing
        .as_ref()
        .unwrap_or_else(|| panic!("{key} has a value: {:?}", x.value))
        .reason
}

fn outcome(f: &Facts, id: &str) -> Outcome {
    let cat = Catalog::builtin().unwrap();
    let profile = cat.profile("production").unwrap();
    let c = cat.check(id).unwrap();
    evaluate_check(c, profile, f, &EvalContext { now: now() }).outcome
}

fn strs(v: serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

// ---------- a rustls server ----------

#[derive(Clone, Copy)]
enum ClientAuth {
    None,
    Want,
    Need,
}

struct RustlsServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RustlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pkcs8_from_pem(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn rustls_server(
    chain: Vec<Vec<u8>>,
    key_pkcs8: Vec<u8>,
    auth: ClientAuth,
    client_ca: Option<Vec<u8>>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> RustlsServer {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Want | ClientAuth::Need => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(client_ca.clone().unwrap()))
                .unwrap();
            let b = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let b = if matches!(auth, ClientAuth::Want) {
                b.allow_unauthenticated()
            } else {
                b
            };
            builder.with_client_cert_verifier(b.build().unwrap())
        }
    };
    let config = builder
        .with_single_cert(
            chain.into_iter().map(CertificateDer::from).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8)),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            loop {
                let Ok((s, _)) = l.accept().await else { break };
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let acc = acceptor.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(mut t) =
                        tokio::time::timeout(Duration::from_secs(5), acc.accept(s)).await
                    else {
                        return;
                    };
                    if let Ok(t) = t.as_mut() {
                        let mut b = [0u8; 1024];
                        let _ = tokio::time::timeout(Duration::from_secs(5), t.read(&mut b)).await;
                        let _ = t.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
                    }
                });
            }
        });
    });
    RustlsServer {
        port,
        stop,
        thread: Some(thread),
    }
}

/// An ECDSA test CA and a leaf it issued for `names`, valid from `nb` to `na` (unix).
fn ec_ca_and_leaf(names: &[&str], nb: i64, na: i64) -> (rcgen::Certificate, Vec<u8>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "stackposture test CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    p.not_before = time::OffsetDateTime::from_unix_timestamp(nb).unwrap();
    p.not_after = time::OffsetDateTime::from_unix_timestamp(na).unwrap();
    let leaf = p.signed_by(&key, &issuer).unwrap();
    (ca_cert, leaf.der().to_vec(), key.serialize_der())
}

// ---------- modern server: versions, chain, certificate analysis, root CA ----------

#[test]
fn modern_rustls_server_with_test_ca() {
    let t = now();
    let (ca, leaf, key) = ec_ca_and_leaf(&["ms.test", "127.0.0.1"], t - 86_400, t + 10 * 86_400);
    let srv = rustls_server(
        vec![leaf.clone(), ca.der().to_vec()],
        key,
        ClientAuth::None,
        None,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    let mut known = Facts::new();
    known.set("cs.root_ca.certificate_pem", "test", ca.pem());
    known.set(
        "cs.setting.endpoint.url",
        "test",
        "https://ms.test:8443/client/api",
    );
    known.namespace_complete("cs.setting.", "test");
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{}", srv.port)], 3000),
        &known,
    );
    assert_eq!(val(&f, "tls.https.tls"), true);
    assert_eq!(val(&f, "tls.https.tls13")["version"], "TLSv1.3");
    assert_eq!(val(&f, "tls.https.tls12")["version"], "TLSv1.2");
    assert!(val(&f, "tls.https.tls12")["cipher"]
        .as_str()
        .unwrap()
        .contains("ECDHE_ECDSA"));
    assert_eq!(
        strs(val(&f, "tls.https.protocols")),
        vec!["TLSv1.2", "TLSv1.3"]
    );
    assert!(strs(val(&f, "tls.https.weak_ciphers")).is_empty());
    assert_eq!(val(&f, "tls.https.client_auth"), "none");
    let chain = val(&f, "tls.https.chain");
    assert_eq!(chain.as_array().unwrap().len(), 2, "full chain as sent");
    let l = val(&f, "tls.https.leaf");
    assert_eq!(l["key_type"], "EC");
    assert_eq!(l["key_bits"], 256);
    assert_eq!(l["signature_algorithm"], "ecdsa-with-SHA256");
    assert_eq!(l["self_signed"], false);
    assert_eq!(l["issued_by_root_ca"], true);
    // 8443 against the host of endpoint.url (127.0.0.1, the --endpoint, is loopback).
    let n = val(&f, "tls.https.names");
    assert_eq!(n["matches"], true, "{n}");
    assert_eq!(n["expected"][0]["names"][0], "ms.test");
    assert_eq!(n["expected"][0]["from"], "host of endpoint.url");
    assert!((9..=10).contains(&l["days_left"].as_i64().unwrap()));
    assert_eq!(val(&f, "tls.summary.min_ec_key_bits"), 256);
    // Root CA analysis (EC root here: keysize/sigalg settings do not match).
    assert_eq!(val(&f, "tls.root_ca.cert")["is_ca"], true);
    assert_eq!(val(&f, "tls.root_ca.keysize_matches"), false);
    assert_eq!(val(&f, "tls.root_ca.signature_algorithm_matches"), false);
    // Verdicts.
    assert_eq!(outcome(&f, "CS-TLS-001"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-003"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-004"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-005"), Outcome::Fail, "10 days < 30");
    assert_eq!(outcome(&f, "CS-TLS-006"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-007"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-008"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-012"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-015"), Outcome::Fail);
    // rustls offers only ECDHE with AEAD: no CBC, no static RSA.
    assert_eq!(outcome(&f, "CS-TLS-016"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-017"), Outcome::Pass);
    // Not probed: the agent namespace is unknown, not passing.
    assert_eq!(
        missing(&f, "tls.agent.client_auth"),
        MissingReason::NotCollected
    );
    assert_eq!(outcome(&f, "CS-TLS-010"), Outcome::Unknown);
}

#[test]
fn expired_certificate_and_name_mismatch() {
    let t = now();
    let (_ca, leaf, key) = ec_ca_and_leaf(&["other.test"], t - 400 * 86_400, t - 5 * 86_400);
    let srv = rustls_server(
        vec![leaf],
        key,
        ClientAuth::None,
        None,
        &[&rustls::version::TLS13],
    );
    let f = tls::collect(&opts(&[format!("https=127.0.0.1:{}", srv.port)], 3000), &{
        let mut k = Facts::new();
        k.set(
            "cs.setting.endpoint.url",
            "test",
            "https://cloud.example.org/client/api",
        );
        k.set("props.server.https.enable", "test", "true");
        k
    });
    let l = val(&f, "tls.https.leaf");
    assert_eq!(l["expired"], true);
    assert!(l["days_left"].as_i64().unwrap() < 0);
    assert_eq!(val(&f, "tls.https.names")["matches"], false);
    assert_eq!(strs(val(&f, "tls.https.protocols")), vec!["TLSv1.3"]);
    assert_eq!(outcome(&f, "CS-TLS-004"), Outcome::Fail);
    // Expired is CS-TLS-004's finding, not also "expiring soon".
    assert_eq!(
        missing(&f, "tls.summary.earliest_unexpired_not_after"),
        MissingReason::Absent
    );
    assert_eq!(outcome(&f, "CS-TLS-005"), Outcome::NotApplicable);
    assert_eq!(outcome(&f, "CS-TLS-008"), Outcome::Fail);
    let m = strs(val(&f, "tls.summary.name_mismatches"));
    assert!(
        m[0].starts_with("https: certificate CN=other.test (DNS: other.test; IP: none)")
            && m[0].ends_with("does not name cloud.example.org (host of endpoint.url)"),
        "{m:?}"
    );
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Pass);
}

#[test]
fn client_auth_modes_on_the_agent_port() {
    let t = now();
    let (ca, leaf, key) = ec_ca_and_leaf(&["ms.test"], t - 86_400, t + 400 * 86_400);
    for (auth, want, versions) in [
        (ClientAuth::None, "none", vec![&rustls::version::TLS13]),
        (ClientAuth::Want, "requested", vec![&rustls::version::TLS13]),
        (ClientAuth::Need, "required", vec![&rustls::version::TLS13]),
        (ClientAuth::Need, "required", vec![&rustls::version::TLS12]),
        (ClientAuth::Want, "requested", vec![&rustls::version::TLS12]),
    ] {
        let srv = rustls_server(
            vec![leaf.clone()],
            key.clone(),
            auth,
            Some(ca.der().to_vec()),
            &versions,
        );
        let mut known = Facts::new();
        known.set("cs.setting.ca.plugin.root.auth.strictness", "test", "true");
        let mut f = known.clone();
        f.merge(tls::collect(
            &opts(&[format!("agent=127.0.0.1:{}", srv.port)], 3000),
            &known,
        ));
        assert_eq!(
            val(&f, "tls.agent.client_auth"),
            want,
            "{want} {versions:?}"
        );
        let expect = if want == "required" {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        let cat = Catalog::builtin().unwrap();
        let r = evaluate_check(
            cat.check("CS-TLS-009").unwrap(),
            cat.profile("production").unwrap(),
            &f,
            &EvalContext { now: now() },
        );
        assert_eq!(r.outcome, expect, "{r:?}");
        assert_eq!(outcome(&f, "CS-TLS-010"), expect);
    }
}

/// The wait for the server's verdict on an empty client certificate ends with its answer:
/// a TLS 1.3 server that takes it sends session tickets, one that refuses it an alert, and
/// a completed TLS 1.2 handshake is already the answer. With a 5 s wait, every case is
/// done well within it, and the verdicts are those of `client_auth_modes_on_the_agent_port`.
/// Also with `openssl s_server` (one connection at a time, as in `bench/audit.sh`), where
/// each wait held every other probe of the endpoint back.
#[test]
fn client_auth_answer_ends_the_wait() {
    let t = now();
    let (ca, leaf, key) = ec_ca_and_leaf(&["ms.test"], t - 86_400, t + 400 * 86_400);
    let both = vec![&rustls::version::TLS13, &rustls::version::TLS12];
    for (auth, want, versions) in [
        (ClientAuth::Want, "requested", vec![&rustls::version::TLS13]),
        (ClientAuth::Need, "required", vec![&rustls::version::TLS13]),
        (ClientAuth::Want, "requested", vec![&rustls::version::TLS12]),
        (ClientAuth::Want, "requested", both.clone()),
        (ClientAuth::Need, "required", both),
    ] {
        let srv = rustls_server(
            vec![leaf.clone()],
            key.clone(),
            auth,
            Some(ca.der().to_vec()),
            &versions,
        );
        let mut o = opts(&[format!("agent=127.0.0.1:{}", srv.port)], 8000);
        o.limits.client_auth_wait = Duration::from_secs(5);
        let t0 = Instant::now();
        let f = tls::collect(&o, &Facts::new());
        let took = t0.elapsed();
        assert_eq!(val(&f, "tls.agent.client_auth"), want, "{versions:?}");
        assert!(
            took < Duration::from_secs(2),
            "{want} {versions:?}: {took:?}"
        );
    }
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    self_signed(
        d.path(),
        "rsa:2048",
        "-sha256",
        "30",
        "ms.test",
        "ms.key",
        "ms.pem",
        &[],
    );
    for (mode, want) in [("-verify", "requested"), ("-Verify", "required")] {
        let (_srv, port) = s_server(
            d.path(),
            "ms.pem",
            "ms.key",
            &[mode, "1", "-CAfile", "ms.pem"],
        );
        let mut o = opts(&[format!("agent=127.0.0.1:{port}")], 8000);
        o.limits.client_auth_wait = Duration::from_secs(5);
        let t0 = Instant::now();
        let f = tls::collect(&o, &Facts::new());
        let took = t0.elapsed();
        assert_eq!(val(&f, "tls.agent.client_auth"), want, "s_server {mode}");
        assert!(took < Duration::from_secs(2), "s_server {mode}: {took:?}");
    }
}

#[test]
fn rsa_root_ca_matches_the_settings() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    self_signed(
        d.path(),
        "rsa:2048",
        "-sha256",
        "3650",
        "ca.cloudstack.apache.org",
        "ca.key",
        "ca.pem",
        &[],
    );
    let pem = std::fs::read_to_string(d.path().join("ca.pem")).unwrap();
    let opts0 = opts(&[], 1000);
    for (keysize, matches) in [("1024", true), ("2048", false)] {
        let mut known = Facts::new();
        known.set("cs.root_ca.certificate_pem", "test", pem.clone());
        known.set("cs.setting.ca.framework.cert.keysize", "test", keysize);
        known.namespace_complete("cs.setting.", "test");
        let f = tls::collect(&opts0, &known);
        assert_eq!(val(&f, "tls.root_ca.cert")["key_bits"], 2048);
        assert_eq!(val(&f, "tls.root_ca.keysize_matches"), matches);
        assert_eq!(val(&f, "tls.root_ca.signature_algorithm_matches"), true);
        assert_eq!(outcome(&f, "CS-TLS-013"), Outcome::Fail, "2048 < 3072");
        assert_eq!(outcome(&f, "CS-TLS-014"), Outcome::Pass);
    }
    // The PEM fact unknown: every root CA fact is unknown with the same reason.
    let mut known = Facts::new();
    known.namespace_missing("cs.", "db", MissingReason::PermissionDenied, "no grant");
    let f = tls::collect(&opts0, &known);
    assert_eq!(
        missing(&f, "tls.root_ca.cert"),
        MissingReason::PermissionDenied
    );
    assert_eq!(outcome(&f, "CS-TLS-013"), Outcome::Unknown);
}

// ---------- legacy server: openssl s_server ----------

#[test]
fn legacy_openssl_server() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    self_signed(
        d.path(),
        "rsa:1024",
        "-sha1",
        "30",
        "weak.test",
        "weak.key",
        "weak.pem",
        &[],
    );
    let key_pem = std::fs::read_to_string(d.path().join("weak.key")).unwrap();
    let (_srv, port) = s_server(
        d.path(),
        "weak.pem",
        "weak.key",
        &["-cipher", "ALL:eNULL:@SECLEVEL=0", "-min_protocol", "TLSv1"],
    );
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{port}")], 4000),
        &Facts::new(),
    );
    let protos = strs(val(&f, "tls.https.protocols"));
    for p in ["TLSv1.0", "TLSv1.1", "TLSv1.2"] {
        assert!(protos.contains(&p.to_string()), "{p} in {protos:?}");
    }
    assert!(!protos.contains(&"SSLv3".to_string()));
    let classes = strs(val(&f, "tls.https.weak_cipher_classes"));
    for c in ["NULL", "anonymous", "CBC-TLSv1.0"] {
        assert!(classes.contains(&c.to_string()), "{c} in {classes:?}");
    }
    for k in ["cbc_tls12", "cbc_tls11"] {
        assert_eq!(strs(val(&f, &format!("tls.https.{k}"))).len(), 1, "{k}");
    }
    assert!(strs(val(&f, "tls.https.rsa_kx"))[0].starts_with("TLS_RSA_"));
    assert_eq!(outcome(&f, "CS-TLS-016"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-017"), Outcome::Fail);
    let l = val(&f, "tls.https.leaf");
    assert_eq!(l["key_type"], "RSA");
    assert_eq!(l["key_bits"], 1024);
    assert_eq!(l["signature_algorithm"], "sha1WithRSAEncryption");
    assert_eq!(l["self_signed"], true);
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-003"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-006"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-007"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-012"), Outcome::Fail);
    // A profile may widen the allowed protocol set.
    let cat = Catalog::builtin().unwrap();
    let prof: stackposture::catalog::Profile = toml::from_str(
        "name = \"lax\"\ntitle = \"t\"\ndescription = \"d\"\n[params.CS-TLS-002]\nallowed_protocols = [\"TLSv1.0\", \"TLSv1.1\", \"TLSv1.2\", \"TLSv1.3\"]\n",
    )
    .unwrap();
    let r = evaluate_check(
        cat.check("CS-TLS-002").unwrap(),
        &prof,
        &f,
        &EvalContext { now: now() },
    );
    assert_eq!(r.outcome, Outcome::Pass);
    // No private key material anywhere in the facts.
    let json = f.to_json();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!json.contains(key_line));
    assert!(!json.contains("PRIVATE KEY"));
}

#[test]
fn modern_openssl_server_refuses_legacy_but_offers_cbc() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    openssl(
        d.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "k.pem",
        ],
    );
    openssl(
        d.path(),
        &[
            "req",
            "-x509",
            "-key",
            "k.pem",
            "-sha256",
            "-days",
            "200",
            "-subj",
            "/CN=ms.test",
            "-addext",
            "subjectAltName=DNS:ms.test,IP:127.0.0.1",
            "-out",
            "c.pem",
        ],
    );
    let (_srv, port) = s_server(d.path(), "c.pem", "k.pem", &[]);
    let f = tls::collect(&opts(&[format!("127.0.0.1:{port}")], 4000), &Facts::new());
    let label = format!("ep-127-0-0-1-{port}");
    let protos = strs(val(&f, &format!("tls.{label}.protocols")));
    assert_eq!(protos, vec!["TLSv1.2", "TLSv1.3"]);
    assert!(strs(val(&f, &format!("tls.{label}.weak_cipher_classes"))).is_empty());
    let l = val(&f, &format!("tls.{label}.leaf"));
    assert_eq!(
        (l["key_type"].as_str(), l["key_bits"].as_u64()),
        (Some("RSA"), Some(2048))
    );
    assert_eq!(l["san_ip"][0], "127.0.0.1");
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-003"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-007"), Outcome::Pass);
    // The probes' own view of TLS 1.2 CBC suites (rustls could never show these).
    let p = val(&f, &format!("tls.{label}.protocol_probes"));
    assert!(p["TLSv1.0"].as_str().unwrap().starts_with("refused"));
    assert!(p["TLSv1.2"].as_str().unwrap().starts_with("accepted"));
}

// ---------- plain HTTP ----------

fn http_responder(answer: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b);
            let _ = s.write_all(answer);
        }
    });
    (port, h)
}

#[test]
fn plain_http_answers_and_redirects() {
    let (p1, h1) =
        http_responder(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/client\r\n\r\n");
    let f = tls::collect(
        &opts(&[format!("http=127.0.0.1:{p1}")], 2000),
        &Facts::new(),
    );
    h1.join().unwrap();
    assert_eq!(val(&f, "tls.http.answers_http"), true);
    assert_eq!(val(&f, "tls.http.redirects_to_https"), false);
    assert_eq!(outcome(&f, "CS-TLS-011"), Outcome::Fail);
    let (p2, h2) = http_responder(b"HTTP/1.1 301 Moved\r\nlocation: https://ms.test:8443/\r\n\r\n");
    let f = tls::collect(
        &opts(&[format!("http=127.0.0.1:{p2}")], 2000),
        &Facts::new(),
    );
    h2.join().unwrap();
    assert_eq!(val(&f, "tls.http.redirects_to_https"), true);
    assert_eq!(outcome(&f, "CS-TLS-011"), Outcome::Pass);
    // Nothing listening: no HTTP, no TLS.
    let closed = free_port();
    let f = tls::collect(
        &opts(
            &[
                format!("http=127.0.0.1:{closed}"),
                format!("https=127.0.0.1:{closed}"),
            ],
            2000,
        ),
        &Facts::new(),
    );
    assert_eq!(val(&f, "tls.http.answers_http"), false);
    assert_eq!(outcome(&f, "CS-TLS-011"), Outcome::Pass);
    assert_eq!(val(&f, "tls.https.reachable"), false);
    assert_eq!(outcome(&f, "CS-TLS-001"), Outcome::Fail);
}

// ---------- hostile peers ----------

/// A TCP server that treats every connection with `f`, on its own threads, until Drop.
struct Hostile {
    port: u16,
    stop: Arc<AtomicBool>,
}
impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn hostile(f: fn(TcpStream, Arc<AtomicBool>)) -> Hostile {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            if s2.load(Ordering::SeqCst) {
                break;
            }
            if let Ok(c) = c {
                let s3 = s2.clone();
                std::thread::spawn(move || f(c, s3));
            }
        }
    });
    Hostile { port, stop }
}

fn sleep_until_stopped(stop: &AtomicBool, max: Duration) {
    let t0 = Instant::now();
    while !stop.load(Ordering::SeqCst) && t0.elapsed() < max {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn garbage(mut s: TcpStream, _: Arc<AtomicBool>) {
    let _ = s.write_all(&b"SSH-2.0-OpenSSH_9.2 garbage garbage\r\n".repeat(50));
}
fn silent(s: TcpStream, stop: Arc<AtomicBool>) {
    sleep_until_stopped(&stop, Duration::from_secs(20));
    drop(s);
}
fn trickle(mut s: TcpStream, stop: Arc<AtomicBool>) {
    // A plausible record header announcing 16 KB, then one byte every 100 ms.
    let _ = s.write_all(&[22, 3, 3, 0x40, 0x00, 2]);
    let t0 = Instant::now();
    while !stop.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(20) {
        if s.write_all(&[0]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
fn huge(mut s: TcpStream, _: Arc<AtomicBool>) {
    let _ = s.write_all(&[22, 3, 3, 0xff, 0xff]);
    let _ = s.write_all(&vec![0x41u8; 1 << 20]);
}

#[test]
fn hostile_peers_end_in_time_with_unknown_facts() {
    for (name, f) in [
        ("garbage", garbage as fn(TcpStream, Arc<AtomicBool>)),
        ("silent", silent),
        ("trickle", trickle),
        ("huge", huge),
    ] {
        let h = hostile(f);
        let t0 = Instant::now();
        let facts = tls::collect(
            &opts(&[format!("https=127.0.0.1:{}", h.port)], 800),
            &Facts::new(),
        );
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
        assert_eq!(val(&facts, "tls.https.reachable"), true, "{name}");
        let r = missing(&facts, "tls.https.tls");
        assert!(
            matches!(r, MissingReason::Timeout | MissingReason::Error),
            "{name}: {r:?}"
        );
        assert!(
            facts.get("tls.https.protocols").unwrap().missing.is_some(),
            "{name}"
        );
        for k in ["cbc_tls12", "cbc_tls11", "rsa_kx"] {
            assert!(
                facts
                    .get(&format!("tls.https.{k}"))
                    .unwrap()
                    .missing
                    .is_some(),
                "{name} {k}"
            );
        }
        for id in [
            "CS-TLS-001",
            "CS-TLS-002",
            "CS-TLS-003",
            "CS-TLS-016",
            "CS-TLS-017",
        ] {
            assert_eq!(outcome(&facts, id), Outcome::Unknown, "{name} {id}");
        }
        if name == "silent" || name == "trickle" {
            assert_eq!(r, MissingReason::Timeout, "{name}");
        }
        drop(h);
    }
}

#[test]
fn probing_rules_follow_the_root() {
    let d = tempfile::tempdir().unwrap();
    let o = stackposture::collect::CollectOptions {
        root: PathBuf::from(d.path()),
        ..Default::default()
    };
    let t = stackposture::collect::tls_options(&o);
    assert!(!t.probe_deployment, "a demo tree is not probed");
    let o = stackposture::collect::CollectOptions::default();
    assert!(
        stackposture::collect::tls_options(&o).probe_deployment,
        "/ is the live host"
    );
    let c = stackposture::collect::collect(&stackposture::collect::CollectOptions {
        root: PathBuf::from(d.path()),
        ..Default::default()
    });
    assert_eq!(
        missing(&c.facts, "tls.https.tls"),
        MissingReason::NotCollected
    );
}

#[test]
fn rustls_server_with_an_rsa_key_from_openssl() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    openssl(
        d.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:3072",
            "-out",
            "rsa.pem",
        ],
    );
    let pem = std::fs::read_to_string(d.path().join("rsa.pem")).unwrap();
    let kp = rcgen::KeyPair::from_pem(&pem).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["rsa.test".to_string()])
        .unwrap()
        .self_signed(&kp)
        .unwrap();
    let srv = rustls_server(
        vec![cert.der().to_vec()],
        pkcs8_from_pem(&pem),
        ClientAuth::None,
        None,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{}", srv.port)], 3000),
        &Facts::new(),
    );
    let l = val(&f, "tls.https.leaf");
    assert_eq!(
        (l["key_type"].as_str(), l["key_bits"].as_u64()),
        (Some("RSA"), Some(3072))
    );
    assert_eq!(l["signature_algorithm"], "sha256WithRSAEncryption");
    assert_eq!(l["self_signed"], true);
    assert!(val(&f, "tls.https.tls12")["cipher"]
        .as_str()
        .unwrap()
        .contains("ECDHE_RSA"));
    assert_eq!(val(&f, "tls.summary.min_rsa_key_bits"), 3072);
    assert_eq!(outcome(&f, "CS-TLS-007"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-012"), Outcome::Fail);
    // The key never shows up in the facts.
    let json = f.to_json();
    assert!(!json.contains(pem.lines().nth(1).unwrap()));
}

#[test]
fn cbc_only_server_certificate_read_from_the_legacy_flight() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    self_signed(
        d.path(),
        "rsa:2048",
        "-sha256",
        "90",
        "cbc.test",
        "k.pem",
        "c.pem",
        &[],
    );
    let (_srv, port) = s_server(
        d.path(),
        "c.pem",
        "k.pem",
        &[
            "-cipher",
            "ECDHE-RSA-AES128-SHA:AES256-SHA",
            "-max_protocol",
            "TLSv1.2",
        ],
    );
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{port}")], 4000),
        &Facts::new(),
    );
    // rustls has no CBC suite: its TLS 1.2 handshake fails, the hand-built hello succeeds.
    assert_eq!(val(&f, "tls.https.tls12")["accepted"], false);
    assert_eq!(strs(val(&f, "tls.https.protocols")), vec!["TLSv1.2"]);
    let l = val(&f, "tls.https.leaf");
    assert_eq!(
        (l["key_type"].as_str(), l["key_bits"].as_u64()),
        (Some("RSA"), Some(2048))
    );
    assert_eq!(l["subject"], "CN=cbc.test");
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-003"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-007"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-004"), Outcome::Pass);
}

// ---------- CBC at TLS 1.2 and static-RSA key exchange ----------

/// A self-signed RSA-2048 certificate for 127.0.0.1 in `dir` (c.pem, k.pem).
fn rsa_cert(dir: &Path) {
    self_signed(
        dir,
        "rsa:2048",
        "-sha256",
        "90",
        "ms.test",
        "k.pem",
        "c.pem",
        &["-addext", "subjectAltName=DNS:ms.test,IP:127.0.0.1"],
    );
}

fn strict_severity(
    id: &str,
) -> (
    stackposture::catalog::Severity,
    stackposture::catalog::Severity,
) {
    let cat = Catalog::builtin().unwrap();
    let c = cat.check(id).unwrap();
    (
        cat.profile("production").unwrap().severity_of(c),
        cat.profile("strict").unwrap().severity_of(c),
    )
}

#[test]
fn tls12_static_rsa_cbc_server_fails_both_new_checks() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    rsa_cert(d.path());
    // AES128-SHA = TLS_RSA_WITH_AES_128_CBC_SHA: static RSA key transport and CBC.
    let (_srv, port) = s_server(
        d.path(),
        "c.pem",
        "k.pem",
        &[
            "-cipher",
            "AES128-SHA",
            "-min_protocol",
            "TLSv1.2",
            "-max_protocol",
            "TLSv1.2",
        ],
    );
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{port}")], 4000),
        &Facts::new(),
    );
    assert_eq!(strs(val(&f, "tls.https.protocols")), vec!["TLSv1.2"]);
    assert_eq!(
        strs(val(&f, "tls.https.cbc_tls12")),
        vec!["TLS_RSA_WITH_AES_128_CBC_SHA"]
    );
    assert!(
        strs(val(&f, "tls.https.cbc_tls11")).is_empty(),
        "TLS 1.1 is off"
    );
    assert_eq!(
        strs(val(&f, "tls.https.rsa_kx")),
        vec!["TLS_RSA_WITH_AES_128_CBC_SHA at TLSv1.2"]
    );
    assert_eq!(
        strs(val(&f, "tls.summary.cbc_tls12")),
        vec!["https TLS_RSA_WITH_AES_128_CBC_SHA"]
    );
    assert_eq!(
        strs(val(&f, "tls.summary.rsa_kx")),
        vec!["https TLS_RSA_WITH_AES_128_CBC_SHA at TLSv1.2"]
    );
    assert_eq!(outcome(&f, "CS-TLS-016"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-017"), Outcome::Fail);
    // Neither is one of the classes that must be off everywhere, nor a legacy protocol.
    assert_eq!(outcome(&f, "CS-TLS-002"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-003"), Outcome::Pass);
    // strict promises "TLS 1.2 with AEAD only": CBC weighs more there.
    use stackposture::catalog::Severity;
    assert_eq!(
        strict_severity("CS-TLS-016"),
        (Severity::Low, Severity::Medium)
    );
    assert_eq!(strict_severity("CS-TLS-017").0, Severity::Medium);
}

#[test]
fn ecdhe_aead_only_server_passes_both_new_checks() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    rsa_cert(d.path());
    let (_srv, port) = s_server(
        d.path(),
        "c.pem",
        "k.pem",
        &[
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305",
            "-min_protocol",
            "TLSv1.2",
        ],
    );
    let f = tls::collect(
        &opts(&[format!("https=127.0.0.1:{port}")], 4000),
        &Facts::new(),
    );
    assert_eq!(
        strs(val(&f, "tls.https.protocols")),
        vec!["TLSv1.2", "TLSv1.3"]
    );
    for k in ["cbc_tls12", "cbc_tls11", "rsa_kx"] {
        assert!(strs(val(&f, &format!("tls.https.{k}"))).is_empty(), "{k}");
        assert!(strs(val(&f, &format!("tls.summary.{k}"))).is_empty(), "{k}");
    }
    assert_eq!(outcome(&f, "CS-TLS-016"), Outcome::Pass);
    assert_eq!(outcome(&f, "CS-TLS-017"), Outcome::Pass);
}

#[test]
fn default_openssl_server_accepts_cbc_and_static_rsa_and_legacy_server_cbc_at_tls11() {
    if !have_openssl() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    rsa_cert(d.path());
    // OpenSSL's DEFAULT list still has CBC and kRSA suites at TLS 1.2 (like a stock JVM).
    let (_a, port) = s_server(d.path(), "c.pem", "k.pem", &[]);
    // TLS 1.1 with CBC, static RSA only below TLS 1.2.
    let (_b, port11) = s_server(
        d.path(),
        "c.pem",
        "k.pem",
        &[
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0",
            "-min_protocol",
            "TLSv1.1",
            "-max_protocol",
            "TLSv1.2",
        ],
    );
    let f = tls::collect(
        &opts(
            &[
                format!("https=127.0.0.1:{port}"),
                format!("old=127.0.0.1:{port11}"),
            ],
            4000,
        ),
        &Facts::new(),
    );
    let c12 = strs(val(&f, "tls.https.cbc_tls12"));
    assert_eq!(c12.len(), 1);
    assert!(c12[0].contains("_CBC_"), "{c12:?}");
    let rsa = strs(val(&f, "tls.https.rsa_kx"));
    assert!(rsa[0].starts_with("TLS_RSA_WITH_") && rsa[0].ends_with(" at TLSv1.2"));
    let old11 = strs(val(&f, "tls.old.cbc_tls11"));
    assert_eq!(old11.len(), 1, "{old11:?}");
    assert!(old11[0].contains("_CBC_"));
    assert_eq!(
        strs(val(&f, "tls.old.rsa_kx")),
        vec!["TLS_RSA_WITH_AES_256_CBC_SHA at TLSv1.2"]
    );
    // Summaries name both endpoints.
    let s12 = strs(val(&f, "tls.summary.cbc_tls12"));
    assert!(
        s12.iter().any(|x| x.starts_with("https ")) && s12.iter().any(|x| x.starts_with("old "))
    );
    assert!(strs(val(&f, "tls.summary.cbc_tls11"))[0].starts_with("old "));
    assert_eq!(outcome(&f, "CS-TLS-016"), Outcome::Fail);
    assert_eq!(outcome(&f, "CS-TLS-017"), Outcome::Fail);
}

// ---------- the two steps: --endpoints first, the deployment after the DB ----------

/// `collect_explicit` needs no other facts; `collect_deployment` then probes the
/// deployment's own endpoints, completes the explicit leaves (name, root CA) and
/// summarises both. Merged, their facts are exactly what `collect` gives; so are those of
/// `probe_explicit` + `collect_with` (the hand-over in memory).
#[test]
fn explicit_and_deployment_steps_merge_to_collect() {
    let t = now();
    let (ca, leaf, key) = ec_ca_and_leaf(&["ms.test", "127.0.0.1"], t - 86_400, t + 90 * 86_400);
    let srv = rustls_server(
        vec![leaf, ca.der().to_vec()],
        key,
        ClientAuth::None,
        None,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    let closed = free_port();
    let mut known = Facts::new();
    known.set("cs.root_ca.certificate_pem", "test", ca.pem());
    known.set("cs.setting.host", "test", "ms.test");
    known.set("cs.setting.port", "test", closed.to_string());
    known.namespace_complete("cs.setting.", "test");
    known.set("props.server.https.port", "test", srv.port.to_string());
    known.set("props.server.http.port", "test", closed.to_string());
    known.set("props.db.cluster.servlet.port", "test", closed.to_string());
    known.namespace_complete("props.", "test");
    let mut o = opts(&[format!("agent=127.0.0.1:{}", srv.port)], 3000);
    o.probe_deployment = true;

    let explicit = tls::collect_explicit(&o);
    assert!(explicit.get("tls.summary.endpoints").is_none());
    assert!(explicit.get("tls.root_ca.cert").is_none());
    assert!(
        explicit.get("tls.https.tls").is_none(),
        "only the --endpoints"
    );
    let l = val(&explicit, "tls.agent.leaf");
    assert!(l.get("issued_by_root_ca").is_none());
    assert!(
        explicit.get("tls.agent.names").unwrap().value.is_none(),
        "needs the DB facts"
    );

    let mut seen = known.clone();
    seen.merge(explicit.clone());
    let mut merged = explicit;
    merged.merge(tls::collect_deployment(&o, &seen));
    let whole = tls::collect(&o, &known);
    assert_eq!(merged.facts, whole.facts);
    assert_eq!(merged.namespaces, whole.namespaces);
    assert_eq!(merged.sources, whole.sources);
    // The in-memory hand-over: probe early, record with the later facts.
    let probes = tls::probe_explicit(&o);
    let handed = tls::collect_with(&o, &known, &probes);
    assert_eq!(handed.facts, whole.facts);
    assert_eq!(handed.namespaces, whole.namespaces);

    let l = val(&whole, "tls.agent.leaf");
    assert_eq!(l["issued_by_root_ca"], true);
    let n = val(&whole, "tls.agent.names");
    assert_eq!(n["expected"][0]["names"][0], "ms.test", "{n}");
    assert_eq!(n["matches"], true);
    assert_eq!(
        strs(val(&whole, "tls.summary.endpoints")),
        vec!["agent", "https"]
    );
    assert_eq!(val(&whole, "tls.summary.certificates"), 2);
    assert_eq!(val(&whole, "tls.cluster.reachable"), false);
    assert_eq!(val(&whole, "tls.http.answers_http"), false);
    assert_eq!(outcome(&whole, "CS-TLS-007"), Outcome::Pass);
    assert_eq!(outcome(&whole, "CS-TLS-008"), Outcome::Pass);
}
