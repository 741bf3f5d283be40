//! Issue 11 items 1, 2 and 8 on real TLS servers (`openssl s_server` on 127.0.0.1) and
//! real trees, through the CLI:
//! - each endpoint's certificate is compared with the names its own clients use (8443:
//!   host of `endpoint.url`, else the server's host name; 8250: `host`; 9090:
//!   `cluster.node.IP`), DNS and IP subjectAltNames both counting (CS-TLS-008);
//! - HTTPS deliberately off makes the 8443 checks not applicable, not a second finding;
//! - names that come from an unreachable database leave CS-TLS-008 unknown.

mod common;

use common::tls::{free_port, s_server, test_pki_sans, Proc};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn have_openssl() -> bool {
    common::tool("openssl").is_some()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let o = Command::new(common::bin())
        .args(args)
        .env_remove("CLOUD_SECRET_KEY")
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `collect` and `audit --format json` with the same arguments: (facts, report).
fn collect_and_audit(args: &[&str]) -> (Value, Value) {
    let mut c = vec![
        "collect",
        "--host-state",
        "never",
        "--tls-timeout-ms",
        "3000",
    ];
    c.extend_from_slice(args);
    let facts = run(&c);
    assert_eq!(facts.code, 0, "collect: {}", facts.stderr);
    let mut a = vec![
        "audit",
        "--host-state",
        "never",
        "--tls-timeout-ms",
        "3000",
        "--format",
        "json",
        "--profile",
        "production",
    ];
    a.extend_from_slice(args);
    let report = run(&a);
    let facts: Value = serde_json::from_str(&facts.stdout).unwrap();
    let report: Value =
        serde_json::from_str(&report.stdout).unwrap_or_else(|e| panic!("{e}: {}", report.stderr));
    (facts, report)
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the report"))
}

fn outcome(report: &Value, id: &str) -> String {
    result(report, id)["outcome"].as_str().unwrap().to_string()
}

/// A management-server tree: server.properties (HTTPS on or off, ports), db.properties
/// (`cluster.node.IP`, the database at `db_port`), and `/etc/hostname`.
fn tree(root: &Path, https_enable: bool, https_port: u16, cluster_ip: &str, db_port: u16) {
    let etc = root.join("etc/cloudstack/management");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("server.properties"),
        format!(
            "bind.interface=127.0.0.1\nhttp.enable=false\nhttp.port={}\nhttps.enable={https_enable}\nhttps.port={https_port}\n",
            free_port()
        ),
    )
    .unwrap();
    std::fs::write(
        etc.join("db.properties"),
        format!(
            "cluster.node.IP={cluster_ip}\ncluster.servlet.port={}\ndb.cloud.username=cloud\ndb.cloud.password=not-a-secret\ndb.cloud.host=127.0.0.1\ndb.cloud.port={db_port}\ndb.cloud.name=cloud\ndb.cloud.encryption.type=none\n",
            free_port()
        ),
    )
    .unwrap();
    std::fs::write(root.join("etc/hostname"), "ms1.example.org\n").unwrap();
}

fn export(dir: &Path, endpoint_url: &str, host: &str) -> String {
    let p = dir.join("settings.json");
    std::fs::write(
        &p,
        format!(
            r#"{{"count": 3, "configuration": [
              {{"name": "endpoint.url", "value": "{endpoint_url}", "category": "Advanced"}},
              {{"name": "host", "value": "{host}", "category": "Advanced"}},
              {{"name": "port", "value": "{}", "category": "Advanced"}}]}}"#,
            free_port()
        ),
    )
    .unwrap();
    p.display().to_string()
}

/// Three TLS servers (https, agent, cluster) with one certificate for the DNS name
/// cloud.example.org and the IP 10.0.0.10.
fn servers(pki: &Path) -> [(Proc, u16); 3] {
    test_pki_sans(
        pki,
        "cloud.example.org",
        "DNS:cloud.example.org,IP:10.0.0.10",
    );
    let args = ["-cert_chain", "ca.pem"];
    std::array::from_fn(|_| s_server(pki, "leaf.pem", "leaf.key", &args))
}

fn endpoints(s: &[(Proc, u16); 3]) -> Vec<String> {
    vec![
        "--endpoint".into(),
        format!("https=127.0.0.1:{}", s[0].1),
        "--endpoint".into(),
        format!("agent=127.0.0.1:{}", s[1].1),
        "--endpoint".into(),
        format!("cluster=127.0.0.1:{}", s[2].1),
    ]
}

