//! The DB collector against a real private MariaDB (tests/common/mariadb.rs): full
//! audits of a secure and an insecure deployment through the binary, DB down, a
//! silent server (timeout), wrong password, a schema that is not CloudStack's, an old
//! (4.11-shaped) schema, per-domain 2FA overrides, and canaries planted in Hidden
//! settings and passwords that must never appear in any output.

mod common;

use base64::Engine as _;
use common::cipher::v2;
use common::mariadb::{self, TestDb, SCHEMA_411, SCHEMA_422};
use serde_json::Value;
use sha2::Digest as _;
use stackposture::collect::database::{DbOptions, SecretString};
use stackposture::collect::{self, CollectOptions};
use stackposture::facts::{Facts, MissingReason};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const MS_KEY: &str = "ms-key-Tq4!long";
const DB_KEY: &str = "db-key-Hw7#long";
const CANARY_HIDDEN: &str = "CANARY-hidden-9f3e1c";
const CANARY_PRIVKEY: &str = "CANARY-privkey-77aa01";

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// One configuration row: (name, value, category, scope bits, default).
fn row(name: &str, value: Option<&str>, cat: &str, scope: u32, default: Option<&str>) -> String {
    format!(
        "INSERT INTO configuration (category, instance, component, name, value, default_value, scope, is_dynamic, updated) VALUES ({}, 'DEFAULT', 'test', {}, {}, {}, {scope}, 1, NOW());\n",
        q(cat),
        q(name),
        value.map_or("NULL".into(), q),
        default.map_or("NULL".into(), q)
    )
}

fn ca_pem() -> String {
    let ck = rcgen::generate_simple_self_signed(vec!["ca.cloudstack.test".into()]).unwrap();
    ck.cert.pem()
}

fn secure_sql() -> String {
    let mut s = String::new();
    for (n, v, d) in [
        ("api.throttling.enabled", "true", "false"),
        ("api.throttling.max", "25", "25"),
        ("api.throttling.interval", "1", "1"),
        ("enable.user.2fa", "true", "false"),
        ("mandate.user.2fa", "true", "false"),
        ("integration.api.port", "0", "0"),
        ("proxy.header.verify", "true", "false"),
        ("proxy.cidr", "10.0.5.10/32,10.0.5.11/32", ""),
        ("user.password.encoders.exclude", "MD5,LDAP,PLAINTEXT", ""),
        ("user.authenticators.exclude", "PLAINTEXT", ""),
        ("incorrect.login.attempts.allowed", "5", "5"),
        (
            "api.allowed.source.cidr.list",
            "192.0.2.0/24",
            "0.0.0.0/0,::/0",
        ),
        ("enable.secure.session.cookie", "true", "false"),
        ("enforce.post.requests.and.timestamps", "true", "false"),
        ("ca.plugin.root.auth.strictness", "true", "false"),
        ("ca.plugin.root.allow.expired.cert", "false", "true"),
        ("use.secret.key.in.response", "false", "false"),
        ("password.policy.minimum.length", "12", "0"),
    ] {
        let scope = if n.contains("2fa") { 64 } else { 1 };
        s += &row(n, Some(v), "Advanced", scope, Some(d));
    }
    s += &row(
        "network.loadbalancer.haproxy.stats.auth",
        Some(&v2(DB_KEY, "stats:Long-Random-1")),
        "Secure",
        0,
        None,
    );
    s += &row("security.singlesignon.key", None, "Secure", 0, None);
    s += &common_hidden();
    s += "UPDATE user SET is_user_2fa_enabled = 1 WHERE id = 2;\n";
    s
}

