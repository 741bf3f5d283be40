//! EL trees with a real RPM database: packages built by Debian's `rpmbuild`, recorded
//! with `rpm --justdb` into an sqlite rpmdb (as on EL9). Needs `rpm` and `rpmbuild`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a command that must succeed.
pub fn must(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Builds an empty noarch package `name-version-release` under `work`; returns its path.
pub fn build(work: &Path, name: &str, version: &str, release: &str) -> PathBuf {
    let spec = work.join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: test package\nLicense: ASL 2.0\nBuildArch: noarch\n\n%description\ntest package\n\n%files\n"
        ),
    )
    .unwrap();
    let top = work.join("rpmbuild");
    must(
        Command::new("rpmbuild")
            .args(["-bb", "--nodeps", "--define"])
            .arg(format!("_topdir {}", top.display()))
            .arg("--define")
            .arg(format!("_dbpath {}", work.join("builddb").display()))
            .arg(&spec),
    );
    top.join(format!("RPMS/noarch/{name}-{version}-{release}.noarch.rpm"))
}

/// Creates an sqlite rpmdb at `<root>/var/lib/rpm` recording `packages`
/// (`(name, version, release)`, built under `work`).
pub fn database(root: &Path, work: &Path, packages: &[(&str, &str, &str)]) {
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let rpm = || {
        let mut c = Command::new("rpm");
        c.arg("--dbpath")
            .arg(&db)
            .args(["--define", "_db_backend sqlite"]);
        c
    };
    must(rpm().arg("--initdb"));
    for (name, version, release) in packages {
        let p = build(work, name, version, release);
        must(
            rpm()
                .args(["-i", "--justdb", "--nodeps", "--noscripts", "--notriggers"])
                .arg(&p),
        );
    }
    assert!(
        db.join("rpmdb.sqlite").is_file(),
        "rpm made an sqlite rpmdb"
    );
}