#[test]
fn each_endpoint_is_compared_with_the_names_its_clients_use() {
    if !have_openssl() {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    let srv = servers(pki.path());
    let eps = endpoints(&srv);

    // Hardened: 8443 named for the host of endpoint.url, 8250 for one address of `host`
    // (a list of management servers), 9090 for cluster.node.IP, each by DNS or IP SAN.
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), true, free_port(), "10.0.0.10", free_port());
    let x = export(
        t.path(),
        "https://cloud.example.org:8443/client/api",
        "10.0.0.11,10.0.0.10",
    );
    let mut args = vec![
        "--root",
        t.path().to_str().unwrap(),
        "--settings-export",
        &x,
    ];
    args.extend(eps.iter().map(String::as_str));
    let (facts, report) = collect_and_audit(&args);
    let f = &facts["facts"];
    let https = &f["tls.https.names"]["value"];
    assert_eq!(https["matches"], true, "{https}");
    assert_eq!(
        https["expected"][0],
        serde_json::json!({"from": "host of endpoint.url", "names": ["cloud.example.org"], "matched": ["cloud.example.org"]})
    );
    assert_eq!(
        https["certificate"],
        serde_json::json!({"dns": ["cloud.example.org"], "ip": ["10.0.0.10"], "cn": ["cloud.example.org"]})
    );
    let agent = &f["tls.agent.names"]["value"];
    assert_eq!(agent["expected"][0]["from"], "`host` setting");
    assert_eq!(
        agent["expected"][0]["matched"],
        serde_json::json!(["10.0.0.10"])
    );
    assert_eq!(f["tls.cluster.names"]["value"]["matches"], true);
    assert_eq!(
        f["tls.summary.name_mismatches"]["value"],
        serde_json::json!([])
    );
    assert_eq!(outcome(&report, "CS-TLS-008"), "pass");

    // The names the clients use are not in the certificate: one mismatch per endpoint,
    // naming the endpoint, the name and where it comes from.
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), true, free_port(), "10.0.0.12", free_port());
    let x = export(t.path(), "https://api.example.net/client/api", "10.0.0.99");
    let mut args = vec![
        "--root",
        t.path().to_str().unwrap(),
        "--settings-export",
        &x,
    ];
    args.extend(eps.iter().map(String::as_str));
    let (facts, report) = collect_and_audit(&args);
    let mism: Vec<String> = facts["facts"]["tls.summary.name_mismatches"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let carries = "(DNS: cloud.example.org; IP: 10.0.0.10)";
    assert_eq!(
        mism,
        vec![
            format!("https: certificate CN=cloud.example.org {carries} does not name api.example.net (host of endpoint.url)"),
            format!("agent: certificate CN=cloud.example.org {carries} does not name 10.0.0.99 (`host` setting)"),
            format!("cluster: certificate CN=cloud.example.org {carries} does not name 10.0.0.12 (cluster.node.IP in db.properties)"),
        ]
    );
    let r = result(&report, "CS-TLS-008");
    assert_eq!(r["outcome"], "fail");
    assert!(
        r.to_string().contains("does not name api.example.net"),
        "the evidence names the endpoint and the name: {r}"
    );

    // endpoint.url at its loopback default: 8443 is compared with the server's own host
    // name (/etc/hostname), which this certificate does not carry.
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), true, free_port(), "10.0.0.10", free_port());
    let x = export(t.path(), "http://localhost:8080/client/api", "10.0.0.10");
    let mut args = vec![
        "--root",
        t.path().to_str().unwrap(),
        "--settings-export",
        &x,
    ];
    args.extend(eps.iter().map(String::as_str));
    let (facts, report) = collect_and_audit(&args);
    let https = &facts["facts"]["tls.https.names"]["value"];
    assert_eq!(
        https["expected"][0]["from"],
        "host name of the management server"
    );
    assert_eq!(https["expected"][0]["names"][0], "ms1.example.org");
    assert_eq!(outcome(&report, "CS-TLS-008"), "fail");
}

#[test]
fn https_deliberately_off_is_one_finding_not_two() {
    if !have_openssl() {
        return;
    }
    // Nothing listens on https.port; the deployment's endpoints are probed.
    for (enable, want_tls001) in [(false, "not_applicable"), (true, "fail")] {
        let t = tempfile::tempdir().unwrap();
        tree(t.path(), enable, free_port(), "10.0.0.10", free_port());
        let x = export(t.path(), "http://localhost:8080/client/api", "10.0.0.10");
        let (facts, report) = collect_and_audit(&[
            "--root",
            t.path().to_str().unwrap(),
            "--settings-export",
            &x,
            "--probe-deployment",
            "yes",
        ]);
        assert_eq!(facts["facts"]["tls.https.reachable"]["value"], false);
        assert_eq!(facts["facts"]["tls.https.explicit"]["value"], false);
        let srv001 = if enable { "pass" } else { "fail" };
        assert_eq!(outcome(&report, "CS-SRV-001"), srv001);
        let r = result(&report, "CS-TLS-001");
        assert_eq!(r["outcome"], want_tls001, "https.enable={enable}: {r}");
        if !enable {
            assert!(
                r.to_string().contains("props.server.https.enable"),
                "the reason names the setting: {r}"
            );
            assert_eq!(outcome(&report, "CS-TLS-012"), "not_applicable");
        }
    }
    // A TLS proxy given with --endpoint https=... is checked whatever https.enable says.
    let pki = tempfile::tempdir().unwrap();
    let srv = servers(pki.path());
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), false, free_port(), "10.0.0.10", free_port());
    let x = export(
        t.path(),
        "https://cloud.example.org/client/api",
        "10.0.0.10",
    );
    let ep = format!("https=127.0.0.1:{}", srv[0].1);
    let (_, report) = collect_and_audit(&[
        "--root",
        t.path().to_str().unwrap(),
        "--settings-export",
        &x,
        "--endpoint",
        &ep,
    ]);
    assert_eq!(outcome(&report, "CS-TLS-001"), "pass");
    assert_eq!(outcome(&report, "CS-TLS-008"), "pass");
}

