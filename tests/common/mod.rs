//! Shared test helpers.
#![allow(dead_code)]

pub mod mariadb;

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
        eprintln!("SKIP: test tool {name:?} is not installed; install it to run this test");
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
    eprintln!(
        "SKIP: python module {module:?} not available (pip install it, or set STACKPOSTURE_PYTHON)"
    );
    None
}
pub mod tls;
pub mod tree;
