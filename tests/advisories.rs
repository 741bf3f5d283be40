//! The advisory feed end to end: an EL tree whose RPM database is made by the real `rpm`
//! tool (sqlite backend), the CLI with `--advisories` and `--catalog` feeds (one that adds
//! an advisory, one older than the warning age), and advisory workarounds read from real
//! rows of a private MariaDB (`tests/common/mariadb.rs`).
//!
//! Needs: `rpm` and `rpmbuild` (apt-get install rpm), `mariadbd` (apt-get install
//! mariadb-server). Missing: a loud SKIP, or a failure when CI is set.

mod common;

use common::tree::put;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// An EL9-style tree: an sqlite rpmdb at /var/lib/rpm holding cloudstack-management and
/// cloudstack-common (written by `rpm --justdb`), and the management jar.
fn el_tree(root: &Path, work: &Path, version: &str, jar: &str) {
    common::rpm::database(
        root,
        work,
        &[
            ("cloudstack-management", version, "1.el9"),
            ("cloudstack-common", version, "1.el9"),
        ],
    );
    put(
        root,
        &format!("usr/share/cloudstack-management/lib/cloudstack-{jar}.jar"),
        "jar",
        0o644,
        0,
        0,
    );
}

fn tools() -> bool {
    common::tool("rpm").is_some() && common::tool("rpmbuild").is_some()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(common::bin())
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn el_tree_rpm_database_made_by_rpm() {
    if !tools() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    el_tree(t.path(), work.path(), "4.20.3.0", "4.20.3.0");
    let fs = stackposture::rootfs::RootFs::new(t.path());
    let db = stackposture::collect::rpmdb::installed_packages(&fs).expect("rpmdb read");
    assert_eq!(db.path, "/var/lib/rpm/rpmdb.sqlite");
    let mut names: Vec<(String, String)> = db
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.evr()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("cloudstack-common".into(), "4.20.3.0-1.el9".into()),
            ("cloudstack-management".into(), "4.20.3.0-1.el9".into())
        ]
    );
    assert_eq!(db.unreadable, 0);

    let (code, out, err) = run(&[
        "collect",
        "--root",
        t.path().to_str().unwrap(),
        "--host-state",
        "never",
        "--no-db",
    ]);
    assert_eq!(code, 0, "{err}");
    let f: Value = serde_json::from_str(&out).unwrap();
    let v = |k: &str| f["facts"][k]["value"].clone();
    assert_eq!(v("pkg.rpm.cloudstack-management")["version"], "4.20.3.0");
    assert_eq!(v("pkg.rpm.cloudstack-management")["release"], "1.el9");
    assert!(f["facts"]["pkg.rpm.cloudstack-usage"]["missing"]["reason"] == "absent");
    assert_eq!(v("vuln.cloudstack.version")["version"], "4.20.3.0");
    // RPM and jar agree.
    assert_eq!(v("vuln.cloudstack.version_skew"), serde_json::json!([]));
    assert_eq!(
        v("vuln.cloudstack.installed")["pkg.rpm.cloudstack-management"],
        "4.20.3.0"
    );
    // 4.20.3.1 fixes the 2026-08-18 batch on this line.
    assert_eq!(v("vuln.cloudstack.upgrade_to"), "4.20.3.1");
    assert_eq!(v("vuln.cloudstack.fix_waiting_high")["since"], "2026-08-18");
}

#[test]
fn el_tree_with_skew_and_a_berkeleydb_tree() {
    if !tools() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    // The jar left behind by a partial upgrade: the RPM says 4.22.1.1.
    el_tree(t.path(), work.path(), "4.22.1.1", "4.20.3.0");
    let (_, out, _) = run(&[
        "collect",
        "--root",
        t.path().to_str().unwrap(),
        "--host-state",
        "never",
        "--no-db",
    ]);
    let f: Value = serde_json::from_str(&out).unwrap();
    let skew = f["facts"]["vuln.cloudstack.version_skew"]["value"].clone();
    assert!(
        skew[0].as_str().unwrap().contains("RPM package (4.22.1.1)")
            && skew[0]
                .as_str()
                .unwrap()
                .contains("management jar (4.20.3.0)"),
        "{skew}"
    );
    assert_eq!(
        f["facts"]["vuln.cloudstack.version"]["value"]["version"],
        "4.20.3.0"
    );

    // EL8: a BerkeleyDB Packages file is reported unsupported, with the reason.
    let b = tempfile::tempdir().unwrap();
    put(b.path(), "var/lib/rpm/Packages", "\0\0\0\0bdb", 0o644, 0, 0);
    let fs = stackposture::rootfs::RootFs::new(b.path());
    let m = stackposture::collect::rpmdb::installed_packages(&fs).unwrap_err();
    assert_eq!(m.reason, stackposture::facts::MissingReason::Unsupported);
    assert!(m.detail.contains("BerkeleyDB"), "{}", m.detail);
    // A hostile rpmdb.sqlite: an error, no panic.
    put(
        b.path(),
        "var/lib/rpm/rpmdb.sqlite",
        "SQLite format 3\0garbage",
        0o644,
        0,
        0,
    );
    let m = stackposture::collect::rpmdb::installed_packages(&fs).unwrap_err();
    assert_eq!(m.reason, stackposture::facts::MissingReason::Error);
}

