//! What the auditor could not read as the user it runs as, and the smallest grant that
//! would let it: an ACL entry for exactly the missing permission bits (search on the
//! directories on the way, read on the file), never "run as root".
//!
//! [`grant_for`] is used by the collectors to put the grant into a fact's `missing.detail`;
//! [`denied`] lists every fact of a run whose reason is `permission_denied` (the
//! `stackposture privileges` subcommand).

use crate::facts::{Facts, MissingReason};
use crate::rootfs::RootFs;
use nix::unistd::{access, AccessFlags};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The access a collector needs on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `lstat` only: search (x) on every directory above it.
    Stat,
    /// Read the file: search above, read on the file.
    Read,
    /// List a directory: search above, read and search on the directory.
    List,
}

/// Name of the user the auditor runs as (the auditor's own host: the grant is given here).
pub fn current_user() -> String {
    let uid = nix::unistd::geteuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

fn shell_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The smallest grant that gives the current user `need` on host path `abs` under the
/// root, as pasteable `setfacl` commands; `None` when no permission bit is missing (the
/// denial then comes from elsewhere, e.g. an LSM policy).
pub fn grant_for(fs: &RootFs, abs: &str, need: Need) -> Option<String> {
    let target = fs
        .resolve(abs, need != Need::Stat)
        .unwrap_or_else(|_| fs.lexical(abs));
    let mut dirs: Vec<PathBuf> = target
        .ancestors()
        .skip(1)
        .take_while(|p| p.starts_with(fs.root()))
        .map(Path::to_path_buf)
        .collect();
    dirs.reverse();
    let user = current_user();
    let mut cmds = Vec::new();
    for d in &dirs {
        if !d.exists() && std::fs::symlink_metadata(d).is_err() {
            break;
        }
        if access(d, AccessFlags::X_OK).is_err() {
            cmds.push(format!("setfacl -m u:{user}:x {}", shell_quote(d)));
        }
    }
    let want = match need {
        Need::Stat => None,
        Need::Read => Some((AccessFlags::R_OK, "r")),
        Need::List => Some((AccessFlags::R_OK | AccessFlags::X_OK, "rx")),
    };
    if let Some((flags, bits)) = want {
        if access(&target, flags).is_err() {
            cmds.push(format!(
                "setfacl -m u:{user}:{bits} {}",
                shell_quote(&target)
            ));
        }
    }
    if cmds.is_empty() {
        None
    } else {
        Some(cmds.join(" && "))
    }
}

/// The `missing.detail` text for a permission denial on `abs`.
pub fn denied_detail(fs: &RootFs, abs: &str, need: Need) -> String {
    match grant_for(fs, abs, need) {
        Some(g) => format!("{abs}: permission denied for {}; grant: {g}", current_user()),
        None => format!(
            "{abs}: permission denied for {} although the mode bits allow it (check SELinux/AppArmor or the mount options)",
            current_user()
        ),
    }
}

/// One fact (or namespace) the current user could not read.
#[derive(Debug, Clone, Serialize)]
pub struct Denied {
    /// A fact key, or a namespace prefix ending in `.` (every key under it).
    pub key: String,
    pub source: String,
    /// Why, with the grant when one was computed.
    pub detail: String,
}

/// Every fact and namespace of `facts` that is missing for lack of permission.
pub fn denied(facts: &Facts) -> Vec<Denied> {
    let mut out = Vec::new();
    for (k, f) in facts.namespaces.iter().chain(facts.facts.iter()) {
        if let Some(m) = &f.missing {
            if m.reason == MissingReason::PermissionDenied {
                out.push(Denied {
                    key: k.clone(),
                    source: f.source.clone(),
                    detail: m.detail.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// [`denied`], with a grant added to the denials whose collector did not compute one
/// (the properties files, whose paths are known here).
pub fn denied_with_grants(fs: &RootFs, facts: &Facts) -> Vec<Denied> {
    let mut out = denied(facts);
    for d in &mut out {
        if d.detail.contains("grant:") {
            continue;
        }
        let path = crate::collect::properties::FILES
            .iter()
            .find(|(name, _)| d.source == format!("{name}.properties"))
            .map(|(_, p)| *p);
        if let Some(p) = path {
            if let Some(g) = grant_for(fs, p, Need::Read) {
                d.detail = format!("{}; grant: {g}", d.detail);
            }
        }
    }
    out
}