fn common_hidden() -> String {
    let mut s = String::new();
    s += &row(
        "ca.plugin.root.ca.certificate",
        Some(&v2(DB_KEY, &ca_pem())),
        "Hidden",
        1,
        None,
    );
    s += &row(
        "ca.plugin.root.private.key",
        Some(&v2(
            DB_KEY,
            &format!("-----BEGIN PRIVATE KEY-----\n{CANARY_PRIVKEY}\n-----END PRIVATE KEY-----\n"),
        )),
        "Hidden",
        1,
        None,
    );
    // A Hidden value stored in clear (as with encryption type none): still never shown.
    s += &row(
        "security.encryption.key",
        Some(CANARY_HIDDEN),
        "Hidden",
        1,
        None,
    );
    s += &row(
        "ssh.privatekey",
        Some(&v2(DB_KEY, CANARY_HIDDEN)),
        "Hidden",
        1,
        None,
    );
    s
}

fn insecure_sql() -> String {
    let mut s = String::new();
    for (n, v) in [
        ("api.throttling.enabled", "false"),
        ("enable.user.2fa", "true"),
        ("mandate.user.2fa", "false"),
        ("integration.api.port", "8096"),
        ("proxy.header.verify", "true"),
        ("proxy.cidr", "0.0.0.0/0"),
        ("user.password.encoders.exclude", "LDAP"),
        ("incorrect.login.attempts.allowed", "0"),
        ("ca.plugin.root.auth.strictness", "false"),
    ] {
        s += &row(n, Some(v), "Advanced", 1, None);
    }
    s += &row(
        "network.loadbalancer.haproxy.stats.auth",
        Some(&v2(DB_KEY, "admin1:AdMiN123")),
        "Secure",
        0,
        None,
    );
    s += &row(
        "cloudian.admin.password",
        Some("public"),
        "Advanced",
        1,
        Some("public"),
    );
    s += &row(
        "security.singlesignon.key",
        Some(&v2(DB_KEY, CANARY_HIDDEN)),
        "Secure",
        0,
        None,
    );
    s += &common_hidden();
    // Domains: two override 2FA, one of them off.
    s += "INSERT INTO domain (id, parent, name, uuid, path, level) VALUES (3, 1, 'lax', 'd-3', '/lax/', 1), (4, 1, 'strict', 'd-4', '/strict/', 1);\n";
    s += "INSERT INTO domain_details (domain_id, name, value) VALUES (3, 'enable.user.2fa', 'false'), (4, 'enable.user.2fa', 'true'), (3, 'mandate.user.2fa', 'false');\n";
    s += "INSERT INTO account (id, account_name, uuid, type, domain_id) VALUES (5, 'lax-admin', 'a-5', 2, 3);\n";
    s += "INSERT INTO account_details (account_id, name, value) VALUES (5, 'api.allowed.source.cidr.list', '0.0.0.0/0');\n";
    s += "INSERT INTO user (id, uuid, username, password, account_id, state) VALUES (7, 'u-7', 'laxadmin', 'x', 5, 'enabled');\n";
    s += "UPDATE user SET state = 'disabled' WHERE id = 2;\n";
    s
}

/// A rendered management-server tree: db.properties with ENC() values (password V2,
/// DB key V1) and the key file.
fn tree(db: &TestDb, password: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/cloudstack/management");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("key"), format!("{MS_KEY}\n")).unwrap();
    let dbkey_v1 = jasypt_free_v1(MS_KEY, DB_KEY);
    std::fs::write(
        d.join("db.properties"),
        format!(
            "db.cloud.host=127.0.0.1\ndb.cloud.port={}\ndb.cloud.name={}\ndb.cloud.username={}\n\
             db.cloud.password=ENC({})\ndb.cloud.encryption.type=file\ndb.cloud.encrypt.secret=ENC({dbkey_v1})\n\
             db.cloud.useSSL=false\n",
            db.port,
            db.name,
            db.user,
            v2(MS_KEY, password)
        ),
    )
    .unwrap();
    t
}

