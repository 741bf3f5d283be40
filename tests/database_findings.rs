//! Issue 11 items 3, 4, 5 and 7 against the private MariaDB (tests/common/mariadb.rs):
//! findings name each domain (path), account (domain path + name) and user concerned in
//! every output format, escaped; overrides that weaken the global value (and a narrower
//! per-account allow-list that passes); the DB account's privileges from SHOW GRANTS for a
//! narrow and a broad account that cannot read mysql.user; V1 (Jasypt) ciphertexts in the
//! configuration table; the management-server key equal to the installer default.

mod common;

use common::cipher::{jasypt_v1, v2};
use common::mariadb::{self, TestDb, SCHEMA_422};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DB_KEY: &str = "db-key-Hw7#long";

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn row(name: &str, value: &str, cat: &str) -> String {
    format!(
        "INSERT INTO configuration (category, instance, component, name, value, scope, is_dynamic, updated) \
         VALUES ({}, 'DEFAULT', 'test', {}, {}, 1, 1, NOW());\n",
        q(cat),
        q(name),
        q(value)
    )
}

/// A management-server tree for `user`/`password` on the test server; the MS key file
/// holds `ms_key`.
fn tree(db: &TestDb, user: &str, password: &str, ms_key: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/cloudstack/management");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("key"), format!("{ms_key}\n")).unwrap();
    std::fs::write(
        d.join("db.properties"),
        format!(
            "db.cloud.host=127.0.0.1\ndb.cloud.port={}\ndb.cloud.name={}\ndb.cloud.username={user}\n\
             db.cloud.password=ENC({})\ndb.cloud.encryption.type=file\ndb.cloud.encrypt.secret=ENC({})\n\
             db.cloud.useSSL=false\n",
            db.port,
            db.name,
            v2(ms_key, password),
            v2(ms_key, DB_KEY),
        ),
    )
    .unwrap();
    t
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_stackposture"))
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

fn audit(root: &Path, format: &str) -> Run {
    run(&[
        "audit",
        "--root",
        root.to_str().unwrap(),
        "--format",
        format,
        "--color",
        "never",
        "--host-state",
        "never",
        "--as-of",
        "2026-11-28",
    ])
}

fn collect(root: &Path) -> Value {
    let r = run(&[
        "collect",
        "--root",
        root.to_str().unwrap(),
        "--db-timeout",
        "5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result {id}"))
}

fn outcome(report: &Value, id: &str) -> String {
    result(report, id)["outcome"].as_str().unwrap().to_string()
}

fn json_report(root: &Path) -> Value {
    let r = audit(root, "json");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

/// Domains, accounts and users that the findings must name. `ROOT/evil...` carries a
/// terminal escape that must never reach a terminal raw.
fn named_sql() -> String {
    let mut s = String::new();
    s += &row("enable.user.2fa", "true", "Advanced");
    s += &row("api.allowed.source.cidr.list", "10.0.0.0/8", "Advanced");
    s += "INSERT INTO domain (id, parent, name, uuid, path, level) VALUES \
          (3, 1, 'lax', 'd-3', '/eng/lax/', 2), (4, 1, 'evil', 'd-4', '/evil\x1b]0;owned\x07/', 1);\n";
    s += "INSERT INTO domain_details (domain_id, name, value) VALUES \
          (3, 'enable.user.2fa', 'false'), (4, 'enable.user.2fa', 'false');\n";
    s += "INSERT INTO account (id, account_name, uuid, type, domain_id) VALUES \
          (5, 'wideacct', 'a-5', 2, 3), (6, 'narrowacct', 'a-6', 0, 3);\n";
    s += "INSERT INTO account_details (account_id, name, value) VALUES \
          (5, 'api.allowed.source.cidr.list', '0.0.0.0/0'), (6, 'api.allowed.source.cidr.list', '10.1.0.0/16');\n";
    s += "INSERT INTO user (id, uuid, username, password, account_id, state) VALUES \
          (7, 'u-7', 'laxadmin', 'x', 5, 'enabled');\n";
    s
}

#[test]
fn findings_name_domains_accounts_and_users_in_every_format() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    m.sql(Some(&db.name), &named_sql());
    let t = tree(&db, &db.user, &db.password, "ms-key-Tq4!long");
    let facts = collect(t.path());
    let o = &facts["facts"]["cs.domain_override.enable.user.2fa"]["value"];
    assert_eq!(o["names"]["false_count"]["total"], 2, "{o}");
    let report = json_report(t.path());
    assert_eq!(outcome(&report, "CS-SET-006"), "fail");
    assert_eq!(outcome(&report, "CS-SET-008"), "fail");
    assert_eq!(outcome(&report, "CS-SCOPE-001"), "fail");
    // The JSON result carries the names with the observation.
    let named = result(&report, "CS-SCOPE-001")["evidence"]["observed"].to_string();
    assert!(
        named.contains("account wideacct in ROOT/eng/lax (uuid a-5)"),
        "{named}"
    );
    assert!(
        !named.contains("narrowacct"),
        "a narrower list is not a weakening: {named}"
    );
    let wanted = [
        "ROOT/eng/lax (uuid d-3)",
        "account wideacct in ROOT/eng/lax (uuid a-5)",
        "user laxadmin of account wideacct in ROOT/eng/lax",
    ];
    for format in ["table", "json", "sarif", "junit", "html", "csv", "markdown"] {
        let r = audit(t.path(), format);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        for w in wanted {
            assert!(r.stdout.contains(w), "{format} does not name {w:?}");
        }
        // The hostile domain path is named, escaped: no raw ESC or BEL in any format.
        assert!(
            !r.stdout.contains('\x1b') && !r.stdout.contains('\x07'),
            "{format} passed a terminal escape through"
        );
        assert!(r.stdout.contains("ROOT/evil"), "{format}");
    }
    // Prometheus: no names in labels, the number of items per failing check.
    let r = audit(t.path(), "prometheus");
    assert!(!r.stdout.contains("wideacct") && !r.stdout.contains("ROOT/"));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("stackposture_check_items{")
                && l.contains("check=\"CS-SET-006\"")
                && l.ends_with(" 2")),
        "{}",
        r.stdout
    );
}

