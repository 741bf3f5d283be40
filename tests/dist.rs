//! The release artefacts of `scripts/dist.sh` (issue 12, item 1): a binary that needs at
//! most glibc 2.17, a .deb that installs, runs and removes on this machine, an .rpm with
//! the expected files, and their SHA-256 sums.
//!
//! These tests check `dist/`; they do not build it (a release build inside `cargo test`
//! would contend for cargo's build lock). `.ci/run` runs `scripts/dist.sh` first; locally,
//! without `dist/`, they print SKIP (and fail when `CI` is set).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn dist() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    if d.join("SHA256SUMS").is_file() {
        return Some(d);
    }
    if std::env::var_os("CI").is_some() {
        panic!("dist/ was not built (CI is set): run `bash scripts/dist.sh` before the tests");
    }
    common::skip("dist/ not built; run `bash scripts/dist.sh` to test the release artefacts");
    None
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

const DEB: &str = "stackposture_VERSION-1_amd64.deb";
const RPM: &str = "stackposture-VERSION-1.x86_64.rpm";

fn artefact(d: &Path, pattern: &str) -> PathBuf {
    let p = d.join(pattern.replace("VERSION", VERSION));
    assert!(
        p.is_file(),
        "{} missing (stale dist/? rebuild it)",
        p.display()
    );
    p
}

/// Files both packages must contain.
const PACKAGED: &[&str] = &[
    "/usr/bin/stackposture",
    "/usr/share/man/man1/stackposture.1.gz",
    "/usr/share/man/man1/stackposture-audit.1.gz",
    "/usr/share/bash-completion/completions/stackposture",
    "/usr/share/fish/vendor_completions.d/stackposture.fish",
    "/usr/lib/systemd/system/stackposture.service",
    "/usr/lib/systemd/system/stackposture.timer",
    "/etc/stackposture/stackposture.env",
    "/etc/stackposture/waivers.toml",
    "/etc/stackposture/catalog/README",
];

const CONFFILES: &[&str] = &[
    "/etc/stackposture/stackposture.env",
    "/etc/stackposture/waivers.toml",
    "/etc/stackposture/catalog/README",
];

#[test]
fn checksums_match() {
    let Some(d) = dist() else { return };
    let o = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&d)
        .output()
        .unwrap();
    let text = ok(&o, "sha256sum --check");
    assert_eq!(text.lines().count(), 3, "binary, .deb and .rpm: {text}");
}

#[test]
fn binary_needs_at_most_glibc_2_17() {
    let Some(d) = dist() else { return };
    let Some(objdump) = common::tool("objdump") else {
        return;
    };
    let bin = artefact(&d, "stackposture-VERSION-x86_64-linux-gnu");
    let syms = ok(&run(&objdump, &["-T", bin.to_str().unwrap()]), "objdump -T");
    let mut versions: Vec<Vec<u32>> = syms
        .split("GLIBC_")
        .skip(1)
        .filter_map(|s| {
            let v: String = s
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let parts: Vec<u32> = v.split('.').filter_map(|p| p.parse().ok()).collect();
            (!parts.is_empty()).then_some(parts)
        })
        .collect();
    versions.sort();
    let highest = versions.last().expect("dynamic glibc symbols");
    assert!(
        highest.as_slice() <= [2, 17].as_slice(),
        "needs GLIBC_{highest:?}"
    );
    let out = ok(&run(bin.to_str().unwrap(), &["--version"]), "--version");
    assert_eq!(
        out.trim(),
        format!("stackposture {VERSION}"),
        "stale dist/ binary"
    );
}

#[test]
fn deb_metadata_files_and_conffiles() {
    let Some(d) = dist() else { return };
    let Some(dpkg_deb) = common::tool("dpkg-deb") else {
        return;
    };
    let deb = artefact(&d, DEB);
    let deb = deb.to_str().unwrap();
    let depends = ok(&run(&dpkg_deb, &["-f", deb, "Depends"]), "dpkg-deb -f");
    assert_eq!(depends.trim(), "libc6 (>= 2.17)", "not the 2.17 floor");
    let list = ok(&run(&dpkg_deb, &["-c", deb]), "dpkg-deb -c");
    for f in PACKAGED
        .iter()
        .chain(["/usr/share/zsh/vendor-completions/_stackposture"].iter())
    {
        assert!(
            list.contains(&format!(".{f}")),
            "{f} not in the .deb:\n{list}"
        );
    }
    let ctl = tempfile::tempdir().unwrap();
    ok(
        &run(&dpkg_deb, &["-e", deb, ctl.path().to_str().unwrap()]),
        "dpkg-deb -e",
    );
    let conffiles = std::fs::read_to_string(ctl.path().join("conffiles")).unwrap();
    let mut got: Vec<&str> = conffiles.lines().collect();
    got.sort();
    let mut want = CONFFILES.to_vec();
    want.sort();
    assert_eq!(got, want);
}