/// V1 encryption for test data (PBEWithMD5AndDES); proven against Jasypt itself in
/// tests/encryption_oracles.rs.
fn jasypt_free_v1(key: &str, pt: &str) -> String {
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
    let salt = [3u8, 1, 4, 1, 5, 9, 2, 6];
    let mut h = md5::Md5::new();
    md5::Digest::update(&mut h, key.as_bytes());
    md5::Digest::update(&mut h, salt);
    let mut dk: [u8; 16] = md5::Digest::finalize(h).into();
    for _ in 1..1000 {
        dk = <md5::Md5 as md5::Digest>::digest(dk).into();
    }
    let enc = cbc::Encryptor::<des::Des>::new_from_slices(&dk[..8], &dk[8..]).unwrap();
    let ct = enc.encrypt_padded_vec::<cbc::cipher::block_padding::Pkcs7>(pt.as_bytes());
    let mut out = salt.to_vec();
    out.extend(ct);
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_stackposture")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut c = Command::new(bin());
    c.args(args).env_remove("CLOUD_SECRET_KEY");
    for (k, v) in envs {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn outcome(report: &Value, id: &str) -> String {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result {id}"))["outcome"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_no_leak(texts: &[&str], secrets: &[&str]) {
    for t in texts {
        for s in secrets {
            assert!(
                !t.contains(s),
                "secret {s:?} leaked into output:\n{}",
                &t[..t.len().min(3000)]
            );
        }
    }
}

/// Collect + audit (JSON and table) through the binary; returns (facts, report).
fn audit_all(root: &Path, secrets: &[&str]) -> (Value, Value, i32) {
    let r = root.to_str().unwrap();
    let facts = run(&["collect", "--root", r, "--db-timeout", "5"], &[]);
    let json = run(
        &[
            "audit",
            "--root",
            r,
            "--format",
            "json",
            "--as-of",
            "2026-11-28",
        ],
        &[],
    );
    let table = run(
        &[
            "audit", "--root", r, "--format", "table", "--color", "never",
        ],
        &[],
    );
    assert_no_leak(
        &[
            &facts.stdout,
            &facts.stderr,
            &json.stdout,
            &json.stderr,
            &table.stdout,
            &table.stderr,
        ],
        secrets,
    );
    assert_eq!(facts.code, 0, "{}", facts.stderr);
    (
        serde_json::from_str(&facts.stdout).unwrap(),
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stderr)),
        json.code,
    )
}

#[test]
fn secure_deployment_full_audit() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    m.sql(Some(&db.name), &secure_sql());
    let t = tree(&db, &db.password);
    let secrets = [
        CANARY_HIDDEN,
        CANARY_PRIVKEY,
        db.password.as_str(),
        MS_KEY,
        DB_KEY,
        "Long-Random-1",
    ];
    let (facts, report, _) = audit_all(t.path(), &secrets);
    assert_eq!(
        facts["sources"]["db"]["status"], "ok",
        "{}",
        facts["sources"]
    );
    assert_eq!(facts["facts"]["cs.version"]["value"], "4.22.0.0");
    assert_eq!(
        facts["facts"]["cs.setting.enable.user.2fa"]["value"],
        "true"
    );
    assert_eq!(
        facts["facts"]["cs.setting_info.enable.user.2fa"]["value"]["scope"]["names"],
        serde_json::json!(["Domain"])
    );
    // ENC() values were decrypted in memory: secret facts can say known_default.
    let pw = &facts["facts"]["secret.db.db.cloud.password"]["value"];
    assert_eq!(pw["decrypted"], "V2");
    assert_eq!(pw["known_default"], false);
    assert_eq!(
        facts["facts"]["secret.db.db.cloud.encrypt.secret"]["value"]["decrypted"],
        "V1"
    );
    // The Root CA certificate (Hidden, DB-key encrypted) is available as PEM.
    let pem = facts["facts"]["cs.root_ca.certificate_pem"]["value"]
        .as_str()
        .unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(facts["facts"]
        .get("cs.setting.ca.plugin.root.private.key")
        .is_none());
    for id in [
        "CS-SET-001",
        "CS-SET-002",
        "CS-SET-003",
        "CS-SET-004",
        "CS-SET-005",
        "CS-SET-006",
        "CS-SET-008",
        "CS-SET-009",
        "CS-SET-010",
        "CS-SET-011",
        "CS-SET-012",
        "CS-SET-013",
        "CS-SET-014",
        "CS-SET-015",
        "CS-SET-016",
        "CS-SET-017",
        "CS-SET-018",
        "CS-SET-019",
        "CS-SET-022",
        "CS-SET-023",
        "CS-SET-025",
        "CS-SET-026",
        "CS-DBS-002",
        "CS-DBP-002",
        "CS-DBP-003",
        "CS-DBP-004",
    ] {
        assert_eq!(
            outcome(&report, id),
            "pass",
            "{id}: {}",
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .unwrap()
        );
    }
    // The test account may not read mysql.user: the account in use decides (issue 11
    // item 5): u@127.0.0.1 is not usable from any host.
    assert_eq!(outcome(&report, "CS-DBS-001"), "pass");
    assert_eq!(
        facts["facts"]["dbserver.user_any_host"]["source"],
        "db:server:CURRENT_USER()"
    );
}