#[test]
fn more_than_twenty_are_named_up_to_the_limit_then_counted() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    let mut s = row("enable.user.2fa", "true", "Advanced");
    for i in 0..25 {
        s += &format!(
            "INSERT INTO domain (id, parent, name, uuid, path, level) VALUES ({}, 1, 'd{i}', 'd-{i}', '/t{i:02}/', 1);\n\
             INSERT INTO domain_details (domain_id, name, value) VALUES ({}, 'enable.user.2fa', 'false');\n",
            100 + i,
            100 + i
        );
    }
    m.sql(Some(&db.name), &s);
    let t = tree(&db, &db.user, &db.password, "ms-key-Tq4!long");
    let r = audit(t.path(), "table");
    assert!(r.stdout.contains("ROOT/t00 (uuid d-0)"), "{}", r.stdout);
    assert!(r.stdout.contains("ROOT/t19 (uuid d-19)"));
    assert!(!r.stdout.contains("ROOT/t20 (uuid"));
    assert!(r.stdout.contains("and 5 more (total 25)"), "{}", r.stdout);
}

fn weakening_sql(narrow: bool) -> String {
    let mut s = String::new();
    for (n, v) in [
        ("api.allowed.source.cidr.list", "10.0.0.0/8,2001:db8::/32"),
        ("password.policy.minimum.length", "12"),
        ("password.policy.allowPasswordToContainUsername", "false"),
        ("user.2fa.default.provider", "totp"),
    ] {
        s += &row(n, v, "Advanced");
    }
    s += "INSERT INTO domain (id, parent, name, uuid, path, level) VALUES (3, 1, 'ten', 'd-3', '/tenant/', 1);\n";
    s += "INSERT INTO account (id, account_name, uuid, type, domain_id) VALUES (5, 'ops', 'a-5', 0, 3);\n";
    let (cidr, len, allow, prov) = if narrow {
        ("10.1.0.0/16,2001:db8:1::/48", "16", "false", "totp")
    } else {
        ("192.0.2.0/24", "8", "true", "staticpin")
    };
    s += &format!(
        "INSERT INTO account_details (account_id, name, value) VALUES (5, 'api.allowed.source.cidr.list', '{cidr}');\n\
         INSERT INTO domain_details (domain_id, name, value) VALUES (3, 'password.policy.minimum.length', '{len}'), \
         (3, 'password.policy.allowPasswordToContainUsername', '{allow}'), (3, 'user.2fa.default.provider', '{prov}');\n"
    );
    s
}