const EXTRA: &str = r#"
[feed]
date = "2026-11-20"
sources = ["test"]

[[advisory]]
id = "CVE-2099-0002"
severity = "critical"
affected = ["4.20.0.0-4.20.3.1", "4.21.0.0-4.22.1.1"]
fixed_in = ["4.20.3.2", "4.22.1.2"]
published = "2026-11-19"
source = "test"
"#;

fn results(report: &str) -> std::collections::BTreeMap<String, Value> {
    let r: Value = serde_json::from_str(report).unwrap();
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap().to_string(), x.clone()))
        .collect()
}

#[test]
fn cli_feeds_extend_replace_and_age() {
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "var/lib/dpkg/status",
        "Package: cloudstack-management\nStatus: install ok installed\nVersion: 4.22.1.1\n",
        0o644,
        0,
        0,
    );
    let root = t.path().to_str().unwrap();
    let feeds = tempfile::tempdir().unwrap();
    let extra = feeds.path().join("extra.toml");
    std::fs::write(&extra, EXTRA).unwrap();
    let audit = |more: &[&str], as_of: &str| {
        let mut a = vec![
            "audit",
            "--root",
            root,
            "--host-state",
            "never",
            "--no-db",
            "--format",
            "json",
            "--as-of",
            as_of,
        ];
        a.extend(more);
        run(&a)
    };
    // The built-in feed alone: 4.22.1.1 has no advisory with a fix; the feed is 86 days old.
    let (_, out, err) = audit(&[], "2026-11-28");
    let r = results(&out);
    assert_eq!(r["CS-VULN-001"]["outcome"], "pass", "{err}");
    assert_eq!(r["CS-VULN-007"]["outcome"], "pass");
    assert_eq!(
        r["CS-VULN-007"]["evidence"]["observed"][0]["value"], "2026-09-03",
        "the report names the feed's date"
    );
    assert_eq!(r["CS-VULN-008"]["outcome"], "pass");
    // Older than the warning age (90 days) on 2026-12-03.
    let (_, out, _) = audit(&[], "2026-12-03");
    assert_eq!(results(&out)["CS-VULN-007"]["outcome"], "fail");
    // A feed file that adds an advisory: matched, with the release on the same line.
    let x = extra.to_str().unwrap();
    let (code, out, _) = audit(&["--advisories", x], "2026-11-28");
    assert_eq!(code, 1);
    let r = results(&out);
    assert_eq!(r["CS-VULN-001"]["outcome"], "fail");
    assert_eq!(
        r["CS-VULN-001"]["evidence"]["observed"][0]["value"],
        serde_json::json!(["CVE-2099-0002 (critical; fixed in 4.22.1.2)"])
    );
    assert_eq!(r["CS-VULN-005"]["outcome"], "pass", "9 days: within 30");
    // The threshold is the profile's: 16 days passes production, fails strict (14 days).
    let (_, out, _) = audit(&["--advisories", x], "2026-12-05");
    assert_eq!(results(&out)["CS-VULN-005"]["outcome"], "pass");
    let (_, out, _) = audit(&["--advisories", x, "--profile", "strict"], "2026-12-05");
    assert_eq!(results(&out)["CS-VULN-005"]["outcome"], "fail");
    let (_, out, _) = audit(&["--advisories", x], "2026-12-25");
    let r = results(&out);
    assert_eq!(r["CS-VULN-005"]["outcome"], "fail", "36 days: past 30");
    // The finding's evidence: the date, each waiting fix, the release to upgrade to.
    let ev = r["CS-VULN-005"]["evidence"]["observed"].to_string();
    assert!(
        ev.contains("\"2026-11-19\"")
            && ev.contains("CVE-2099-0002 (fix 4.22.1.2 available since 2026-11-19)")
            && ev.contains("\"value\":\"4.22.1.2\""),
        "{ev}"
    );
    assert_eq!(r["CS-VULN-006"]["outcome"], "pass", "not yet 90");
    // The same file as --catalog DIR/checks/cloudstack/advisories.toml.
    let cat = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cat.path().join("checks/cloudstack")).unwrap();
    std::fs::write(cat.path().join("checks/cloudstack/advisories.toml"), EXTRA).unwrap();
    let (_, out, err) = audit(&["--catalog", cat.path().to_str().unwrap()], "2026-11-28");
    assert_eq!(results(&out)["CS-VULN-001"]["outcome"], "fail", "{err}");
    // A replacing feed that is old: its date is the feed's date.
    let old = feeds.path().join("old.toml");
    std::fs::write(
        &old,
        EXTRA
            .replace(
                "date = \"2026-11-20\"",
                "date = \"2025-01-01\"\nmode = \"replace\"",
            )
            .replace("2026-11-19", "2024-12-30"),
    )
    .unwrap();
    let (_, out, _) = audit(&["--advisories", old.to_str().unwrap()], "2026-11-28");
    let r = results(&out);
    assert_eq!(r["CS-VULN-007"]["outcome"], "fail");
    assert_eq!(
        r["CS-VULN-007"]["evidence"]["observed"][0]["value"],
        "2025-01-01"
    );
    // The replacing feed has no line rows: support status unknown, not a pass.
    assert_eq!(r["CS-VULN-008"]["outcome"], "unknown");
    // A broken feed: a usage error naming the file, exit 2.
    let bad = feeds.path().join("bad.toml");
    std::fs::write(&bad, EXTRA.replace("critical", "severe")).unwrap();
    let (code, _, err) = audit(&["--advisories", bad.to_str().unwrap()], "2026-11-28");
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml") && err.contains("unknown severity"),
        "{err}"
    );
}