#[test]
fn insecure_deployment_full_audit_and_domain_overrides() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    m.sql(Some(&db.name), &insecure_sql());
    let t = tree(&db, &db.password);
    let secrets = [
        CANARY_HIDDEN,
        CANARY_PRIVKEY,
        db.password.as_str(),
        MS_KEY,
        DB_KEY,
    ];
    let (facts, report, code) = audit_all(t.path(), &secrets);
    assert_eq!(code, 1, "findings give exit code 1");
    let o = &facts["facts"]["cs.domain_override.enable.user.2fa"]["value"];
    assert_eq!(
        (o["count"].as_i64(), o["false_count"].as_i64()),
        (Some(2), Some(1)),
        "{o}"
    );
    assert!(o["sample"].to_string().contains("/lax/"), "{o}");
    let a = &facts["facts"]["cs.account_override.api.allowed.source.cidr.list"]["value"];
    assert_eq!(a["values"]["0.0.0.0/0"], 1, "{a}");
    let admins = &facts["facts"]["cs.admin_users_without_2fa"]["value"];
    assert_eq!(admins["count"], 1, "{admins}");
    assert_eq!(admins["users"][0]["username"], "laxadmin");
    assert_eq!(admins["users"][0]["role"], "domain_admin");
    assert_eq!(facts["facts"]["cs.user2.state"]["value"], "disabled");
    for id in [
        "CS-SET-001",
        "CS-SET-005",
        "CS-SET-006",
        "CS-SET-008",
        "CS-SET-009",
        "CS-SET-010",
        "CS-SET-011",
        "CS-SET-012",
        "CS-SET-013",
        "CS-SET-017",
        "CS-SET-019",
        "CS-SET-021",
        "CS-SET-022",
        "CS-SET-023",
    ] {
        assert_eq!(outcome(&report, id), "fail", "{id}");
    }
}

fn opts(root: &Path, url: Option<String>, pw: Option<&str>, timeout: u64) -> CollectOptions {
    CollectOptions {
        root: root.to_path_buf(),
        db: DbOptions {
            url,
            password: pw.map(|p| SecretString::new(p.to_string())),
            connect_timeout: Duration::from_secs(timeout),
            query_timeout: Duration::from_secs(timeout),
            ..DbOptions::default()
        },
        ..CollectOptions::default()
    }
}

fn ns_reason(f: &Facts, key: &str) -> (MissingReason, String) {
    let fact = f.get(key).expect("namespace declared");
    let m = fact.missing.clone().expect("missing");
    (m.reason, m.detail)
}

#[test]
fn db_down_is_unknown_with_reason() {
    let t = tempfile::tempdir().unwrap();
    let port = mariadb::free_port();
    let c = collect::collect(&opts(
        t.path(),
        Some(format!("mysql://cloud@127.0.0.1:{port}/cloud")),
        Some("Pw-canary-down-1"),
        2,
    ));
    let (r, d) = ns_reason(&c.facts, "cs.setting.api.throttling.enabled");
    assert_eq!(r, MissingReason::Error);
    assert!(d.contains("cannot reach the database"), "{d}");
    assert!(!c.facts.to_json().contains("Pw-canary-down-1"));
}

