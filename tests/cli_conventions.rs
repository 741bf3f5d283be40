//! CLI conventions (issue 12): shell completions and man pages generated from the clap
//! definition, `-o -` as standard output, atomic report files that are never written
//! through a symbolic link, and byte-identical output for the same host state.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run stackposture")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn manifest(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// The demo deployment's audit arguments (a real tree and a settings export).
fn demo_audit() -> Vec<String> {
    vec![
        "audit".into(),
        "--root".into(),
        manifest("examples/demo/root"),
        "--settings-export".into(),
        manifest("examples/demo/cmk-list-configurations.json"),
        "--host".into(),
        "demo-ms1".into(),
    ]
}

fn args_with<'a>(base: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .collect()
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["completions", "bash"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let script = tmp.path().join("stackposture.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let Some(bash) = common::tool("bash") else {
        return;
    };
    // Load the script into a real bash and ask it to complete, as readline would.
    let probe = format!(
        "source {s}; \
         COMP_WORDS=(stackposture au); COMP_CWORD=1; COMP_LINE='stackposture au'; COMP_POINT=15; \
         _stackposture stackposture au stackposture; echo \"1:${{COMPREPLY[*]}}\"; \
         COMP_WORDS=(stackposture audit --fail); COMP_CWORD=2; \
         _stackposture stackposture --fail audit; echo \"2:${{COMPREPLY[*]}}\"; \
         COMP_WORDS=(stackposture completions ''); COMP_CWORD=2; \
         _stackposture stackposture '' completions; echo \"3:${{COMPREPLY[*]}}\"",
        s = script.display()
    );
    let o = Command::new(bash).args(["-c", &probe]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("1:audit"), "{out}");
    assert!(out.contains("2:--fail-on"), "{out}");
    let line3 = out.lines().find(|l| l.starts_with("3:")).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        assert!(
            line3.split_whitespace().any(|w| w.ends_with(shell)),
            "{out}"
        );
    }
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("zsh", "#compdef stackposture"),
        ("fish", "complete -c stackposture"),
    ] {
        let o = run_in(tmp.path(), &["completions", shell]);
        assert_eq!(
            code(&o),
            0,
            "{shell}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        for sub in [
            "audit",
            "collect",
            "evaluate",
            "diff",
            "privileges",
            "checks",
            "completions",
            "man",
        ] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            text.contains("fail-on"),
            "{shell} completion lacks --fail-on"
        );
    }
    let o = run_in(tmp.path(), &["completions", "tcsh"]);
    assert_eq!(code(&o), 2, "an unknown shell is a usage error");
}

