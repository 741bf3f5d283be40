//! The collector registry from the outside: every fact key the built-in catalog names is
//! owned by a step, every fact a collection produces is too, and sources that hang cost
//! one timeout (not the sum) and never more than `--deadline`.

use stackposture::collect::{self, registry, CollectOptions};
use stackposture::facts::MissingReason;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `fact = "..."` anywhere in a TOML value (checks, their conditions and `when`s).
fn fact_keys(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                match (k.as_str(), x) {
                    ("fact", toml::Value::String(s)) => out.push(s.clone()),
                    _ => fact_keys(x, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|x| fact_keys(x, out)),
        _ => {}
    }
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

fn covered(key: &str) -> bool {
    registry::owned_patterns()
        .iter()
        .any(|p| registry::covers(p, key))
}

#[test]
fn every_fact_key_of_the_builtin_catalog_is_owned_by_a_step() {
    let mut files = Vec::new();
    toml_files(&repo().join("checks"), &mut files);
    let mut keys = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        let mut k = Vec::new();
        fact_keys(&v, &mut k);
        keys.extend(k.into_iter().map(|k| (f.clone(), k)));
    }
    assert!(keys.len() > 100, "found only {} fact keys", keys.len());
    let orphans: Vec<String> = keys
        .iter()
        .filter(|(_, k)| !covered(k))
        .map(|(f, k)| format!("{}: {k}", f.display()))
        .collect();
    assert!(orphans.is_empty(), "no step owns:\n{}", orphans.join("\n"));
}

#[test]
fn every_fact_a_collection_records_is_owned_by_a_step() {
    let c = collect::collect(&CollectOptions {
        root: repo().join("examples/demo/root"),
        db: collect::database::DbOptions {
            disabled: true,
            ..Default::default()
        },
        ..CollectOptions::default()
    });
    assert!(c.facts.facts.len() > 20);
    for k in c.facts.facts.keys() {
        assert!(covered(k), "fact {k} is owned by no step");
    }
    for p in c.facts.namespaces.keys() {
        assert!(covered(p), "namespace {p} is owned by no step");
    }
    // And the committed demo facts (collected with the database and host state).
    let text = std::fs::read_to_string(repo().join("examples/demo/facts.json")).unwrap();
    let demo = stackposture::facts::Facts::from_json(&text).unwrap();
    for k in demo.facts.keys().chain(demo.namespaces.keys()) {
        assert!(covered(k), "demo fact {k} is owned by no step");
    }
}

/// A TCP listener that accepts every connection and never sends a byte.
struct Silent {
    port: u16,
}

fn silent() -> Silent {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for c in l.incoming().flatten() {
            held.push(c);
        }
    });
    Silent { port }
}

fn run(args: &[String]) -> (std::process::Output, Duration) {
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stackposture"))
        .args(args)
        .output()
        .unwrap();
    (out, t0.elapsed())
}

fn hung_args(root: &Path, db: &Silent, tls: &Silent, timeout_s: u64) -> Vec<String> {
    vec![
        "collect".into(),
        "--root".into(),
        root.display().to_string(),
        "--db-url".into(),
        format!("mysql://cloud@127.0.0.1:{}/cloud", db.port),
        "--db-timeout".into(),
        timeout_s.to_string(),
        "--endpoint".into(),
        format!("hung=127.0.0.1:{}", tls.port),
        "--tls-timeout-ms".into(),
        (timeout_s * 1000).to_string(),
    ]
}

fn reason(facts: &serde_json::Value, ns: &str) -> (String, String) {
    let m = &facts["namespaces"][ns]["missing"];
    let r = m["reason"].as_str().unwrap_or_default().to_string();
    (r, m["detail"].as_str().unwrap_or_default().to_string())
}

/// A correctness bound only (the precise figure is in `bench/audit.sh`): read one after
/// the other, a silent database and a silent TLS endpoint cost at least two timeouts;
/// read concurrently, about one.
#[test]
fn a_hung_database_and_a_hung_tls_endpoint_cost_one_timeout_not_the_sum() {
    let (db, tls) = (silent(), silent());
    let root = tempfile::tempdir().unwrap();
    let timeout = 3;
    let (out, took) = run(&hung_args(root.path(), &db, &tls, timeout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        took < Duration::from_secs(2 * timeout),
        "took {took:?}: the sum of the timeouts, not the larger"
    );
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reason(&f, "cs.").0, MissingReason::Timeout.as_str());
    let tls_fact = &f["facts"]["tls.hung.tls"]["missing"]["reason"];
    assert_eq!(tls_fact, "timeout", "{}", f["facts"]["tls.hung.tls"]);
}

#[test]
fn the_deadline_bounds_the_collection_and_says_what_it_cut_off() {
    let (db, tls) = (silent(), silent());
    let root = tempfile::tempdir().unwrap();
    let mut args = hung_args(root.path(), &db, &tls, 30);
    args.extend(["--deadline".into(), "2".into()]);
    let (out, took) = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        took < Duration::from_secs(6),
        "took {took:?} with --deadline 2"
    );
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (r, d) = reason(&f, "cs.");
    assert_eq!(r, "timeout");
    assert!(
        d.contains("deadline (2s") && d.contains("`database`"),
        "{d}"
    );
    let (r, d) = reason(&f, "tls.");
    assert_eq!(r, "timeout");
    assert!(d.contains("`tls`"), "{d}");
    // What finished in time is kept.
    assert!(f["sources"]["files"].is_object());
    // stderr is a pipe here, not a terminal: no progress line although steps were slow.
    assert!(
        out.stderr.is_empty(),
        "stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `script` (util-linux, Essential on Debian) runs the binary on a pseudo-terminal.
#[test]
fn on_a_terminal_a_slow_source_shows_one_progress_line_then_clears_it() {
    if Command::new("script").arg("--version").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("`script` (bsdutils) is missing and CI is set");
        }
        println!("SKIP: `script` (bsdutils) missing: progress line on a terminal not tested");
        return;
    }
    let (db, tls) = (silent(), silent());
    let root = tempfile::tempdir().unwrap();
    let mut args = hung_args(root.path(), &db, &tls, 30);
    args.extend([
        "--deadline".into(),
        "3".into(),
        "-o".into(),
        root.path().join("report.txt").to_str().unwrap().into(),
    ]);
    let cmd = format!("{} {}", env!("CARGO_BIN_EXE_stackposture"), args.join(" "));
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty}");
    let first = tty
        .find("stackposture: collecting: ")
        .unwrap_or_else(|| panic!("{tty:?}"));
    assert!(tty[first..].contains("database"), "{tty:?}");
    // Rewritten in place (carriage return, erase line), and erased at the end.
    assert!(
        !tty.trim_end_matches(['\r', '\n']).contains('\n'),
        "{tty:?}"
    );
    assert!(
        tty.trim_end_matches(['\r', '\n']).ends_with("\r\x1b[K"),
        "{tty:?}"
    );
}
