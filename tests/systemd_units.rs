//! The systemd units (packaging/systemd/): `systemd-analyze verify` accepts them with no
//! diagnostic at all, the hardening holds (`systemd-analyze security --offline`), and the
//! service's own ExecStart= commands, run as systemd would expand them, write the facts,
//! the JSON report and the Prometheus textfile (issue 12, item 2).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(manifest(&format!("packaging/systemd/{name}"))).unwrap()
}

/// A root for `systemd-analyze --root`: the units, the binary their ExecStart names,
/// /bin/sh, and the generated man pages (Documentation=man:... is checked with `man`).
struct VerifyRoot {
    dir: tempfile::TempDir,
}

impl VerifyRoot {
    fn new(service: &str, timer: &str) -> VerifyRoot {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for d in ["usr/bin", "bin", "etc/systemd/system", "man/man1"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::copy(common::bin(), r.join("usr/bin/stackposture")).unwrap();
        std::fs::copy("/bin/sh", r.join("bin/sh")).unwrap();
        std::fs::write(r.join("etc/systemd/system/stackposture.service"), service).unwrap();
        std::fs::write(r.join("etc/systemd/system/stackposture.timer"), timer).unwrap();
        let o = Command::new(common::bin())
            .args(["man", "--out-dir"])
            .arg(r.join("man/man1"))
            .output()
            .unwrap();
        assert!(o.status.success());
        VerifyRoot { dir }
    }

    fn verify(&self, analyze: &str) -> (bool, String) {
        let r = self.dir.path();
        let o = Command::new(analyze)
            .arg("verify")
            .arg(format!("--root={}", r.display()))
            .arg("--recursive-errors=no")
            .arg(r.join("etc/systemd/system/stackposture.service"))
            .arg(r.join("etc/systemd/system/stackposture.timer"))
            .env("MANPATH", r.join("man"))
            .env("SYSTEMD_LOG_COLOR", "0")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.success(), text)
    }
}

#[test]
fn systemd_analyze_verify_is_clean() {
    let Some(analyze) = common::tool("systemd-analyze") else {
        return;
    };
    let Some(_man) = common::tool("man") else {
        return;
    };
    let (service, timer) = (unit("stackposture.service"), unit("stackposture.timer"));
    let root = VerifyRoot::new(&service, &timer);
    let (ok, text) = root.verify(&analyze);
    assert!(
        ok && text.trim().is_empty(),
        "systemd-analyze verify:\n{text}"
    );
    // The check is sensitive: a misspelt key or a bad value (warnings with exit 0) and a
    // missing man page are all reported.
    for (bad_service, expect) in [
        (
            service.replace("ProtectSystem=strict", "ProtectSystem=stricter"),
            "stricter",
        ),
        (
            service.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"),
            "NoNewPrivilege",
        ),
        (
            service.replace("man:stackposture-audit(1)", "man:stackposture-nope(1)"),
            "stackposture-nope",
        ),
    ] {
        let root = VerifyRoot::new(&bad_service, &timer);
        let (_, text) = root.verify(&analyze);
        assert!(text.contains(expect), "not reported ({expect}):\n{text}");
    }
}

#[test]
fn service_hardening_exposure_is_low() {
    let Some(analyze) = common::tool("systemd-analyze") else {
        return;
    };
    let root = VerifyRoot::new(&unit("stackposture.service"), &unit("stackposture.timer"));
    let r = root.dir.path();
    let o = Command::new(analyze)
        .args(["security", "--offline=true", "--no-pager"])
        .arg(format!("--root={}", r.display()))
        .arg(r.join("etc/systemd/system/stackposture.service"))
        .env("SYSTEMD_LOG_COLOR", "0")
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure line:\n{text}{}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
    let level: f64 = line
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("cannot parse {line:?}"));
    // 10 = unprotected root service, 0 = fully confined; "OK" is below 5 in systemd's scale.
    assert!(level <= 3.0, "exposure {level}: {line}");
    // Capabilities: the only one kept is a DAC one (CAP_DAC_READ_SEARCH: read any file).
    let cap_rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("CapabilityBoundingSet=~"))
        .collect();
    assert!(cap_rows.len() > 10, "{text}");
    for row in cap_rows {
        let kept = row.trim_start().starts_with('\u{2717}');
        assert_eq!(kept, row.contains("CAP_(DAC_*|FOWNER|IPC_OWNER)"), "{row}");
    }
}