#[test]
fn silent_server_times_out() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let c = collect::collect(&opts(
        t.path(),
        Some(format!("mysql://cloud@127.0.0.1:{port}/cloud")),
        Some("x"),
        1,
    ));
    assert!(start.elapsed() < Duration::from_secs(5));
    let (r, _) = ns_reason(&c.facts, "cs.setting.enable.user.2fa");
    assert_eq!(r, MissingReason::Timeout);
    drop(l);
}

#[test]
fn wrong_password_is_permission_denied_and_never_printed() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    let t = tree(&db, "Wrong-canary-Pw-4242");
    let c = collect::collect(&opts(t.path(), None, None, 5));
    let (r, d) = ns_reason(&c.facts, "cs.setting.enable.user.2fa");
    assert_eq!(r, MissingReason::PermissionDenied, "{d}");
    assert!(d.contains("1045"), "{d}");
    // And through the binary: the report names the reason, nothing leaks.
    let out = run(
        &[
            "audit",
            "--root",
            t.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_no_leak(
        &[&out.stdout, &out.stderr, &c.facts.to_json()],
        &["Wrong-canary-Pw-4242", MS_KEY],
    );
    let rep: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outcome(&rep, "CS-SET-004"), "unknown");
    // A password given through the environment overrides db.properties.
    let out = run(
        &[
            "collect",
            "--root",
            t.path().to_str().unwrap(),
            "--db-password-env",
            "SP_TEST_PW",
        ],
        &[("SP_TEST_PW", &db.password)],
    );
    let f: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(f["sources"]["db"]["status"], "ok", "{}", f["sources"]);
    assert!(!out.stdout.contains(&db.password));
}

#[test]
fn password_in_db_url_is_refused() {
    let out = run(
        &[
            "collect",
            "--root",
            "/",
            "--db-url",
            "mysql://cloud:Sekr1t@127.0.0.1/cloud",
        ],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        !out.stderr.contains("Sekr1t") && out.stderr.contains("password"),
        "{}",
        out.stderr
    );
}

#[test]
fn not_cloudstack_schema_is_unsupported() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db("CREATE TABLE foo (id int);");
    let t = tempfile::tempdir().unwrap();
    let c = collect::collect(&opts(t.path(), Some(db.url()), Some(&db.password), 5));
    let (r, d) = ns_reason(&c.facts, "cs.setting.enable.user.2fa");
    assert_eq!(r, MissingReason::Unsupported);
    assert!(d.contains("not a CloudStack"), "{d}");
}

#[test]
fn old_schema_4_11_is_read() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_411);
    m.sql(
        Some(&db.name),
        "INSERT INTO configuration (category, instance, name, value, default_value, scope, is_dynamic) VALUES \
         ('Advanced', 'DEFAULT', 'enable.user.2fa', NULL, 'false', 'Domain', 1), \
         ('Advanced', 'DEFAULT', 'api.throttling.enabled', 'true', NULL, NULL, 0);\
         INSERT INTO domain_details (domain_id, name, value) VALUES (1, 'enable.user.2fa', NULL);",
    );
    let t = tempfile::tempdir().unwrap();
    let c = collect::collect(&opts(t.path(), Some(db.url()), Some(&db.password), 5));
    let f = &c.facts;
    assert_eq!(f.sources["db"].status, "ok", "{:?}", f.sources);
    assert_eq!(
        f.get("cs.version").unwrap().value,
        Some(Value::from("4.11.3.0"))
    );
    // value NULL: default_value is the effective value.
    assert_eq!(
        f.get("cs.setting.enable.user.2fa").unwrap().value,
        Some(Value::from("false"))
    );
    assert_eq!(
        f.get("cs.setting_info.enable.user.2fa")
            .unwrap()
            .into_owned()
            .value
            .unwrap()["scope"],
        Value::from("Domain")
    );
    assert_eq!(
        f.get("cs.setting.api.throttling.enabled").unwrap().value,
        Some(Value::from("true"))
    );
    // Absent row, namespace complete: known absent.
    assert_eq!(
        f.get("cs.setting.mandate.user.2fa")
            .unwrap()
            .into_owned()
            .missing
            .unwrap()
            .reason,
        MissingReason::Absent
    );
    // No 2FA columns before 4.18: unknown, not pass.
    assert_eq!(
        f.get("cs.admin_users_without_2fa")
            .unwrap()
            .into_owned()
            .missing
            .unwrap()
            .reason,
        MissingReason::Unsupported
    );
    assert_eq!(
        f.get("cs.user2.state").unwrap().value,
        Some(Value::from("disabled"))
    );
    let o = f
        .get("cs.domain_override.enable.user.2fa")
        .unwrap()
        .into_owned()
        .value
        .unwrap();
    assert_eq!(o["false_count"], 1);
}

