//! Management and usage server processes from `/proc` (host state, see `collect::host`).
//!
//! A process is the management server when its argv[0] is a `java` binary and one
//! argument is exactly `org.apache.cloudstack.ServerDaemon` (`BOOTSTRAP_CLASS` in
//! `packaging/systemd/cloudstack-management.default`); the usage server likewise with
//! `com.cloud.usage.UsageServer` (`JAVA_CLASS` in `cloudstack-usage.default`). The
//! `/bin/sh -ec '...'` wrapper of the usage unit carries the class inside one longer
//! argument and so does not count.
//!
//! Facts: `proc.management`, `proc.usage` = `{running, pids, uids, users}` (effective
//! uids; names from the auditor's host, whose processes these are).

use super::accounts::Accounts;
use crate::facts::{Facts, MissingReason, SourceStatus};
use crate::rootfs::RootFs;
use serde_json::json;
use std::io::Read;
use std::path::Path;

pub const SERVICES: &[(&str, &str)] = &[
    ("management", "org.apache.cloudstack.ServerDaemon"),
    ("usage", "com.cloud.usage.UsageServer"),
];
const MAX_PROCS: usize = 100_000;

fn read_capped(p: &Path, cap: u64) -> Option<Vec<u8>> {
    let f = std::fs::File::open(p).ok()?;
    let mut b = Vec::new();
    f.take(cap).read_to_end(&mut b).ok()?;
    Some(b)
}

/// Which service (if any) a NUL-separated command line belongs to.
pub fn classify(cmdline: &[u8]) -> Option<&'static str> {
    let args: Vec<&[u8]> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    let argv0 = String::from_utf8_lossy(args.first()?);
    let base = argv0.rsplit('/').next().unwrap_or_default();
    if base != "java" {
        return None;
    }
    SERVICES
        .iter()
        .find(|(_, class)| args.contains(&class.as_bytes()))
        .map(|(s, _)| *s)
}

/// Effective uid from `/proc/<pid>/status` text.
pub fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// `true` when `/proc` hides other users' processes from this user (hidepid), so that
/// "not running" could not be told from "not visible".
fn hidden_from_us(proc: &Path) -> bool {
    if nix::unistd::geteuid().is_root() {
        return false;
    }
    let Some(b) = read_capped(&proc.join("self/mountinfo"), 1 << 20) else {
        return false;
    };
    String::from_utf8_lossy(&b).lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(4) == Some(&"/proc")
            && l.split(" - ").nth(1).is_some_and(|s| {
                s.contains("hidepid=1")
                    || s.contains("hidepid=2")
                    || s.contains("hidepid=invisible")
                    || s.contains("hidepid=noaccess")
            })
    })
}

pub fn collect(proc: &Path, facts: &mut Facts) {
    let loc = proc.display().to_string();
    if hidden_from_us(proc) {
        let d = format!("{loc} is mounted with hidepid: other users' processes are invisible to this user; run as root or add it to the proc `gid=` group");
        facts.source(
            "proc",
            SourceStatus::failed("proc", &loc, MissingReason::PermissionDenied, &d),
        );
        facts.namespace_missing("proc.", "proc", MissingReason::PermissionDenied, d);
        return;
    }
    let rd = match std::fs::read_dir(proc) {
        Ok(r) => r,
        Err(e) => {
            let d = format!("{loc}: {}", e.kind());
            facts.source(
                "proc",
                SourceStatus::failed("proc", &loc, MissingReason::Error, &d),
            );
            facts.namespace_missing("proc.", "proc", MissingReason::Error, d);
            return;
        }
    };
    let host_accounts = Accounts::load(&RootFs::new("/"));
    let mut found: Vec<(&str, u32, Option<u32>)> = Vec::new();
    for e in rd.flatten().take(MAX_PROCS) {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let dir = e.path();
        let Some(cmd) = read_capped(&dir.join("cmdline"), 256 * 1024) else {
            continue; // exited meanwhile
        };
        if let Some(svc) = classify(&cmd) {
            let uid = read_capped(&dir.join("status"), 64 * 1024)
                .and_then(|b| effective_uid(&String::from_utf8_lossy(&b)));
            found.push((svc, pid, uid));
        }
    }
    facts.source("proc", SourceStatus::ok("proc", &loc));
    for (svc, _) in SERVICES {
        let mut mine: Vec<&(&str, u32, Option<u32>)> =
            found.iter().filter(|f| f.0 == *svc).collect();
        mine.sort_by_key(|f| f.1);
        let mut uids: Vec<u32> = mine.iter().filter_map(|f| f.2).collect();
        uids.sort();
        uids.dedup();
        let users: Vec<String> = uids
            .iter()
            .map(|u| {
                host_accounts
                    .user(*u)
                    .map(str::to_string)
                    .unwrap_or_else(|| u.to_string())
            })
            .collect();
        facts.set(
            format!("proc.{svc}"),
            &format!("proc:{loc}"),
            json!({
                "running": !mine.is_empty(),
                "pids": mine.iter().map(|f| f.1).collect::<Vec<_>>(),
                "uids": uids,
                "users": users,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_java_not_the_shell_wrapper() {
        let ms = b"/usr/bin/java\0-Xmx2G\0-cp\0/x/*\0org.apache.cloudstack.ServerDaemon\0";
        assert_eq!(classify(ms), Some("management"));
        let us = b"/usr/lib/jvm/java-17/bin/java\0-Dpid=1\0-cp\0a\0com.cloud.usage.UsageServer\0";
        assert_eq!(classify(us), Some("usage"));
        let sh = b"/bin/sh\0-ec\0/usr/bin/java -Dpid=1 -cp a com.cloud.usage.UsageServer\0";
        assert_eq!(classify(sh), None);
        assert_eq!(classify(b""), None);
        assert_eq!(
            effective_uid("Name:\tjava\nUid:\t0\t996\t996\t996\n"),
            Some(996)
        );
    }
}
