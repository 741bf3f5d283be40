//! The sensitive-file inventory on a real temp tree: real modes, numeric owners that exist
//! only in the tree's own passwd/group, symlinks (inside, looping, climbing out), a FIFO,
//! a 1 GiB sparse file, then the catalog's verdicts on the collected facts.
//! Needs root (to chown to ids the auditor's host does not have); prints SKIP otherwise.

mod common;

use common::tree::{dir, link, put};

use stackposture::catalog::Catalog;
use stackposture::collect::{self, host::HostState, CollectOptions};
use stackposture::evaluate::{evaluate_check, EvalContext, Outcome};
use stackposture::facts::MissingReason;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const CLOUD_UID: u32 = 4242;
const CLOUD_GID: u32 = 4243;
const CANARY: &str = "CANARY-pw-7f3a9";

/// An EL-layout management server with typical mistakes.
pub fn insecure_tree(root: &Path) {
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    put(root, "etc/passwd", &format!("root:x:0:0:root:/root:/bin/bash\ncloud:x:{CLOUD_UID}:{CLOUD_GID}::/var/cloudstack/management:/bin/sh\n"), 0o644, 0, 0);
    put(
        root,
        "etc/group",
        &format!("root:x:0:\ncloud:x:{CLOUD_GID}:\n"),
        0o644,
        0,
        0,
    );
    let m = "etc/cloudstack/management";
    put(
        root,
        &format!("{m}/db.properties"),
        &format!("db.cloud.host=localhost\ndb.cloud.password={CANARY}\n"),
        0o640,
        0,
        CLOUD_GID,
    );
    put(
        root,
        &format!("{m}/key"),
        CANARY,
        0o644,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        &format!("{m}/server.properties"),
        "https.enable=true\nhttps.keystore=/etc/cloudstack/management/cloud.jks\n",
        0o640,
        0,
        CLOUD_GID,
    );
    put(root, &format!("{m}/cloud.jks"), CANARY, 0o644, 0, 0);
    put(root, &format!("{m}/config.json"), "{}", 0o640, 0, CLOUD_GID);
    nix::unistd::mkfifo(
        &root.join(format!("{m}/java.security.ciphers")),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    link(
        root,
        "etc/cloudstack/usage/db.properties",
        "/etc/cloudstack/management/db.properties",
    );
    link(root, "etc/cloudstack/usage/key", "key2");
    link(root, "etc/cloudstack/usage/key2", "key");
    // 1 GiB sparse: the read cap must refuse it without reading.
    put(root, "etc/default/cloudstack-management", "", 0o644, 0, 0);
    fs::OpenOptions::new()
        .write(true)
        .open(root.join("etc/default/cloudstack-management"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    put(root, "etc/default/cloudstack-usage", "JAVA_CLASS=com.cloud.usage.UsageServer\nJAVA_DEBUG=\"-agentlib:jdwp=transport=dt_socket,address=8001,server=y,suspend=n\"\n", 0o644, 0, 0);
    put(
        root,
        "etc/sudoers.d/cloudstack-management",
        "Defaults:cloud !requiretty\n",
        0o640,
        0,
        0,
    );
    dir(
        root,
        "var/log/cloudstack/management",
        0o755,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        "var/log/cloudstack/management/management-server.log",
        "log",
        0o644,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        "var/log/cloudstack/management/apilog.log",
        "log",
        0o640,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        "var/log/cloudstack/management/java_pid4242.hprof",
        CANARY,
        0o644,
        CLOUD_UID,
        CLOUD_GID,
    );
    dir(
        root,
        "var/cloudstack/management",
        0o770,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        "var/cloudstack/management/.ssh/id_rsa",
        CANARY,
        0o644,
        CLOUD_UID,
        CLOUD_GID,
    );
    dir(
        root,
        "etc/cloudstack/extensions",
        0o755,
        CLOUD_UID,
        CLOUD_GID,
    );
    put(
        root,
        "etc/cloudstack/extensions/Proxmox/proxmox.sh",
        "#!/bin/sh\n",
        0o755,
        CLOUD_UID,
        CLOUD_GID,
    );
    std::os::unix::fs::lchown(
        root.join("etc/cloudstack/extensions/Proxmox"),
        Some(CLOUD_UID),
        Some(CLOUD_GID),
    )
    .unwrap();
    put(
        root,
        "etc/cloudstack/extensions/Safe/safe.sh",
        "#!/bin/sh\n",
        0o755,
        0,
        0,
    );
    std::os::unix::fs::lchown(
        root.join("etc/cloudstack/extensions/Safe"),
        Some(0),
        Some(0),
    )
    .unwrap();
    link(
        root,
        "etc/cloudstack/extensions/escape",
        "../../../../../../../../etc/passwd",
    );
    link(
        root,
        "usr/share/cloudstack-management/extensions",
        "/etc/cloudstack/extensions",
    );
    put(
        root,
        "var/lib/dpkg/status",
        "Package: cloudstack-management\nStatus: install ok installed\nVersion: 4.19.0.0\n\n",
        0o644,
        0,
        0,
    );
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn inventory_of_a_real_tree() {
    if !is_root() {
        common::skip("needs root to chown to uids the host lacks");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs these tests as root"
        );
        return;
    }
    assert!(
        nix::unistd::User::from_uid(CLOUD_UID.into())
            .unwrap()
            .is_none(),
        "uid {CLOUD_UID} must not exist on the auditor's host"
    );
    let t = tempfile::tempdir().unwrap();
    insecure_tree(t.path());
    let c = collect::collect(&CollectOptions {
        root: t.path().to_path_buf(),
        host_state: HostState::Auto,
        ..CollectOptions::default()
    });
    let f = &c.facts;
    let v = |k: &str| {
        f.get(k)
            .and_then(|x| x.value.clone())
            .unwrap_or_else(|| panic!("{k}: {:?}", f.get(k)))
    };
    let miss = |k: &str| {
        f.get(k)
            .and_then(|x| x.missing.clone())
            .unwrap_or_else(|| panic!("{k} has a value"))
    };

    let db = v("file.db_properties");
    assert_eq!(db["mode"], "0640");
    assert_eq!(
        (db["owner"].as_str(), db["group"].as_str()),
        (Some("root"), Some("cloud")),
        "gid mapped through the tree's /etc/group"
    );
    let key = v("file.key");
    assert_eq!(
        (
            key["owner"].as_str(),
            key["uid"].as_u64(),
            key["mode"].as_str()
        ),
        (Some("cloud"), Some(4242), Some("0644"))
    );
    // Symlink inside the tree, absolute target resolved under --root.
    let u = v("file.usage_db_properties");
    assert_eq!(u["type"], "symlink");
    assert_eq!(u["link_target"], "/etc/cloudstack/management/db.properties");
    assert_eq!(u["target_type"], "file");
    assert_eq!(u["mode"], "0640");
    // Symlink loop: an error, never a value.
    let m = miss("file.usage_key");
    assert_eq!(m.reason, MissingReason::Error);
    assert!(m.detail.contains("symbolic link"), "{}", m.detail);
    // FIFO: described, never opened (opening it would block this test).
    assert_eq!(v("file.java_security_ciphers")["type"], "fifo");
    assert_eq!(
        miss("jvm.tls.legacy_protocols_enabled").reason,
        MissingReason::Unsupported
    );
    // 1 GiB sparse file: metadata yes, content refused by the read cap.
    assert_eq!(v("file.default_management")["size"], 1u64 << 30);
    let m = miss("jvm.management");
    assert!(m.detail.contains("read cap"), "{}", m.detail);
    assert_eq!(v("jvm.usage")["debug_enabled"], true);
    assert_eq!(
        v("file.https_keystore")["path"],
        "/etc/cloudstack/management/cloud.jks"
    );
    assert_eq!(v("file.sudoers")["mode"], "0640");
    assert_eq!(v("files.layout"), "el");
    assert_eq!(v("file.cloud_ssh_key")["owner"], "cloud");
    let exposed = v("files.logs_exposed");
    assert_eq!(
        exposed,
        serde_json::json!([
            "/var/log/cloudstack/management/java_pid4242.hprof",
            "/var/log/cloudstack/management/management-server.log"
        ])
    );
    assert_eq!(
        v("files.heap_dumps_exposed"),
        serde_json::json!(["/var/log/cloudstack/management/java_pid4242.hprof"])
    );
    let w = v("files.extensions_writable_by_non_root");
    let w: Vec<&str> = w
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert_eq!(
        w,
        vec![
            "/etc/cloudstack/extensions",
            "/etc/cloudstack/extensions/Proxmox",
            "/etc/cloudstack/extensions/Proxmox/proxmox.sh"
        ]
    );
    let all = v("files.extensions");
    let esc = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/etc/cloudstack/extensions/escape")
        .unwrap();
    assert_eq!(
        esc["link_clamped_at_root"], true,
        "a link climbing out of the tree says so"
    );
    assert_eq!(
        esc["resolved_path"], "/etc/passwd",
        "and is held inside the tree"
    );
    assert_eq!(v("file.extensions_link")["target_type"], "directory");
    // Known vulnerabilities from the tree's dpkg status.
    assert_eq!(
        v("vuln.cloudstack.version")["source"],
        "pkg.dpkg.cloudstack-management"
    );
    assert!(v("vuln.cloudstack.matched_high")
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "CVE-2024-38346 (important; fixed in 4.19.0.2)"));
    // Host state is the auditor's machine, not this tree.
    assert_eq!(miss("listen.port.8096").reason, MissingReason::NotCollected);
    // No secret leaves: the canary is in db.properties, key, keystore, ssh key and heap dump.
    assert!(!f.to_json().contains(CANARY));

    let cat = Catalog::builtin().unwrap();
    let prof = cat.default_profile().unwrap();
    let ctx = EvalContext { now: 1_800_000_000 };
    let out = |id: &str| evaluate_check(cat.check(id).unwrap(), prof, f, &ctx).outcome;
    for (id, want) in [
        ("CS-FILE-001", Outcome::Pass),
        ("CS-FILE-002", Outcome::Fail),
        ("CS-FILE-003", Outcome::Fail),
        ("CS-FILE-005", Outcome::Pass),
        ("CS-FILE-006", Outcome::Unknown),
        ("CS-FILE-008", Outcome::Fail),
        ("CS-FILE-009", Outcome::Pass),
        ("CS-FILE-010", Outcome::Fail),
        ("CS-FILE-011", Outcome::Fail),
        ("CS-FILE-013", Outcome::Fail),
        ("CS-EXT-001", Outcome::Fail),
        ("CS-JVM-001", Outcome::Unknown),
        ("CS-JVM-002", Outcome::Fail),
        ("CS-JVM-003", Outcome::Unknown),
        ("CS-NET-001", Outcome::Unknown),
        ("CS-VULN-001", Outcome::Fail),
    ] {
        assert_eq!(out(id), want, "{id}");
    }
}

#[test]
fn remediated_tree_passes() {
    if !is_root() {
        common::skip("needs root");
        assert!(std::env::var_os("CI").is_none());
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    insecure_tree(r);
    // Apply the checks' own remediations.
    let chmod = |rel: &str, mode: u32| {
        fs::set_permissions(r.join(rel), fs::Permissions::from_mode(mode)).unwrap()
    };
    let chown = |rel: &str, u: u32, g: u32| {
        std::os::unix::fs::lchown(r.join(rel), Some(u), Some(g)).unwrap()
    };
    chown("etc/cloudstack/management/key", 0, CLOUD_GID);
    chmod("etc/cloudstack/management/key", 0o640);
    chown("etc/cloudstack/management/cloud.jks", 0, CLOUD_GID);
    chmod("etc/cloudstack/management/cloud.jks", 0o640);
    chmod("etc/sudoers.d/cloudstack-management", 0o440);
    chmod("var/cloudstack/management/.ssh/id_rsa", 0o600);
    chmod("var/log/cloudstack/management", 0o770);
    fs::remove_file(r.join("var/log/cloudstack/management/java_pid4242.hprof")).unwrap();
    chown("etc/cloudstack/extensions", 0, CLOUD_GID);
    chmod("etc/cloudstack/extensions", 0o1775);
    for p in [
        "etc/cloudstack/extensions/Proxmox",
        "etc/cloudstack/extensions/Proxmox/proxmox.sh",
    ] {
        chown(p, 0, 0);
    }
    let c = collect::collect(&CollectOptions {
        root: r.to_path_buf(),
        ..CollectOptions::default()
    });
    let cat = Catalog::builtin().unwrap();
    let prof = cat.default_profile().unwrap();
    let ctx = EvalContext { now: 1_800_000_000 };
    for id in [
        "CS-FILE-002",
        "CS-FILE-003",
        "CS-FILE-008",
        "CS-FILE-010",
        "CS-FILE-011",
        "CS-FILE-013",
        "CS-FILE-014",
        "CS-EXT-001",
    ] {
        let res = evaluate_check(cat.check(id).unwrap(), prof, &c.facts, &ctx);
        assert_eq!(res.outcome, Outcome::Pass, "{id}: {:?}", res.reason);
    }
}

/// The sticky-bit exception for the extensions base holds only for a base that `cloud`
/// (or root) alone can write: a world-writable sticky base lets any local account plant
/// `<dir>/<dir>.sh` before an admin creates that extension.
#[test]
fn world_writable_sticky_extensions_base_is_a_finding() {
    if !is_root() {
        if std::env::var_os("CI").is_some() {
            panic!("needs root (CI is set)");
        }
        common::skip("needs root");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    insecure_tree(r);
    let base = r.join("etc/cloudstack/extensions");
    std::os::unix::fs::lchown(&base, Some(0), Some(CLOUD_GID)).unwrap();
    for p in [
        "etc/cloudstack/extensions/Proxmox",
        "etc/cloudstack/extensions/Proxmox/proxmox.sh",
    ] {
        std::os::unix::fs::lchown(r.join(p), Some(0), Some(0)).unwrap();
    }
    let writable = |mode: u32| {
        fs::set_permissions(&base, fs::Permissions::from_mode(mode)).unwrap();
        let c = collect::collect(&CollectOptions {
            root: r.to_path_buf(),
            ..CollectOptions::default()
        });
        let v = c
            .facts
            .get("files.extensions_writable_by_non_root")
            .unwrap()
            .value
            .clone()
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .any(|x| x == "/etc/cloudstack/extensions")
    };
    assert!(
        !writable(0o1775),
        "root:cloud 1775 is the accepted alternative"
    );
    assert!(
        writable(0o1777),
        "a world-writable sticky base is a finding"
    );
    std::os::unix::fs::lchown(&base, Some(0), Some(4242)).unwrap();
    assert!(
        writable(0o1775),
        "sticky but writable by a group other than cloud"
    );
}
