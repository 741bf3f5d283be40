//! Installed CloudStack packages under `--root`: the dpkg status database
//! (`/var/lib/dpkg/status`, DEB layout) and, for any layout, the version in the management
//! jar's file name (`/usr/share/cloudstack-management/lib/cloudstack-<version>.jar`,
//! `packaging/el8/cloud.spec` renames `cloud-client-ui-<version>.jar` to it), and the RPM
//! database (EL layout; `collect::rpmdb`: sqlite read, BerkeleyDB reported unsupported).
//!
//! Facts: `pkg.dpkg.<package>` = `{version, status}` and `pkg.rpm.<package>` =
//! `{version, release, evr}` for cloudstack-management, cloudstack-usage,
//! cloudstack-common; `pkg.jar.cloudstack-management` = `{version, path}`.

use crate::facts::{Fact, Facts, MissingReason, SourceStatus};
use crate::privileges::{denied_detail, Need};
use crate::rootfs::{ReadError, RootFs};
use serde_json::json;

pub const PACKAGES: &[&str] = &[
    "cloudstack-management",
    "cloudstack-usage",
    "cloudstack-common",
];
const DPKG_STATUS: &str = "/var/lib/dpkg/status";
const LIB_DIR: &str = "/usr/share/cloudstack-management/lib";

/// `(package, version, status)` of the paragraphs of a dpkg status file.
pub fn parse_dpkg_status(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut pkg = None;
        let mut ver = None;
        let mut status = None;
        for line in para.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                pkg = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Version:") {
                ver = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Status:") {
                status = Some(v.trim().to_string());
            }
        }
        if let (Some(p), Some(v)) = (pkg, ver) {
            out.push((p, v, status.unwrap_or_default()));
        }
    }
    out
}

/// `pkg.rpm.<package>` from the RPM database.
fn collect_rpm(fs: &RootFs, facts: &mut Facts) {
    match super::rpmdb::installed_packages(fs) {
        Ok(db) => {
            let src = format!("rpm:{}", db.path);
            facts.source("rpm", SourceStatus::ok("rpm", db.path.clone()));
            for p in PACKAGES {
                match db.packages.iter().find(|x| x.name == *p) {
                    Some(x) => facts.set(
                        format!("pkg.rpm.{p}"),
                        &src,
                        json!({"version": x.version, "release": x.release, "evr": x.evr()}),
                    ),
                    None if db.unreadable > 0 => facts.insert(
                        format!("pkg.rpm.{p}"),
                        Fact::missing(
                            &src,
                            MissingReason::Error,
                            format!(
                                "{p} not found, and {} package header(s) in {} did not parse",
                                db.unreadable, db.path
                            ),
                        ),
                    ),
                    None => facts.insert(
                        format!("pkg.rpm.{p}"),
                        Fact::absent(
                            &src,
                            format!("{p} is not installed according to {}", db.path),
                        ),
                    ),
                }
            }
        }
        Err(m) => {
            let src = "rpm:/var/lib/rpm";
            if !m.reason.is_known_absent() {
                facts.source(
                    "rpm",
                    SourceStatus::failed("rpm", "/var/lib/rpm", m.reason, &m.detail),
                );
            }
            for p in PACKAGES {
                facts.insert(format!("pkg.rpm.{p}"), Fact::from_missing(src, m.clone()));
            }
        }
    }
}

pub fn collect(fs: &RootFs, facts: &mut Facts) {
    collect_rpm(fs, facts);
    let src = format!("dpkg:{DPKG_STATUS}");
    match fs.read_capped(DPKG_STATUS, 64 * 1024 * 1024) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b);
            let all = parse_dpkg_status(&text);
            facts.source("dpkg", SourceStatus::ok("dpkg", DPKG_STATUS));
            for p in PACKAGES {
                let hit = all
                    .iter()
                    .find(|(n, _, s)| n == p && s.ends_with(" installed"));
                match hit {
                    Some((_, v, s)) => facts.set(
                        format!("pkg.dpkg.{p}"),
                        &src,
                        json!({"version": v, "status": s}),
                    ),
                    None => facts.insert(
                        format!("pkg.dpkg.{p}"),
                        Fact::absent(&src, format!("{p} is not installed according to dpkg")),
                    ),
                }
            }
        }
        Err(e) => {
            let (reason, detail) = match &e {
                ReadError::NotFound => (
                    MissingReason::Absent,
                    format!("{DPKG_STATUS} does not exist (not a dpkg system)"),
                ),
                ReadError::PermissionDenied => (
                    MissingReason::PermissionDenied,
                    denied_detail(fs, DPKG_STATUS, Need::Read),
                ),
                other => (other.reason(), format!("{DPKG_STATUS}: {other}")),
            };
            facts.source(
                "dpkg",
                SourceStatus::failed("dpkg", DPKG_STATUS, reason, &detail),
            );
            for p in PACKAGES {
                facts.insert(
                    format!("pkg.dpkg.{p}"),
                    Fact::missing(&src, reason, &detail),
                );
            }
        }
    }
    let jsrc = format!("files:{LIB_DIR}");
    let key = "pkg.jar.cloudstack-management";
    match fs.list_dir(LIB_DIR, 100_000) {
        Ok((names, _)) => {
            let found = names.iter().find_map(|n| {
                let n = n.to_string_lossy();
                let v = n.strip_prefix("cloudstack-")?.strip_suffix(".jar")?;
                crate::vuln::Version::parse(v)
                    .filter(|_| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
                    .map(|_| (v.to_string(), format!("{LIB_DIR}/{n}")))
            });
            match found {
                Some((v, p)) => facts.set(key, &jsrc, json!({"version": v, "path": p})),
                None => facts.insert(
                    key,
                    Fact::absent(&jsrc, format!("no cloudstack-<version>.jar in {LIB_DIR}")),
                ),
            }
        }
        Err(ReadError::NotFound) => facts.insert(
            key,
            Fact::absent(&jsrc, format!("{LIB_DIR} does not exist")),
        ),
        Err(ReadError::PermissionDenied) => facts.insert(
            key,
            Fact::missing(
                &jsrc,
                MissingReason::PermissionDenied,
                denied_detail(fs, LIB_DIR, Need::List),
            ),
        ),
        Err(e) => facts.insert(
            key,
            Fact::missing(&jsrc, e.reason(), format!("{LIB_DIR}: {e}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dpkg_status_paragraphs() {
        let t = "Package: cloudstack-management\nStatus: install ok installed\nVersion: 4.19.1.3\n\nPackage: cloudstack-usage\nStatus: deinstall ok config-files\nVersion: 4.18.0.0\n";
        let p = super::parse_dpkg_status(t);
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            (
                "cloudstack-management".into(),
                "4.19.1.3".into(),
                "install ok installed".into()
            )
        );
        assert!(!p[1].2.ends_with(" installed"));
    }
}
