//! Files the operator names (`--key-file`, `--fingerprint-key-file`, `--waivers`, facts
//! and reports read back): a device must not be read until memory runs out, a FIFO
//! without a writer must not hang the audit, a huge file must not be loaded (issue 10,
//! item 7). Each case runs the real binary under a wall-clock bound.

use super::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the CLI; kills it and fails the test if it has not ended within `limit`.
fn run_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(common::bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stackposture");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stackposture {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("an exit code, not a signal")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The hostile files: a character device that never ends, a FIFO nobody writes to, and
/// a sparse 10 GiB regular file.
struct Hostile {
    _dir: tempfile::TempDir,
    fifo: PathBuf,
    huge: PathBuf,
}

fn hostile() -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let huge = dir.path().join("huge");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    Hostile {
        _dir: dir,
        fifo,
        huge,
    }
}

fn cases(h: &Hostile) -> Vec<(&'static str, &Path)> {
    vec![
        ("a character device", Path::new("/dev/zero")),
        ("a FIFO", h.fifo.as_path()),
        ("larger than", h.huge.as_path()),
    ]
}

const LIMIT: Duration = Duration::from_secs(20);

/// A tree whose db.properties needs the management-server key (an ENC() DB key), so
/// `--key-file` is really read.
fn tree_needing_key() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("etc/cloudstack/management");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("db.properties"),
        "db.cloud.host=127.0.0.1\ndb.cloud.encryption.type=file\n\
         db.cloud.encrypt.secret=ENC(c29tZXRoaW5nIGVuY3J5cHRlZA==)\n\
         db.cloud.password=ENC(c29tZXRoaW5nIGVuY3J5cHRlZA==)\n",
    )
    .unwrap();
    t
}

#[test]
fn key_file_device_fifo_or_huge_file_is_refused_quickly() {
    let h = hostile();
    let tree = tree_needing_key();
    let root = tree.path().to_str().unwrap();
    for (why, p) in cases(&h) {
        let t0 = Instant::now();
        let o = run_bounded(
            &[
                "collect",
                "--root",
                root,
                "--no-db",
                "--key-file",
                p.to_str().unwrap(),
            ],
            LIMIT,
        );
        assert_eq!(code(&o), 0, "{why}: {}", stderr(&o));
        let facts = String::from_utf8_lossy(&o.stdout);
        // The reason reaches the facts (the key is unavailable, and why).
        assert!(
            facts.contains(&format!("--key-file {}: ", p.display())) && facts.contains(why),
            "{why}: reason not recorded in the facts:\n{facts}"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{why}: {:?}",
            t0.elapsed()
        );
    }
}

#[test]
fn fingerprint_key_file_device_fifo_or_huge_file_is_refused() {
    let h = hostile();
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().to_str().unwrap();
    for (why, p) in cases(&h) {
        let o = run_bounded(
            &[
                "collect",
                "--root",
                root,
                "--no-db",
                "--fingerprint-key-file",
                p.to_str().unwrap(),
            ],
            LIMIT,
        );
        assert_eq!(code(&o), 3, "{why}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("cannot read fingerprint key") && e.contains(why),
            "{why}: {e}"
        );
        assert!(o.stdout.is_empty(), "{why}: no facts may be written");
    }
}

#[test]
fn waivers_device_fifo_or_huge_file_is_refused() {
    let h = hostile();
    let facts = format!(
        "{}/tests/fixtures/golden-facts.json",
        env!("CARGO_MANIFEST_DIR")
    );
    for (why, p) in cases(&h) {
        let o = run_bounded(
            &[
                "evaluate",
                &facts,
                "--waivers",
                p.to_str().unwrap(),
                "--format",
                "json",
            ],
            LIMIT,
        );
        assert_eq!(code(&o), 3, "{why}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{why}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{why}: no report without the waivers");
    }
}

#[test]
fn facts_and_report_inputs_device_fifo_or_huge_file_are_refused() {
    let h = hostile();
    let report = tempfile::NamedTempFile::new().unwrap();
    for (why, p) in cases(&h) {
        let path = p.to_str().unwrap();
        for args in [
            vec!["evaluate", path],
            vec!["diff", path, report.path().to_str().unwrap()],
        ] {
            let o = run_bounded(&args, LIMIT);
            assert_eq!(code(&o), 3, "{args:?} {why}: {}", stderr(&o));
            assert!(stderr(&o).contains(why), "{args:?} {why}: {}", stderr(&o));
        }
    }
}