#[test]
fn settings_from_offline_exports() {
    let t = tempfile::tempdir().unwrap();
    let cmk = t.path().join("cmk.json");
    std::fs::write(
        &cmk,
        format!(r#"{{"count": 3, "configuration": [
          {{"name": "enable.user.2fa", "value": "true", "category": "Advanced", "isdynamic": true, "scope": "domain"}},
          {{"name": "integration.api.port", "value": "8096", "category": "Advanced"}},
          {{"name": "security.singlesignon.key", "value": "{CANARY_HIDDEN}", "category": "Secure"}}]}}"#),
    )
    .unwrap();
    let raw = t.path().join("raw.json");
    let text = std::fs::read_to_string(&cmk).unwrap();
    std::fs::write(&raw, format!("{{\"listconfigurationsresponse\": {text}}}")).unwrap();
    for f in [&cmk, &raw] {
        let out = run(
            &[
                "audit",
                "--root",
                t.path().to_str().unwrap(),
                "--settings-export",
                f.to_str().unwrap(),
                "--format",
                "json",
            ],
            &[],
        );
        assert_no_leak(&[&out.stdout, &out.stderr], &[CANARY_HIDDEN]);
        let rep: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(outcome(&rep, "CS-SET-004"), "pass");
        assert_eq!(outcome(&rep, "CS-SET-009"), "fail");
        assert_eq!(outcome(&rep, "CS-SET-023"), "fail");
        assert_eq!(rep["sources"]["export"]["status"], "ok");
        // DB-only facts are unknown, naming the export as the reason.
        assert_eq!(outcome(&rep, "CS-SET-008"), "unknown");
        let facts = run(
            &[
                "collect",
                "--root",
                t.path().to_str().unwrap(),
                "--settings-export",
                f.to_str().unwrap(),
            ],
            &[],
        );
        let fv: Value = serde_json::from_str(&facts.stdout).unwrap();
        assert!(fv["facts"]["cs.setting.enable.user.2fa"]["source"]
            .as_str()
            .unwrap()
            .starts_with("export:"));
    }
}