/// Real rows: the role permissions deny the annotation APIs (CVE-2025-22828's interim
/// step) and user.vm.denied.details lists proxmox_vmid (CVE-2026-25199's workaround) on
/// a 4.22.0.0 schema; both advisories are reported mitigated, with the evidence.
#[test]
fn workarounds_from_real_db_rows() {
    let Some(m) = common::mariadb::server() else {
        return;
    };
    let db = m.new_db(common::mariadb::SCHEMA_422);
    m.sql(
        Some(&db.name),
        "DELETE FROM configuration WHERE name IN ('dynamic.apichecker.enabled', 'user.vm.denied.details');
         INSERT INTO configuration (category, name, value, default_value) VALUES
           ('Advanced', 'dynamic.apichecker.enabled', 'true', 'false'),
           ('Advanced', 'user.vm.denied.details', 'rootdisksize,proxmox_vmid', '');
         INSERT INTO role_permissions (uuid, role_id, rule, permission, sort_order) VALUES
           ('rp-1', 2, 'listAnnotations', 'DENY', 0), ('rp-2', 2, 'addAnnotation', 'DENY', 1), ('rp-3', 2, '*', 'ALLOW', 2),
           ('rp-4', 3, '*Annotation*', 'DENY', 0), ('rp-5', 3, '*', 'ALLOW', 1),
           ('rp-6', 4, '*Annotation*', 'DENY', 0), ('rp-7', 4, 'list*', 'ALLOW', 1);",
    );
    let t = tempfile::tempdir().unwrap();
    let o = Command::new(common::bin())
        .args([
            "collect",
            "--root",
            t.path().to_str().unwrap(),
            "--host-state",
            "never",
            "--db-url",
            &db.url(),
            "--db-password-env",
            "ADV_TEST_DB_PW",
            "--db-timeout",
            "10",
        ])
        .env("ADV_TEST_DB_PW", &db.password)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains(&db.password));
    let f: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let v = |k: &str| f["facts"][k]["value"].clone();
    assert_eq!(v("cs.version"), "4.22.0.0", "{}", f["facts"]["cs.version"]);
    let mit: Vec<String> = v("vuln.cloudstack.mitigated")
        .as_array()
        .unwrap_or_else(|| panic!("{}", f["facts"]["vuln.cloudstack.mitigated"]))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert!(
        mit.iter().any(|x| x.starts_with("CVE-2025-22828 (low; workaround in force: listAnnotations, addAnnotation denied to every non-admin role")),
        "{mit:?}"
    );
    assert!(
        mit.iter().any(|x| x.starts_with("CVE-2026-25199 (moderate; workaround in force: user.vm.denied.details = \"rootdisksize,proxmox_vmid\" lists proxmox_vmid")),
        "{mit:?}"
    );
    let open = v("vuln.cloudstack.matched_other");
    assert!(!open.to_string().contains("CVE-2026-25199"), "{open}");
    assert_eq!(v("vuln.cloudstack.matched_unfixed"), serde_json::json!([]));

    // One non-admin role without the deny rule: the interim step is not in force.
    m.sql(
        Some(&db.name),
        "DELETE FROM role_permissions WHERE role_id = 4;",
    );
    let o = Command::new(common::bin())
        .args([
            "collect",
            "--root",
            t.path().to_str().unwrap(),
            "--host-state",
            "never",
            "--db-url",
            &db.url(),
            "--db-password-env",
            "ADV_TEST_DB_PW",
            "--db-timeout",
            "10",
        ])
        .env("ADV_TEST_DB_PW", &db.password)
        .output()
        .unwrap();
    let f: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(f["facts"]["vuln.cloudstack.matched_unfixed"]["value"][0]
        .as_str()
        .unwrap()
        .starts_with("CVE-2025-22828"));
}