#[test]
fn overrides_that_weaken_the_global_value_fail_narrower_ones_pass() {
    let Some(m) = mariadb::server() else { return };
    for narrow in [true, false] {
        let db = m.new_db(SCHEMA_422);
        m.sql(Some(&db.name), &weakening_sql(narrow));
        let t = tree(&db, &db.user, &db.password, "ms-key-Tq4!long");
        let report = json_report(t.path());
        let want = if narrow { "pass" } else { "fail" };
        for (id, name) in [
            (
                "CS-SCOPE-001",
                "account ops in ROOT/tenant (uuid a-5) = 192.0.2.0/24",
            ),
            (
                "CS-SCOPE-002",
                "ROOT/tenant (uuid d-3) = 8 (minimum length 8 < global 12)",
            ),
            ("CS-SCOPE-003", "ROOT/tenant (uuid d-3) = true"),
            ("CS-SCOPE-004", "ROOT/tenant (uuid d-3) = staticpin"),
        ] {
            let r = result(&report, id);
            assert_eq!(r["outcome"], want, "{id} narrow={narrow}: {r}");
            if !narrow {
                assert!(r["evidence"].to_string().contains(name), "{id}: {r}");
            }
        }
    }
}

#[test]
fn db_account_privileges_from_show_grants_without_mysql_user() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    let n = &db.name;
    let (narrow, broad) = (format!("{}_n", db.user), format!("{}_b", db.user));
    m.sql(
        None,
        &format!(
            "CREATE USER '{narrow}'@'127.0.0.1' IDENTIFIED BY 'Narrow-pw-1'; \
             GRANT ALL ON `{n}`.* TO '{narrow}'@'127.0.0.1'; \
             CREATE USER '{broad}'@'%' IDENTIFIED BY 'Broad-pw-1'; \
             GRANT PROCESS, FILE ON *.* TO '{broad}'@'%'; \
             GRANT ALL ON `{n}`.* TO '{broad}'@'%' WITH GRANT OPTION;"
        ),
    );
    // Narrow: decided (pass), not unknown, although mysql.user is not readable.
    let t = tree(&db, &narrow, "Narrow-pw-1", "ms-key-Tq4!long");
    let facts = collect(t.path());
    assert_eq!(
        facts["facts"]["dbserver.user_hosts"]["missing"]["reason"], "permission_denied",
        "{}",
        facts["facts"]["dbserver.user_hosts"]
    );
    let report = json_report(t.path());
    for id in ["CS-DBS-001", "CS-DBS-002", "CS-DBS-004"] {
        assert_eq!(
            outcome(&report, id),
            "pass",
            "{id}: {}",
            result(&report, id)
        );
    }
    // Broad: each privilege named, the '%' host flagged.
    let t = tree(&db, &broad, "Broad-pw-1", "ms-key-Tq4!long");
    let facts = collect(t.path());
    assert_eq!(
        facts["facts"]["dbserver.user_hosts"]["missing"]["reason"], "permission_denied",
        "FILE and PROCESS give no read access to mysql.user"
    );
    assert_eq!(
        facts["facts"]["dbserver.current_user"]["value"]["host"],
        "%"
    );
    let report = json_report(t.path());
    for id in ["CS-DBS-001", "CS-DBS-002", "CS-DBS-004"] {
        assert_eq!(
            outcome(&report, id),
            "fail",
            "{id}: {}",
            result(&report, id)
        );
    }
    let ev = result(&report, "CS-DBS-002")["evidence"].to_string();
    assert!(
        ev.contains("FILE on *.*") && ev.contains("GRANT OPTION on"),
        "{ev}"
    );
    let table = audit(t.path(), "table").stdout;
    assert!(table.contains("  - FILE on *.*"), "{table}");
    assert!(!table.contains("Broad-pw-1") && !ev.contains("Broad-pw-1"));
}