/// `dpkg -i` on this machine, a run of the installed binary, `dpkg -r` (conffiles stay),
/// then `dpkg --purge`. Needs root.
#[test]
fn deb_installs_runs_and_removes() {
    let Some(d) = dist() else { return };
    let Some(dpkg) = common::tool("dpkg") else {
        return;
    };
    if !nix::unistd::geteuid().is_root() {
        if std::env::var_os("CI").is_some() {
            panic!("dpkg -i needs root (CI is set)");
        }
        common::skip("dpkg -i needs root");
        return;
    }
    let status = run(&dpkg, &["-s", "stackposture"]);
    assert!(
        !status.status.success(),
        "a stackposture package is already installed; this test would replace and remove it"
    );
    let deb = artefact(&d, DEB);
    ok(&run(&dpkg, &["-i", deb.to_str().unwrap()]), "dpkg -i");
    let result = std::panic::catch_unwind(|| {
        let v = ok(
            &run("/usr/bin/stackposture", &["--version"]),
            "installed --version",
        );
        assert_eq!(v.trim(), format!("stackposture {VERSION}"));
        let demo = format!("{}/examples/demo", env!("CARGO_MANIFEST_DIR"));
        let o = run(
            "/usr/bin/stackposture",
            &[
                "audit",
                "--root",
                &format!("{demo}/root"),
                "--settings-export",
                &format!("{demo}/cmk-list-configurations.json"),
                "--waivers",
                "/etc/stackposture/waivers.toml",
                "--catalog",
                "/etc/stackposture/catalog",
                "--format",
                "json",
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "the demo has findings: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["results"].as_array().unwrap().len() > 50);
        // The man page is where man looks for it.
        if let Some(man) = common::tool("man") {
            let w = ok(&run(&man, &["-w", "stackposture-audit"]), "man -w");
            assert!(
                w.contains("/usr/share/man/man1/stackposture-audit.1.gz"),
                "{w}"
            );
        }
    });
    ok(&run(&dpkg, &["-r", "stackposture"]), "dpkg -r");
    let removed = !Path::new("/usr/bin/stackposture").exists();
    let kept = Path::new("/etc/stackposture/waivers.toml").exists();
    ok(&run(&dpkg, &["--purge", "stackposture"]), "dpkg --purge");
    let purged = !Path::new("/etc/stackposture/waivers.toml").exists();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    assert!(removed, "dpkg -r left /usr/bin/stackposture");
    assert!(kept, "dpkg -r removed a conffile");
    assert!(purged, "dpkg --purge left /etc/stackposture");
}

#[test]
fn rpm_lists_files_config_and_requirements() {
    let Some(d) = dist() else { return };
    let Some(rpm) = common::tool("rpm") else {
        return;
    };
    let p = artefact(&d, RPM);
    let p = p.to_str().unwrap();
    let list = ok(&run(&rpm, &["-qpl", p]), "rpm -qpl");
    for f in PACKAGED
        .iter()
        .chain(["/usr/share/zsh/site-functions/_stackposture"].iter())
    {
        assert!(
            list.lines().any(|l| l == *f),
            "{f} not in the .rpm:\n{list}"
        );
    }
    let config = ok(&run(&rpm, &["-qpc", p]), "rpm -qpc");
    let mut got: Vec<&str> = config.lines().collect();
    got.sort();
    let mut want = CONFFILES.to_vec();
    want.sort();
    assert_eq!(got, want);
    let requires = ok(&run(&rpm, &["-qpR", p]), "rpm -qpR");
    assert!(requires.contains("glibc >= 2.17"), "{requires}");
    assert!(
        !requires.contains("PayloadIsZstd"),
        "zstd payload: unreadable before RPM 4.14\n{requires}"
    );
    let comp = ok(
        &run(&rpm, &["-qp", "--qf", "%{PAYLOADCOMPRESSOR}", p]),
        "rpm -qp --qf",
    );
    assert_eq!(comp.trim(), "gzip");
    let sig = ok(&run(&rpm, &["-K", p]), "rpm -K");
    assert!(sig.contains("digests OK"), "{sig}");
}