/// scripts/advisories-from-cve-json.py on CVE JSON 5 records in the ASF's shape: the
/// output is a feed this crate loads, with the ranges, fixes, dates and workarounds; a
/// record with a malformed range (two bounds in one field, as some ASF records have) is
/// left out loudly, never guessed.
#[test]
fn script_converts_published_cve_records() {
    let Some(py) = common::python_with("json") else {
        return;
    };
    let m = env!("CARGO_MANIFEST_DIR");
    let script = format!("{m}/scripts/advisories-from-cve-json.py");
    let dir = format!("{m}/tests/fixtures/cve-json");
    let o = Command::new(&py)
        .args([&script, &dir, "--published", "CVE-2024-45461=2024-10-15"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "a record was left out");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CVE-2024-29006.cve.json: left out: affected upper bound '4.18.1.0, 4.19.0.0' is not a version"),
        "{err}"
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let mut feed = stackposture::vuln::Feed::builtin();
    feed.apply("converted", &text)
        .expect("the script's output is a valid feed");
    assert_eq!(
        feed.advisories.len(),
        51,
        "one new, one replacing the built-in entry"
    );
    assert_eq!(feed.date(), Some("2026-11-19"));
    let a = feed
        .advisories
        .iter()
        .find(|a| a.cve == "CVE-2024-45461")
        .unwrap();
    assert_eq!(a.severity, "moderate");
    assert_eq!(a.published, "2024-10-15");
    let fixed: Vec<String> = a.fixed_in.iter().map(|v| v.to_string()).collect();
    assert_eq!(fixed, ["4.18.2.4", "4.19.1.2"]);
    assert!(a.source.starts_with(
        "https://cloudstack.apache.org/blog/security-release-advisory-4.18.2.4-4.19.1.2"
    ));
    assert_eq!(
        a.workarounds[0].setting.as_deref(),
        Some("quota.enable.service")
    );
    assert_eq!(a.workarounds[0].equals.as_deref(), Some("false"));
    // Edges of the converted ranges.
    let v = |s: &str| stackposture::vuln::Version::parse(s).unwrap();
    for (ver, hit) in [
        ("4.6.9", false),
        ("4.7.0", true),
        ("4.18.2.3", true),
        ("4.18.2.4", false),
        ("4.19.1.1", true),
        ("4.19.1.2", false),
    ] {
        assert_eq!(a.affects(&v(ver)), hit, "{ver}");
    }
    let b = feed
        .advisories
        .iter()
        .find(|a| a.cve == "CVE-2099-0003")
        .unwrap();
    assert_eq!(b.severity, "unrated", "'Medium' is not an ASF word");
    assert_eq!(b.workarounds[0].has_item.as_deref(), Some("proxmox_vmid"));
    for (ver, hit) in [
        ("4.22.1.1", true),
        ("4.22.1.2", false),
        ("24.0.0", true),
        ("24.0.1", false),
    ] {
        assert_eq!(b.affects(&v(ver)), hit, "{ver}");
    }
    // Only well-formed records: exit 0.
    let o = Command::new(&py)
        .args([
            &script,
            &format!("{dir}/CVE-2099-0003.cve.json"),
            "--mode",
            "replace",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut only = stackposture::vuln::Feed::builtin();
    only.apply("r", &String::from_utf8(o.stdout).unwrap())
        .unwrap();
    assert_eq!(only.advisories.len(), 1);
}
