//! A real tree whose names and contents carry terminal escapes, C1 controls, bidi
//! overrides and bytes that are not UTF-8 (a file name, a link target, /etc/hostname): no
//! human-facing output may pass one raw, even with `--color never` (issue 10 item 6).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

const EVIL: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{2066}";

fn hostile_tree(root: &Path) {
    let mgmt = root.join("etc/cloudstack/management");
    std::fs::create_dir_all(&mgmt).unwrap();
    std::fs::write(root.join("etc/hostname"), format!("ms1{EVIL}\n")).unwrap();
    // db.properties is a link to a file whose name is an escape sequence.
    let target = format!("db{EVIL}.properties");
    std::fs::write(
        mgmt.join(&target),
        format!("db.cloud.host=db1{EVIL}\ndb.cloud.encryption.type=none\n"),
    )
    .unwrap();
    std::fs::set_permissions(mgmt.join(&target), std::fs::Permissions::from_mode(0o644)).unwrap();
    symlink(&target, mgmt.join("db.properties")).unwrap();
    // Logs readable by everyone, one named with raw non-UTF-8 bytes (a lone C1 CSI).
    let logs = root.join("var/log/cloudstack/management");
    std::fs::create_dir_all(&logs).unwrap();
    for name in [
        OsStr::from_bytes(b"\x9b2J\x1b[31mmanagement-server.log"),
        OsStr::new(&format!("api{EVIL}.log")),
    ] {
        let p = logs.join(name);
        std::fs::write(&p, "x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

fn assert_clean(name: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (i, c) in text.chars().enumerate() {
        let u = c as u32;
        let bad = (u < 0x20 && !matches!(c, '\n' | '\r'))
            || (0x7f..=0x9f).contains(&u)
            || (0x202a..=0x202e).contains(&u)
            || (0x2066..=0x2069).contains(&u);
        assert!(!bad, "{name}: raw U+{u:04X} at char {i}");
    }
}

#[test]
fn hostile_names_never_reach_the_terminal_raw() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_tree(tmp.path());
    let root = tmp.path().to_str().unwrap();
    for format in [
        "table",
        "markdown",
        "csv",
        "html",
        "junit",
        "sarif",
        "prometheus",
    ] {
        let o = Command::new(super::common::bin())
            .args(["audit", "--root", root, "--no-db", "--host-state", "never"])
            .args([
                "--probe-deployment",
                "no",
                "--color",
                "never",
                "--all-results",
            ])
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(matches!(o.status.code(), Some(0..=3)), "{format}: {o:?}");
        assert_clean(&format!("{format} stdout"), &o.stdout);
        assert_clean(&format!("{format} stderr"), &o.stderr);
        let text = String::from_utf8_lossy(&o.stdout);
        if format == "table" {
            // Shown, escaped: the host from /etc/hostname, the link target, a log name.
            assert!(text.contains(r"ms1\x1b]0;owned\x07\x1b[2J\x9b31m\u{202e}\u{2066}"));
            assert!(text.contains(r"-> db\x1b]0;owned"), "{text}");
        }
    }
    // The facts themselves keep the real bytes (JSON-escaped): escaping is for display.
    let o = Command::new(super::common::bin())
        .args([
            "collect",
            "--root",
            root,
            "--no-db",
            "--host-state",
            "never",
        ])
        .args(["--probe-deployment", "no"])
        .output()
        .unwrap();
    let facts: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(facts["host"], format!("ms1{EVIL}"));
}
