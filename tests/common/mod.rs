//! Shared test helpers.
#![allow(dead_code)]

pub mod cipher;
pub mod mariadb;
pub mod rpm;

/// Reports a test that returns without doing its real check (a missing tool, not root,
/// no IPv6, ...). The line is written to the process's standard error handle directly:
/// the test harness captures only `print!`/`eprint!`, so unlike `eprintln!` it shows in
/// `cargo test` output even though the test passes. When `STACKPOSTURE_SKIP_LOG` names a
/// file (`scripts/test.sh` sets it), the line is also appended there, so the wrapper can
/// count the skipped tests at the end. Callers decide whether CI must fail instead.
pub fn skip(reason: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("main").to_string();
    // The test target: the executable's name without cargo's `-<hash>` suffix.
    let target = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| n.rsplit_once('-').map_or(n.clone(), |(a, _)| a.to_string()))
        .unwrap_or_default();
    let line = format!("SKIP {target}::{test}: {reason}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("STACKPOSTURE_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Finds an external tool a test needs. Missing: a loud SKIP locally, a failure in CI
/// (`CI` set), so CI can never pass by skipping.
pub fn tool(name: &str) -> Option<String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("required test tool {name:?} is not installed (CI is set, so this fails instead of skipping)");
        }
        skip(&format!(
            "test tool {name:?} is not installed; install it to run this test"
        ));
    }
    found
}

/// Path of the built CLI.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_stackposture")
}

/// A Python interpreter that can import `module` (`STACKPOSTURE_PYTHON`, else python3).
/// Missing: SKIP locally, failure in CI.
pub fn python_with(module: &str) -> Option<String> {
    let py = std::env::var("STACKPOSTURE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    if std::env::var_os("CI").is_some() {
        panic!("python module {module:?} is not importable by {py} (CI is set, so this fails instead of skipping)");
    }
    skip(&format!(
        "python module {module:?} not available (pip install it, or set STACKPOSTURE_PYTHON)"
    ));
    None
}
pub mod tls;
pub mod tree;

/// Runs `python -c script` with `input` on its standard input; its standard output (the
/// script must succeed).
pub fn py(python: &str, script: &str, input: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut c = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}
