//! `fleet` over three hosts' real reports (from `evaluate` of the demo deployment's facts):
//! two share a secret's keyed fingerprint across prod and staging, two management servers
//! of one cluster run different versions, heartbeats drift apart, a listed server has no
//! report and one report is undated.

mod common;

use serde_json::{json, Value};
use std::process::Command;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap()
}

#[test]
fn fleet_finds_what_no_single_host_can() {
    let m = env!("CARGO_MANIFEST_DIR");
    let demo: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{m}/examples/demo/facts.json")).unwrap(),
    )
    .unwrap();
    let now = OffsetDateTime::now_utc();
    let ago = |s: i64| rfc3339(now - time::Duration::seconds(s));
    let mshost = json!([
        {"msid": 1, "name": "ms1.prod.example", "service_ip": "10.0.0.1", "version": "4.20.1.0", "state": "Up", "last_update": ago(10)},
        {"msid": 2, "name": "ms2.prod.example", "service_ip": "10.0.0.2", "version": "4.19.0.0", "state": "Up", "last_update": ago(20)},
        {"msid": 3, "name": "ms3.prod.example", "service_ip": "10.0.0.3", "version": "4.20.1.0", "state": "Up", "last_update": ago(900)},
        {"msid": 4, "name": "ms4.prod.example", "service_ip": "10.0.0.4", "version": "4.18.0.0", "state": "Down", "last_update": ago(90000)},
    ]);
    let shared_fp = "hmac-sha256:0123456789abcdef0123456789abcdef";
    let tmp = tempfile::tempdir().unwrap();
    let hosts = [
        ("prod", "ms1.prod.example", Some(shared_fp), true, true),
        (
            "prod",
            "ms2.prod.example",
            Some("hmac-sha256:ffffffffffffffffffffffffffffffff"),
            true,
            true,
        ),
        (
            "staging",
            "st1.staging.example",
            Some(shared_fp),
            false,
            false,
        ),
    ];
    for (env, host, fp, cluster, dated) in hosts {
        let mut f = demo.clone();
        f["host"] = json!(host);
        if dated {
            f["collected_at"] = json!(ago(60));
        } else if let Some(o) = f.as_object_mut() {
            o.remove("collected_at");
        }
        let facts = &mut f["facts"];
        if let Some(fp) = fp {
            facts["secret.db.db.cloud.password"]["value"]["fingerprint"] = json!(fp);
        }
        if cluster {
            facts["cs.mshost"] = json!({"value": mshost, "source": "db:cloud.mshost"});
        }
        let facts_file = tmp.path().join(format!("{host}.facts.json"));
        std::fs::write(&facts_file, f.to_string()).unwrap();
        let dir = tmp.path().join("reports").join(env);
        std::fs::create_dir_all(&dir).unwrap();
        let o = Command::new(common::bin())
            .arg("evaluate")
            .arg(&facts_file)
            .args(["--format", "json", "-o"])
            .arg(dir.join(format!("{host}.json")))
            .output()
            .unwrap();
        assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    }
    let reports = tmp.path().join("reports");
    let run = |format: &str| {
        Command::new(common::bin())
            .arg("fleet")
            .arg(&reports)
            .args(["--format", format])
            .output()
            .unwrap()
    };
    let o = run("json");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let f: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(f["hosts"].as_array().unwrap().len(), 3);
    let envs: Vec<&str> = f["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["prod", "prod", "staging"]);
    let cross = f["cross_host"].as_array().unwrap();
    let ids = |id: &str| -> Vec<String> {
        cross
            .iter()
            .filter(|c| c["id"] == id)
            .map(|c| c["message"].as_str().unwrap().to_string())
            .collect()
    };
    let key = ids("FLEET-KEY-001");
    assert_eq!(key.len(), 1, "{cross:?}");
    assert!(key[0].contains("secret.db.db.cloud.password") && key[0].contains("prod, staging"));
    // Never the secret, only its keyed fingerprint, and that only in the inputs.
    let ver = ids("FLEET-VER-001");
    assert_eq!(ver.len(), 1);
    assert!(
        ver[0].contains("ms1.prod.example 4.20.1.0")
            && ver[0].contains("ms2.prod.example 4.19.0.0")
    );
    assert!(
        !ver[0].contains("ms4"),
        "a Down server is not compared: {}",
        ver[0]
    );
    let clk = ids("FLEET-CLK-001");
    assert!(
        clk.iter()
            .any(|c| c.contains("ms3.prod.example") && c.contains("s apart")),
        "{clk:?}"
    );
    let missing = ids("FLEET-RPT-001");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("ms3.prod.example"));
    let stale = ids("FLEET-RPT-002");
    assert_eq!(stale.len(), 1);
    assert!(stale[0].starts_with("st1.staging.example"));
    // The demo's failures are shared by all three hosts.
    let shared = f["shared_findings"].as_array().unwrap();
    assert!(!shared.is_empty() && shared[0]["hosts"].as_array().unwrap().len() == 3);
    let table = String::from_utf8(run("table").stdout).unwrap();
    assert!(table.contains("st1.staging.example") && table.contains("[FLEET-VER-001]"));
    let html = String::from_utf8(run("html").stdout).unwrap();
    assert_eq!(html.matches("<tr><td>").count(), 3);
    assert!(html.contains("[FLEET-KEY-001]") && !html.contains("src="));
    let csv = String::from_utf8(run("csv").stdout).unwrap();
    assert_eq!(csv.matches("\r\n").count(), 4, "header + 3 hosts");
    // A report of an unknown schema is refused.
    let bad = reports.join("prod/ms1.prod.example.json");
    let text = std::fs::read_to_string(&bad).unwrap();
    std::fs::write(
        &bad,
        text.replacen("\"schema_version\": \"1.", "\"schema_version\": \"9.", 1),
    )
    .unwrap();
    assert_eq!(run("json").status.code(), Some(3));
}
