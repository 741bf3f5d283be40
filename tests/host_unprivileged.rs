//! Runs the real binary as `nobody` (via `setpriv`) against a tree whose secrets are
//! root-only, and checks that every fact it cannot read is missing with
//! `permission_denied`, that no check on such a fact passes, and that `privileges` names
//! the grant. Needs root and setpriv (util-linux); prints SKIP otherwise unless CI is set.

mod common;

use serde_json::Value;
use stackposture::catalog::Catalog;
use stackposture::evaluate::{evaluate, EvalContext, Outcome};
use stackposture::facts::{Facts, MissingReason};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn skip(why: &str) -> bool {
    common::skip(why);
    assert!(std::env::var_os("CI").is_none(), "CI must provide: {why}");
    true
}

fn put(root: &Path, rel: &str, body: &str, mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, body).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
}

fn chmod(root: &Path, rel: &str, mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
}

fn run_as_nobody(bin: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .output()
        .expect("setpriv runs")
}

#[test]
fn unreadable_facts_are_unknown_never_pass() {
    if !nix::unistd::geteuid().is_root() {
        skip("needs root to build root-only files and drop to nobody");
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        skip("setpriv (util-linux) is missing: apt-get install util-linux");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("tree");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    let gid = 4243;
    put(
        &root,
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\ncloud:x:4242:4243::/var/lib/cloudstack/management:/bin/sh\n",
        0o644,
        0,
        0,
    );
    put(
        &root,
        "etc/group",
        "root:x:0:\ncloud:x:4243:\n",
        0o644,
        0,
        0,
    );
    put(
        &root,
        "etc/cloudstack/management/db.properties",
        "db.cloud.encryption.type=none\ndb.cloud.password=cloud\n",
        0o644,
        0,
        gid,
    );
    put(
        &root,
        "etc/cloudstack/management/key",
        "password",
        0o644,
        0,
        gid,
    );
    put(
        &root,
        "etc/cloudstack/management/server.properties",
        "https.enable=false\n",
        0o644,
        0,
        gid,
    );
    // The whole configuration directory is root:cloud 0750: nobody cannot even stat inside.
    chmod(&root, "etc/cloudstack/management", 0o750, 0, gid);
    put(
        &root,
        "var/log/cloudstack/management/management-server.log",
        "x",
        0o644,
        4242,
        gid,
    );
    chmod(&root, "var/log/cloudstack/management", 0o770, 4242, gid);
    put(
        &root,
        "etc/cloudstack/extensions/Proxmox/proxmox.sh",
        "#!/bin/sh\n",
        0o755,
        4242,
        gid,
    );
    // root-owned and closed: what is inside cannot be judged (a cloud-owned base would
    // already be a certain finding, see host_files.rs).
    chmod(&root, "etc/cloudstack/extensions", 0o700, 0, 0);
    put(
        &root,
        "etc/default/cloudstack-management",
        "JAVA_OPTS=\"-Xmx2G\"\n",
        0o600,
        0,
        0,
    );
    put(&root, "etc/sudoers.d/cloudstack", "x\n", 0o440, 0, 0);
    chmod(&root, "etc/sudoers.d", 0o750, 0, 0);

    // A copy of the binary that nobody can execute wherever the build tree is.
    let bin = t.path().join("stackposture");
    fs::copy(env!("CARGO_BIN_EXE_stackposture"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let r = root.to_str().unwrap();
    let out = run_as_nobody(&bin, &["collect", "--root", r]);
    assert!(
        out.status.success(),
        "collect as nobody: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts = Facts::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();

    let reason = |k: &str| {
        facts
            .get(k)
            .and_then(|f| f.missing.clone())
            .map(|m| m.reason)
    };
    for k in [
        "file.db_properties",
        "file.key",
        "file.server_properties",
        "files.logs_exposed",
        "files.extensions_writable_by_non_root",
        "jvm.management",
        "file.sudoers",
        "props.db.db.cloud.encryption.type",
        "secret.db.db.cloud.password",
    ] {
        assert_eq!(
            reason(k),
            Some(MissingReason::PermissionDenied),
            "{k}: {:?}",
            facts.get(k)
        );
    }
    let d = facts
        .get("file.db_properties")
        .unwrap()
        .missing
        .clone()
        .unwrap()
        .detail;
    assert!(
        d.contains("setfacl -m u:nobody:x") && d.contains("etc/cloudstack/management"),
        "{d}"
    );
    // What nobody can read is still reported.
    assert_eq!(
        facts
            .get("file.default_management")
            .unwrap()
            .value
            .as_ref()
            .unwrap()["mode"],
        "0600"
    );

    let cat = Catalog::builtin().unwrap();
    let profile = cat.default_profile().unwrap();
    let results = evaluate(
        &cat.checks,
        profile,
        &facts,
        &EvalContext { now: 1_800_000_000 },
    );
    let mut checked = 0;
    for res in &results {
        let denied = res.evidence.observed.iter().any(|o| {
            o.missing
                .as_ref()
                .is_some_and(|m| m.reason == MissingReason::PermissionDenied)
        });
        if denied {
            checked += 1;
            assert_ne!(
                res.outcome,
                Outcome::Pass,
                "{} passed on an unreadable fact",
                res.id
            );
        }
    }
    assert!(checked >= 10, "only {checked} checks saw a denied fact");
    for id in [
        "CS-FILE-001",
        "CS-FILE-002",
        "CS-FILE-011",
        "CS-EXT-001",
        "CS-DBP-001",
        "CS-FILE-008",
    ] {
        let r = results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(r.outcome, Outcome::Unknown, "{id}");
    }

    // The privileges subcommand lists them with the grant.
    let out = run_as_nobody(&bin, &["privileges", "--root", r, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["user"], "nobody");
    let keys: Vec<&str> = p["denied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"file.key") && keys.contains(&"props.db."),
        "{keys:?}"
    );
    let props = p["denied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "props.db.")
        .unwrap();
    assert!(
        props["detail"].as_str().unwrap().contains("grant: setfacl"),
        "{props}"
    );
    // The grant works: apply it and the fact becomes readable.
    let g = props["detail"]
        .as_str()
        .unwrap()
        .split("grant: ")
        .nth(1)
        .unwrap()
        .to_string();
    if Command::new("setfacl").arg("--version").output().is_ok() {
        let st = Command::new("sh").arg("-c").arg(&g).status().unwrap();
        assert!(st.success(), "grant {g} failed");
        let out = run_as_nobody(&bin, &["collect", "--root", r]);
        let f2 = Facts::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
        assert!(
            f2.get("props.db.db.cloud.encryption.type")
                .unwrap()
                .value
                .is_some(),
            "after {g}"
        );
    } else {
        eprintln!("NOTE: setfacl missing (apt-get install acl): the grant itself was not applied");
    }
}