#[test]
fn man_pages_come_from_the_clap_definition() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["man"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH stackposture 1"),
        "{page}"
    );
    assert!(page.contains(".TH stackposture 1"), "{page}");
    assert!(
        page.contains("Exit codes"),
        "the long help (exit codes) is in the page"
    );
    let dir = tmp.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let o = run_in(tmp.path(), &["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let audit = std::fs::read_to_string(dir.join("stackposture-audit.1")).unwrap();
    for flag in ["fail\\-on", "min\\-score", "waivers", "settings\\-export"] {
        assert!(audit.contains(flag), "audit page lacks {flag}");
    }
    for p in [
        "stackposture.1",
        "stackposture-checks-list.1",
        "stackposture-completions.1",
    ] {
        assert!(dir.join(p).is_file(), "missing {p}");
    }
    // The page renders with the system's man (groff) without warnings, where installed.
    if let Some(man) = common::tool("man") {
        let o = Command::new(man)
            .args(["--warnings", "-l", "-E", "UTF-8"])
            .arg(dir.join("stackposture-audit.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(text.contains("--fail-on"), "{text}");
        let warnings = String::from_utf8_lossy(&o.stderr);
        assert!(warnings.trim().is_empty(), "man warnings: {warnings}");
    }
}

#[test]
fn dash_output_is_stdout_and_creates_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let base = demo_audit();
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["--format", "json", "-o", "-"]),
    );
    assert_eq!(
        code(&o),
        1,
        "the demo has findings: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["host"], "demo-ms1");
    assert!(
        !tmp.path().join("-").exists(),
        "-o - created a file named '-'"
    );
    let o = run_in(
        tmp.path(),
        &[
            "collect",
            "--root",
            &manifest("examples/demo/root"),
            "--no-db",
            "-o",
            "-",
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("facts on stdout");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn report_file_is_replaced_by_rename_keeping_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let ino_before = std::fs::metadata(&out).unwrap().ino();
    // A reader that holds the old file open keeps reading the old bytes: the new report
    // is a new inode renamed into place, not the old file truncated and rewritten.
    let mut held = std::fs::File::open(&out).unwrap();
    let base = demo_audit();
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["--format", "json", "-o", out.to_str().unwrap()]),
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::metadata(&out).unwrap();
    assert_ne!(md.ino(), ino_before, "written in place");
    assert_eq!(md.permissions().mode() & 0o777, 0o640);
    let mut old = String::new();
    std::io::Read::read_to_string(&mut held, &mut old).unwrap();
    assert_eq!(old, "old");
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(&out).unwrap()).unwrap();
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json"], "temporary file left behind");
}

#[test]
fn a_concurrent_reader_never_sees_a_partial_report() {
    // What node_exporter's textfile collector does: read the file while it is rewritten.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stackposture.prom");
    let base = demo_audit();
    let args = args_with(
        &base,
        &["--format", "prometheus", "-o", out.to_str().unwrap()],
    );
    assert_eq!(code(&run_in(tmp.path(), &args)), 1);
    let full = std::fs::read(&out).unwrap();
    assert!(full.len() > 1000);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (out, full, stop) = (out.clone(), full.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut reads, mut partial) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(b) = std::fs::read(&out) {
                    reads += 1;
                    if b != full {
                        partial += 1;
                    }
                }
            }
            (reads, partial)
        })
    };
    for _ in 0..15 {
        assert_eq!(code(&run_in(tmp.path(), &args)), 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (reads, partial) = reader.join().unwrap();
    assert!(reads > 15, "the reader ran ({reads} reads)");
    assert_eq!(
        partial, 0,
        "{partial} of {reads} reads saw a partial or empty report"
    );
}

#[test]
fn output_through_a_symlink_or_onto_a_fifo_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = tmp.path().join("report.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let base = demo_audit();
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["--format", "json", "-o", link.to_str().unwrap()]),
    );
    assert_eq!(code(&o), 3);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // A dangling link is refused too (it would create the file where the link points).
    let dangling = tmp.path().join("dangling.json");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["-o", dangling.to_str().unwrap()]),
    );
    assert_eq!(code(&o), 3);
    assert!(!tmp.path().join("nowhere").exists());
    // A FIFO target is refused at once, without blocking for a reader.
    let fifo = tmp.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["-o", fifo.to_str().unwrap()]),
    );
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("FIFO"));
    // A directory that does not exist: a clean error, exit 3.
    let o = run_in(
        tmp.path(),
        &args_with(&base, &["-o", "/nonexistent-dir/r.json"]),
    );
    assert_eq!(code(&o), 3);
}

#[test]
fn audit_twice_on_the_same_tree_gives_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let base = demo_audit();
    for format in ["table", "json", "junit", "sarif", "prometheus"] {
        let runs: Vec<Vec<u8>> = (0..2)
            .map(|i| {
                let f = tmp.path().join(format!("{format}-{i}"));
                let o = run_in(
                    tmp.path(),
                    &args_with(
                        &base,
                        &[
                            "--format",
                            format,
                            "--color",
                            "never",
                            "-o",
                            f.to_str().unwrap(),
                        ],
                    ),
                );
                assert_eq!(
                    code(&o),
                    1,
                    "{format}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                std::fs::read(&f).unwrap()
            })
            .collect();
        assert!(!runs[0].is_empty());
        assert!(
            runs[0] == runs[1],
            "{format}: two audits of the same tree differ"
        );
    }
    // The facts too, without a settings export and with the DB off.
    let facts: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let o = run_in(
                tmp.path(),
                &[
                    "collect",
                    "--root",
                    &manifest("examples/demo/root"),
                    "--no-db",
                    "--host",
                    "h",
                ],
            );
            assert_eq!(code(&o), 0);
            o.stdout
        })
        .collect();
    assert!(
        facts[0] == facts[1],
        "two collections of the same tree differ"
    );
}