/// Issue 10 item 7 (DB parts): a NULL value with a NULL default is the product default
/// (never empty, so a NULL api.allowed.source.cidr.list does not pass), a credential-named
/// setting with a boolean default is never printed, and `password1=`/`password2=` and
/// userinfo passwords holding `@` or `/` in db.properties URLs are redacted everywhere.
#[test]
fn null_defaults_boolean_secret_names_and_url_passwords() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    let mut sql = row("api.allowed.source.cidr.list", None, "Advanced", 1, None);
    sql += &row(
        "api.source.cidr.checks.enabled",
        Some("true"),
        "Advanced",
        1,
        Some("true"),
    );
    sql += &row(
        "some.plugin.password",
        Some("Canary-BoolDefault-61"),
        "Advanced",
        1,
        Some("false"),
    );
    m.sql(Some(&db.name), &sql);
    let t = tree(&db, &db.password);
    let props = t.path().join("etc/cloudstack/management/db.properties");
    let mut text = std::fs::read_to_string(&props).unwrap();
    text += "db.usage.uri=jdbc:mysql://usage:p@ss/w0rd-Canary-U1@127.0.0.1:3306/cloud_usage?password1=Canary-P1&password2=Canary-P2&useSSL=false\n";
    std::fs::write(&props, text).unwrap();
    let secrets = [
        "Canary-BoolDefault-61",
        "w0rd-Canary-U1",
        "Canary-U1",
        "Canary-P1",
        "Canary-P2",
        db.password.as_str(),
    ];
    let (facts, report, _) = audit_all(t.path(), &secrets);
    let f = &facts["facts"];
    assert!(
        f["cs.setting.api.allowed.source.cidr.list"]["value"].is_null(),
        "{}",
        f["cs.setting.api.allowed.source.cidr.list"]
    );
    assert_eq!(
        f["cs.setting.api.allowed.source.cidr.list"]["missing"]["reason"],
        "absent"
    );
    assert_ne!(outcome(&report, "CS-SET-014"), "pass");
    assert!(f.get("cs.setting.some.plugin.password").is_none());
    assert_eq!(
        f["cs.setting_secret.some.plugin.password"]["value"]["present"],
        true
    );
    let uri = f["props.db.db.usage.uri"]["value"].as_str().unwrap();
    assert!(
        uri.contains("useSSL=false") && uri.contains("127.0.0.1"),
        "{uri}"
    );
}

/// `cs.mshost` (the live management servers, for the fleet view) and determinism: two
/// collections of the same state give identical bytes (no timings, issue 12).
#[test]
fn mshost_rows_and_identical_bytes() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    // Columns as in setup/db/create-schema.sql (CloudStack).
    m.sql(
        Some(&db.name),
        "CREATE TABLE mshost (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, \
           msid bigint unsigned NOT NULL UNIQUE, runid bigint NOT NULL DEFAULT 0, \
           name varchar(255), uuid varchar(40), state varchar(10) NOT NULL DEFAULT 'Down', \
           version varchar(255), service_ip char(40) NOT NULL, service_port integer NOT NULL, \
           last_update DATETIME, removed datetime, alert_count integer NOT NULL DEFAULT 0);\n\
         INSERT INTO mshost (msid, name, state, version, service_ip, service_port, last_update, removed) VALUES \
           (240518, 'ms1', 'Up', '4.22.0.0', '10.0.0.11', 9090, '2026-11-28 10:00:00', NULL), \
           (240519, 'ms2', 'Down', '4.20.1.0', '10.0.0.12', 9090, '2026-11-01 09:00:00', '2026-11-02 00:00:00');",
    );
    let r = db.url();
    let root = tempfile::tempdir().unwrap();
    let args = [
        "collect",
        "--root",
        root.path().to_str().unwrap(),
        "--db-url",
        r.as_str(),
        "--db-password-env",
        "SP_TEST_PW",
        "--host-state",
        "never",
    ];
    let a = run(&args, &[("SP_TEST_PW", &db.password)]);
    let b = run(&args, &[("SP_TEST_PW", &db.password)]);
    assert!(a.code == 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout, "two collections differ");
    let f: Value = serde_json::from_str(&a.stdout).unwrap();
    let ms = &f["facts"]["cs.mshost"]["value"];
    assert_eq!(
        ms,
        &serde_json::json!([{"msid": 240518, "name": "ms1", "service_ip": "10.0.0.11",
            "version": "4.22.0.0", "state": "Up", "last_update": "2026-11-28T10:00:00Z"}]),
        "{}",
        f["facts"]["cs.mshost"]
    );
    // A schema without the table: unknown with the reason, not an empty list.
    let db2 = m.new_db(SCHEMA_422);
    let c = collect::collect(&opts(root.path(), Some(db2.url()), Some(&db2.password), 5));
    let fact = c.facts.get("cs.mshost").unwrap();
    assert!(fact.value.is_none());
    assert!(
        fact.missing.as_ref().unwrap().detail.contains("mshost"),
        "{fact:?}"
    );
}
