//! Issue 11 item 5 (DHE groups): the raw DHE probe against real `openssl s_server`s on
//! 127.0.0.1 with a 1024-bit and a 2048-bit group, and a server without DHE. The oracle
//! is `openssl s_client -cipher DHE`, whose "Server Temp Key: DH, N bits" line is the
//! group the server really uses.

mod common;

use common::tls::{openssl, s_server, self_signed, test_pki};
use stackposture::catalog::Catalog;
use stackposture::collect::tls::probe::Limits;
use stackposture::collect::tls::{self, EndpointSpec, TlsOptions};
use stackposture::evaluate::{evaluate_check, EvalContext};
use stackposture::facts::{Facts, MissingReason};
use stackposture::outcome::Outcome;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn collect(endpoint: String) -> Facts {
    let opts = TlsOptions {
        probe_deployment: false,
        not_probed_because: "test".into(),
        endpoints: vec![EndpointSpec::parse(&endpoint).unwrap()],
        limits: Limits {
            connect: Duration::from_millis(2000),
            probe: Duration::from_millis(3000),
            client_auth_wait: Duration::from_millis(300),
            max_bytes: 256 * 1024,
        },
        now: now(),
    };
    tls::collect(&opts, &Facts::new())
}

fn outcome(f: &Facts, id: &str) -> Outcome {
    let cat = Catalog::builtin().unwrap();
    let profile = cat.profile("production").unwrap();
    let c = cat.check(id).unwrap();
    evaluate_check(c, profile, f, &EvalContext { now: now() }).outcome
}

fn value(f: &Facts, key: &str) -> serde_json::Value {
    let x = f.get(key).unwrap_or_else(|| panic!("{key} not collected"));
    x.value
        .clone()
        .unwrap_or_else(|| panic!("{key} missing: {:?}", x.missing))
}

/// The group `openssl s_client` gets with DHE suites at TLS 1.2 ("Server Temp Key").
fn oracle_bits(port: u16) -> Option<u32> {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_2",
            "-cipher",
            "DHE:@SECLEVEL=0",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("Server Temp Key: DH,"))?;
    line.split(',')
        .nth(1)?
        .trim()
        .split(' ')
        .next()?
        .parse()
        .ok()
}

fn rsa_server_files(dir: &Path) {
    self_signed(
        dir,
        "rsa:2048",
        "-sha256",
        "30",
        "dhe.test",
        "rsa.key",
        "rsa.pem",
        &[],
    );
    openssl(dir, &["dhparam", "-out", "dh1024.pem", "1024"]);
    openssl(
        dir,
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "group:ffdhe2048",
            "-out",
            "dh2048.pem",
        ],
    );
}

#[test]
fn dhe_group_size_is_read_from_the_server_key_exchange() {
    if common::tool("openssl").is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    rsa_server_files(d.path());
    for (params, bits, want) in [
        ("dh1024.pem", 1024, Outcome::Fail),
        ("dh2048.pem", 2048, Outcome::Pass),
    ] {
        let (_srv, port) = s_server(
            d.path(),
            "rsa.pem",
            "rsa.key",
            &["-dhparam", params, "-cipher", "DHE:@SECLEVEL=0"],
        );
        assert_eq!(oracle_bits(port), Some(bits), "oracle for {params}");
        let f = collect(format!("dhe=127.0.0.1:{port}"));
        assert_eq!(value(&f, "tls.dhe.dhe_group_bits"), bits, "{params}");
        let suite = value(&f, "tls.dhe.dhe_suite");
        assert!(
            suite.as_str().unwrap().starts_with("TLS_DHE_RSA_")
                && suite.to_string().contains("TLSv1.2"),
            "{suite}"
        );
        assert_eq!(value(&f, "tls.summary.min_dhe_group_bits"), bits);
        let groups = value(&f, "tls.summary.dhe_groups");
        assert!(
            groups[0]
                .as_str()
                .unwrap()
                .starts_with(&format!("dhe: {bits}-bit group (TLS_DHE_RSA_")),
            "{groups}"
        );
        assert_eq!(outcome(&f, "CS-TLS-018"), want, "{params}");
    }
}

#[test]
fn a_server_without_dhe_passes() {
    if common::tool("openssl").is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    test_pki(d.path(), &[]);
    let (_srv, port) = s_server(
        d.path(),
        "leaf.pem",
        "leaf.key",
        &[
            "-cert_chain",
            "ca.pem",
            "-min_protocol",
            "TLSv1.2",
            "-cipher",
            "ECDHE+AESGCM",
        ],
    );
    assert_eq!(oracle_bits(port), None, "the oracle finds no DHE either");
    let f = collect(format!("ecdhe=127.0.0.1:{port}"));
    assert_eq!(value(&f, "tls.ecdhe.tls"), true);
    let m = f.get("tls.ecdhe.dhe_group_bits").unwrap();
    assert_eq!(m.missing.as_ref().unwrap().reason, MissingReason::Absent);
    assert_eq!(value(&f, "tls.summary.dhe_groups"), serde_json::json!([]));
    assert_eq!(outcome(&f, "CS-TLS-018"), Outcome::Pass);
}
