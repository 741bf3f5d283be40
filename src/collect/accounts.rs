//! User and group names of the **audited tree** (`<root>/etc/passwd`, `<root>/etc/group`),
//! so that owners are named as the audited host names them, not as the auditor's host
//! would. Never consults NSS or the auditor's own account database.

use crate::rootfs::RootFs;
use std::collections::BTreeMap;

/// Numeric ids mapped through the audited tree's account files.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
    homes: BTreeMap<String, String>,
    /// Why a file could not be read (names are then left out, ids stay).
    pub problems: Vec<String>,
}

const CAP: u64 = 8 * 1024 * 1024;

impl Accounts {
    pub fn load(fs: &RootFs) -> Accounts {
        let mut a = Accounts::default();
        match fs.read_capped("/etc/passwd", CAP) {
            Ok(b) => {
                for line in String::from_utf8_lossy(&b).lines() {
                    let f: Vec<&str> = line.split(':').collect();
                    if f.len() < 6 || line.starts_with('#') {
                        continue;
                    }
                    if let Ok(uid) = f[2].parse::<u32>() {
                        a.users.entry(uid).or_insert_with(|| f[0].to_string());
                        a.homes
                            .entry(f[0].to_string())
                            .or_insert_with(|| f[5].to_string());
                    }
                }
            }
            Err(e) => a.problems.push(format!("/etc/passwd: {e}")),
        }
        match fs.read_capped("/etc/group", CAP) {
            Ok(b) => {
                for line in String::from_utf8_lossy(&b).lines() {
                    let f: Vec<&str> = line.split(':').collect();
                    if f.len() < 3 || line.starts_with('#') {
                        continue;
                    }
                    if let Ok(gid) = f[2].parse::<u32>() {
                        a.groups.entry(gid).or_insert_with(|| f[0].to_string());
                    }
                }
            }
            Err(e) => a.problems.push(format!("/etc/group: {e}")),
        }
        a
    }

    pub fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
    pub fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
    /// The home directory the tree's passwd gives `user`.
    pub fn home(&self, user: &str) -> Option<&str> {
        self.homes.get(user).map(String::as_str)
    }
}