#[test]
fn names_from_an_unreachable_database_are_unknown_not_not_applicable() {
    if !have_openssl() {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    let srv = servers(pki.path());
    let eps = endpoints(&srv);
    let t = tempfile::tempdir().unwrap();
    // db.properties names a closed loopback port: endpoint.url and host cannot be read.
    let closed = free_port();
    tree(t.path(), true, free_port(), "10.0.0.10", closed);
    let mut args = vec!["--root", t.path().to_str().unwrap(), "--db-timeout", "3"];
    args.extend(eps.iter().map(String::as_str));
    let (facts, report) = collect_and_audit(&args);
    let f = &facts["facts"];
    assert_ne!(facts["sources"]["db"]["status"], "ok");
    for l in ["https", "agent"] {
        let m = &f[&format!("tls.{l}.names")]["missing"];
        assert!(m.is_object(), "{l}: {}", f[&format!("tls.{l}.names")]);
        assert_ne!(m["reason"], "absent", "{l}: {m}");
    }
    assert!(f["tls.https.names"]["missing"]["detail"]
        .as_str()
        .unwrap()
        .contains("endpoint.url"));
    // cluster.node.IP comes from db.properties, which was read: compared and matched.
    assert_eq!(f["tls.cluster.names"]["value"]["matches"], true);
    let r = result(&report, "CS-TLS-008");
    assert_eq!(r["outcome"], "unknown", "{r}");
}

/// The name rules on real certificates: a single-label wildcard SAN, and the CN, which
/// counts only for DNS names and only when the certificate has no subjectAltName.
#[test]
fn wildcards_and_common_names() {
    if !have_openssl() {
        return;
    }
    let wild = tempfile::tempdir().unwrap();
    test_pki_sans(wild.path(), "*.example.org", "DNS:*.example.org");
    let (_w, wport) = s_server(
        wild.path(),
        "leaf.pem",
        "leaf.key",
        &["-cert_chain", "ca.pem"],
    );
    let cn_only = tempfile::tempdir().unwrap();
    common::tls::self_signed(
        cn_only.path(),
        "rsa:2048",
        "-sha256",
        "30",
        "cloud.example.org",
        "k.pem",
        "c.pem",
        &[],
    );
    let (_c, cport) = s_server(cn_only.path(), "c.pem", "k.pem", &[]);
    let ip_cn = tempfile::tempdir().unwrap();
    common::tls::self_signed(
        ip_cn.path(),
        "rsa:2048",
        "-sha256",
        "30",
        "10.0.0.10",
        "k.pem",
        "c.pem",
        &[],
    );
    let (_i, iport) = s_server(ip_cn.path(), "c.pem", "k.pem", &[]);
    for (port, url, want) in [
        (wport, "https://cloud.example.org/client/api", "pass"),
        (wport, "https://a.cloud.example.org/client/api", "fail"),
        (wport, "https://example.org/client/api", "fail"),
        (cport, "https://cloud.example.org:8443/client/api", "pass"),
        (cport, "https://other.example.org:8443/client/api", "fail"),
        (iport, "https://10.0.0.10:8443/client/api", "fail"),
    ] {
        let t = tempfile::tempdir().unwrap();
        tree(t.path(), true, free_port(), "127.0.0.1", free_port());
        let x = export(t.path(), url, "127.0.0.1");
        let ep = format!("https=127.0.0.1:{port}");
        let (facts, report) = collect_and_audit(&[
            "--root",
            t.path().to_str().unwrap(),
            "--settings-export",
            &x,
            "--endpoint",
            &ep,
        ]);
        let n = &facts["facts"]["tls.https.names"]["value"];
        assert_eq!(outcome(&report, "CS-TLS-008"), want, "{url} on {port}: {n}");
    }
}
