//! Host collectors: the sensitive-file inventory and packages (read under `--root`), and
//! host state read from the running kernel (`/proc/net/tcp*`, `/proc/<pid>`, `adjtimex`).
//!
//! **`--root` and host state.** `/proc` and the kernel clock belong to the machine the
//! auditor runs on, not to a tree given with `--root`. With [`HostState::Auto`] (the
//! default) host state is collected only when the root is `/`; otherwise its namespaces
//! (`listen.`, `proc.`, `clock.`) are `not_collected` with that reason, so a rendered or
//! mounted tree is never judged by the auditor's own sockets. `--host-state always`
//! collects it anyway (e.g. auditing a container's root from inside the same host);
//! `never` skips it.

use super::{clock, files, listeners, packages, procs};
use crate::facts::Facts;
use crate::rootfs::RootFs;
use std::path::Path;

/// When to read host state (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostState {
    #[default]
    Auto,
    Always,
    Never,
}

/// The `https.keystore` value server.properties gave, as the files collector needs it.
pub fn keystore_path(facts: &Facts) -> Result<Option<String>, crate::facts::Fact> {
    match facts.get("props.server.https.keystore") {
        None => Ok(None),
        Some(f) => match (&f.value, &f.missing) {
            (Some(v), _) => Ok(v
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)),
            (None, Some(m)) if m.reason.is_known_absent() => Ok(None),
            (None, _) => Err(f.into_owned()),
        },
    }
}

/// Whether host state is read for this root and setting.
pub fn host_state_applies(root: &Path, mode: HostState) -> bool {
    match mode {
        HostState::Always => true,
        HostState::Never => false,
        HostState::Auto => std::fs::canonicalize(root).is_ok_and(|p| p == Path::new("/")),
    }
}

/// Runs the host collectors. Call after the properties collector (it reads
/// `props.server.https.keystore`).
pub fn collect(fs: &RootFs, mode: HostState, facts: &mut Facts) {
    files::collect(fs, facts, keystore_path(facts));
    packages::collect(fs, facts);
    collect_state(fs, mode, facts);
}

/// Host state (`listen.`, `proc.`, `clock.`): read from this machine's kernel when
/// [`host_state_applies`], else those namespaces are `not_collected` with the reason.
pub fn collect_state(fs: &RootFs, mode: HostState, facts: &mut Facts) {
    if host_state_applies(fs.root(), mode) {
        let proc = Path::new("/proc");
        listeners::collect(proc, facts);
        procs::collect(proc, facts);
        clock::collect(facts);
    } else {
        let why = if mode == HostState::Never {
            "host state not collected (--host-state never)".to_string()
        } else {
            format!(
                "--root {} is not /: /proc and the kernel clock are the auditor's host, not the audited tree (use --host-state always to collect them anyway)",
                fs.root().display()
            )
        };
        facts.skipped_by_choice("host", &["listen.", "proc.", "clock."], &why);
    }
}