#[test]
fn v1_secure_settings_in_an_upgraded_database_fail_cs_sec_004() {
    let Some(m) = mariadb::server() else { return };
    let Some(v1_sso) = jasypt_v1(DB_KEY, "CANARY-sso-5512") else {
        return;
    };
    let Some(v1_ldap) = jasypt_v1(DB_KEY, "CANARY-ldap-7781") else {
        return;
    };
    let mut results = Vec::new();
    for upgraded in [true, false] {
        let db = m.new_db(SCHEMA_422);
        let (a, b) = if upgraded {
            (v1_sso.clone(), v1_ldap.clone())
        } else {
            (
                v2(DB_KEY, "CANARY-sso-5512"),
                v2(DB_KEY, "CANARY-ldap-7781"),
            )
        };
        let mut s = row("security.singlesignon.key", &a, "Secure");
        s += &row("ldap.bind.password", &b, "Secure");
        m.sql(Some(&db.name), &s);
        let t = tree(&db, &db.user, &db.password, "ms-key-Tq4!long");
        let facts = collect(t.path());
        let c = &facts["facts"]["cs.setting_ciphers"]["value"];
        let table = audit(t.path(), "table").stdout;
        for canary in [
            "CANARY-sso-5512",
            "CANARY-ldap-7781",
            DB_KEY,
            "ms-key-Tq4!long",
        ] {
            assert!(!facts.to_string().contains(canary) && !table.contains(canary));
        }
        results.push((
            c.clone(),
            outcome(&json_report(t.path()), "CS-SEC-004"),
            table,
        ));
    }
    let (c, o, table) = &results[0];
    assert_eq!(
        (c["v1"].as_u64(), c["v2"].as_u64()),
        (Some(2), Some(0)),
        "{c}"
    );
    assert_eq!(o, "fail");
    assert!(table.contains("  - security.singlesignon.key"), "{table}");
    let (c, o, _) = &results[1];
    assert_eq!(
        (c["v1"].as_u64(), c["v2"].as_u64()),
        (Some(0), Some(2)),
        "{c}"
    );
    assert_eq!(o, "pass");
}

#[test]
fn management_server_key_equal_to_the_installer_default() {
    let Some(m) = mariadb::server() else { return };
    let db = m.new_db(SCHEMA_422);
    for (key, want) in [("password", "fail"), ("CANARY-mskey-4471", "pass")] {
        let t = tree(&db, &db.user, &db.password, key);
        let facts = collect(t.path());
        let f = &facts["facts"]["secret.ms_key"]["value"];
        assert_eq!(f["known_default"], want == "fail", "{f}");
        let report = audit(t.path(), "json");
        let table = audit(t.path(), "table");
        for text in [&report.stdout, &report.stderr, &table.stdout, &table.stderr] {
            assert!(!text.contains("CANARY-mskey-4471"), "MS key leaked");
        }
        assert!(!facts.to_string().contains("CANARY-mskey-4471"));
        let report: Value = serde_json::from_str(&report.stdout).unwrap();
        assert_eq!(outcome(&report, "CS-SEC-007"), want);
    }
    // CLOUD_SECRET_KEY in the service's environment file (encryption type env).
    let t = tree(&db, &db.user, &db.password, "password");
    let d = t.path().join("etc/cloudstack/management");
    let props = std::fs::read_to_string(d.join("db.properties"))
        .unwrap()
        .replace("encryption.type=file", "encryption.type=env");
    std::fs::write(d.join("db.properties"), props).unwrap();
    std::fs::remove_file(d.join("key")).unwrap();
    std::fs::create_dir_all(t.path().join("etc/default")).unwrap();
    std::fs::write(
        t.path().join("etc/default/cloudstack-management"),
        "JAVA_OPTS=\"-Xmx2G\"\nCLOUD_SECRET_KEY=\"password\"\n",
    )
    .unwrap();
    let facts = collect(t.path());
    let f = &facts["facts"]["secret.ms_key"];
    assert_eq!(f["value"]["known_default"], true, "{f}");
    assert_eq!(outcome(&json_report(t.path()), "CS-SEC-007"), "fail");
}