/// Splits an ExecStart= value as systemd does for what this unit uses: words, single
/// quotes, `$NAME` (a whole word: split on whitespace, dropped when empty), `$$` -> `$`.
fn systemd_words(line: &str, env: &[(&str, String)]) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '\'' {
                quoted = true;
                chars.next();
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
                continue;
            }
            if c.is_whitespace() {
                break;
            }
            w.push(c);
            chars.next();
        }
        let w = w.replace("$$", "\u{0}");
        if !quoted && w.starts_with('$') && !w.starts_with("${") {
            let value = env
                .iter()
                .find(|(k, _)| *k == &w[1..])
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            words.extend(value.split_whitespace().map(str::to_string));
        } else {
            words.push(w.replace('\u{0}', "$"));
        }
    }
    words
}

/// Runs the service's ExecStart= commands in order with the paths moved into a temp dir,
/// the way systemd would (exit 1 allowed by SuccessExitStatus=1).
fn run_service(textfile_dir: &Path, state: &Path) -> Vec<String> {
    let demo = manifest("examples/demo");
    let env = [
        (
            "STACKPOSTURE_COLLECT_ARGS",
            format!(
                "--root {}/root --settings-export {}/cmk-list-configurations.json --host demo-ms1",
                demo.display(),
                demo.display()
            ),
        ),
        ("STACKPOSTURE_EVAL_ARGS", String::new()),
        (
            "STACKPOSTURE_TEXTFILE_DIR",
            textfile_dir.display().to_string(),
        ),
    ];
    let service = unit("stackposture.service");
    assert!(service.contains("SuccessExitStatus=1"));
    let mut outputs = Vec::new();
    for line in service.lines().filter_map(|l| l.strip_prefix("ExecStart=")) {
        let words: Vec<String> = systemd_words(line, &env)
            .into_iter()
            .map(|w| {
                w.replace("/usr/bin/stackposture", common::bin())
                    .replace("/var/lib/stackposture", &state.display().to_string())
                    .replace(
                        "/etc/stackposture/catalog",
                        &manifest("packaging/etc/catalog").display().to_string(),
                    )
                    .replace(
                        "/etc/stackposture/waivers.toml",
                        &manifest("packaging/etc/waivers.toml").display().to_string(),
                    )
            })
            .collect();
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        let code = o.status.code().unwrap();
        assert!(
            code == 0 || code == 1,
            "{words:?} exited {code}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    }
    assert_eq!(outputs.len(), 3, "three ExecStart= commands");
    outputs
}

#[test]
fn service_commands_write_facts_report_and_textfile() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, textfile) = (tmp.path().join("state"), tmp.path().join("textfile"));
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir_all(&textfile).unwrap();
    run_service(&textfile, &state);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["host"], "demo-ms1");
    assert!(report["results"].as_array().unwrap().len() > 50);
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(state.join("facts.json")).unwrap())
        .unwrap();
    let prom = std::fs::read_to_string(textfile.join("stackposture.prom")).unwrap();
    assert!(prom.contains("# TYPE"), "{prom}");
    assert!(prom.contains("demo-ms1"), "the host label");
    // Nothing else is left in either directory (no temporary files).
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&state), ["facts.json", "report.json"]);
    assert_eq!(names(&textfile), ["stackposture.prom"]);

    // Without node_exporter's directory the textfile step says so and succeeds.
    let missing = tmp.path().join("no-node-exporter");
    let out = run_service(&missing, &state);
    assert!(
        out[2].contains("Prometheus textfile not written"),
        "{out:?}"
    );
    assert!(!missing.exists());
}

#[test]
fn timer_is_daily_randomised_and_persistent() {
    let timer = unit("stackposture.timer");
    for want in [
        "OnCalendar=daily",
        "RandomizedDelaySec=",
        "Persistent=true",
        "WantedBy=timers.target",
    ] {
        assert!(
            timer.lines().any(|l| l.starts_with(want)),
            "timer lacks {want}"
        );
    }
    let service = unit("stackposture.service");
    for want in [
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=read-only",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH",
    ] {
        assert!(service.lines().any(|l| l == want), "service lacks {want}");
    }
}
