//! Sensitive-file inventory of a management server, for both packaging layouts (EL:
//! `~cloud` = `/var/cloudstack/management`, sudoers `cloudstack-management`; DEB: `~cloud`
//! = `/var/lib/cloudstack/management`, sudoers `cloudstack`), resolved under `--root`.
//!
//! Every path is `lstat`ed first and never opened unless it is a regular file that must be
//! parsed (`/etc/default/cloudstack-*`, `java.security.ciphers`), through
//! [`RootFs::read_capped`] (no FIFO or device is ever opened, reads are capped). Symbolic
//! links are followed inside the tree only (chroot semantics); a link whose `..` tried to
//! leave the tree says so (`link_clamped_at_root`). Owner and group names come from the
//! audited tree's own `/etc/passwd` and `/etc/group` ([`Accounts`]).
//!
//! Facts (see docs/facts.md): `file.<logical-name>` for single paths, `files.*` for
//! directory listings and what they reveal, `jvm.*` for what the JVM option files say.

use super::accounts::Accounts;
use crate::facts::{Fact, Facts, MissingReason, SourceStatus};
use crate::privileges::{denied_detail, Need};
use crate::rootfs::{file_kind, Inspected, ReadError, RootFs};
use serde_json::{json, Map, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Management-server home (`~cloud`) per layout: EL first, then DEB.
pub const CLOUD_HOMES: &[(&str, &str)] = &[
    ("el", "/var/cloudstack/management"),
    ("deb", "/var/lib/cloudstack/management"),
];
/// sudoers drop-in per layout (`server/conf/cloudstack-sudoers.in`; docs/cloudstack-notes.md#h12).
pub const SUDOERS: &[(&str, &str)] = &[
    ("el", "/etc/sudoers.d/cloudstack-management"),
    ("deb", "/etc/sudoers.d/cloudstack"),
];
pub const LOG_DIR: &str = "/var/log/cloudstack/management";
pub const USAGE_LOG_DIR: &str = "/var/log/cloudstack/usage";
pub const EXTENSIONS_DIR: &str = "/etc/cloudstack/extensions";
pub const EXTENSIONS_LINK: &str = "/usr/share/cloudstack-management/extensions";
/// Default `https.keystore` (client/conf/server.properties.in) when server.properties names none.
pub const DEFAULT_KEYSTORE: &str = "/etc/cloudstack/management/cloud.jks";

/// Fixed single paths: (logical name, host path).
pub const SINGLE: &[(&str, &str)] = &[
    ("db_properties", "/etc/cloudstack/management/db.properties"),
    (
        "server_properties",
        "/etc/cloudstack/management/server.properties",
    ),
    ("key", "/etc/cloudstack/management/key"),
    ("config_json", "/etc/cloudstack/management/config.json"),
    ("usage_db_properties", "/etc/cloudstack/usage/db.properties"),
    ("usage_key", "/etc/cloudstack/usage/key"),
    ("default_management", "/etc/default/cloudstack-management"),
    ("default_usage", "/etc/default/cloudstack-usage"),
    (
        "java_security_ciphers",
        "/etc/cloudstack/management/java.security.ciphers",
    ),
    ("log_dir", LOG_DIR),
    ("usage_log_dir", USAGE_LOG_DIR),
    ("extensions_dir", EXTENSIONS_DIR),
    ("extensions_link", EXTENSIONS_LINK),
];

/// Most directory entries listed per directory, and in all for the extensions tree.
pub const MAX_ENTRIES: usize = 10_000;
const MAX_DEPTH: usize = 8;
const CONF_CAP: u64 = 256 * 1024;

pub(super) fn src(path: &str) -> String {
    format!("files:{path}")
}

/// `0640`-style text of the permission bits (with setuid/setgid/sticky).
pub fn mode_text(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

fn meta_fields(m: &mut Map<String, Value>, md: &std::fs::Metadata, acc: &Accounts) {
    m.insert("mode".into(), json!(mode_text(md.mode())));
    m.insert("uid".into(), json!(md.uid()));
    m.insert("gid".into(), json!(md.gid()));
    m.insert("owner".into(), json!(acc.user(md.uid())));
    m.insert("group".into(), json!(acc.group(md.gid())));
    m.insert("size".into(), json!(md.len()));
}

/// The fact for one host path. For a symbolic link, `mode`/`owner`/... describe the object
/// it leads to inside the tree (what a process opening the path gets), `type` stays
/// `symlink` and `target_type`, `link_target`, `resolved_path` say where it leads.
pub fn describe(fs: &RootFs, acc: &Accounts, abs: &str) -> Fact {
    match fs.inspect(abs) {
        Ok(i) => describe_inspected(fs, acc, abs, &i),
        Err(e) => missing_for(fs, abs, &e, Need::Stat),
    }
}

fn missing_for(fs: &RootFs, abs: &str, e: &ReadError, need: Need) -> Fact {
    match e {
        ReadError::NotFound => Fact::absent(src(abs), format!("{abs} does not exist")),
        ReadError::PermissionDenied => Fact::missing(
            src(abs),
            MissingReason::PermissionDenied,
            denied_detail(fs, abs, need),
        ),
        other => Fact::missing(src(abs), other.reason(), format!("{abs}: {other}")),
    }
}

fn describe_inspected(fs: &RootFs, acc: &Accounts, abs: &str, i: &Inspected) -> Fact {
    let mut m = Map::new();
    m.insert("path".into(), json!(i.host_path));
    m.insert("type".into(), json!(file_kind(&i.lstat.file_type())));
    match &i.link {
        None => meta_fields(&mut m, &i.lstat, acc),
        Some((target, resolved)) => {
            let t = target.to_string_lossy();
            m.insert("link_target".into(), json!(t));
            match resolved {
                Ok(r) => {
                    m.insert("resolved_path".into(), json!(r.host_path));
                    m.insert(
                        "target_type".into(),
                        json!(file_kind(&r.metadata.file_type())),
                    );
                    if r.clamped_at_root {
                        m.insert("link_clamped_at_root".into(), json!(true));
                    }
                    meta_fields(&mut m, &r.metadata, acc);
                }
                Err(ReadError::NotFound) => {
                    return Fact::absent(
                        src(abs),
                        format!("{abs} is a dangling symbolic link (-> {t})"),
                    )
                }
                Err(ReadError::PermissionDenied) => {
                    return Fact::missing(
                        src(abs),
                        MissingReason::PermissionDenied,
                        denied_detail(fs, abs, Need::Stat),
                    )
                }
                Err(e) => {
                    return Fact::missing(
                        src(abs),
                        e.reason(),
                        format!("{abs} is a symbolic link (-> {t}) that cannot be resolved: {e}"),
                    )
                }
            }
        }
    }
    Fact::value(src(abs), Value::Object(m))
}

/// Whether "others" (not owner, not group) may search every directory from the root of
/// the tree down to the resolved directory `real` (inclusive), i.e. could reach a file in it.
fn others_can_traverse(fs: &RootFs, real: &Path) -> Option<bool> {
    let mut p = real;
    loop {
        let md = std::fs::metadata(p).ok()?;
        if md.mode() & 0o001 == 0 {
            return Some(false);
        }
        if p == fs.root() {
            return Some(true);
        }
        p = p.parent()?;
        if !p.starts_with(fs.root()) {
            return Some(true);
        }
    }
}

/// One entry of a listed directory (`real_dir` resolved once for all its entries).
fn entry_json(
    fs: &RootFs,
    acc: &Accounts,
    real_dir: &Path,
    name: &std::ffi::OsStr,
    abs: &str,
) -> Result<(Value, Option<std::fs::Metadata>), Fact> {
    match fs.inspect_entry(real_dir, name, abs) {
        Ok(i) => {
            let md = match &i.link {
                None => Some(i.lstat.clone()),
                Some((_, Ok(r))) => Some(r.metadata.clone()),
                Some(_) => None,
            };
            let f = describe_inspected(fs, acc, abs, &i);
            let v = match f.value {
                Some(v) => v,
                None => {
                    // Dangling or looping link inside a listing: keep what lstat saw.
                    let mut m = Map::new();
                    m.insert("path".into(), json!(i.host_path));
                    m.insert("type".into(), json!("symlink"));
                    if let Some((t, _)) = &i.link {
                        m.insert("link_target".into(), json!(t.to_string_lossy()));
                    }
                    if let Some(mm) = &f.missing {
                        m.insert("unresolved".into(), json!(mm.detail));
                    }
                    Value::Object(m)
                }
            };
            Ok((v, md))
        }
        Err(e) => Err(missing_for(fs, abs, &e, Need::Stat)),
    }
}

fn join(dir: &str, name: &std::ffi::OsStr) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name.to_string_lossy())
}

/// Lists the log directory (`files.logs`), what in it others can read (`files.logs_exposed`),
/// and the heap dumps in it (`files.heap_dumps`, `files.heap_dumps_exposed`).
fn collect_logs(
    fs: &RootFs,
    acc: &Accounts,
    facts: &mut Facts,
    key: &str,
    dir: &str,
    extra_dump_dirs: &[String],
) -> (Vec<Value>, Vec<Value>, Option<Fact>) {
    let mut listed = Vec::new();
    let mut exposed = Vec::new();
    let mut dumps = Vec::new();
    let mut problem: Option<Fact> = None;
    let mut dirs = vec![dir.to_string()];
    dirs.extend(extra_dump_dirs.iter().cloned());
    for (n, d) in dirs.iter().enumerate() {
        let main = n == 0;
        match fs.list_dir_real(d, MAX_ENTRIES) {
            Ok((real, names, more)) => {
                let reach = others_can_traverse(fs, &real).unwrap_or(true);
                if more && problem.is_none() {
                    problem = Some(Fact::missing(
                        src(d),
                        MissingReason::Unsupported,
                        format!("{d} has more than {MAX_ENTRIES} entries; not all were inspected"),
                    ));
                }
                for name in names {
                    let p = join(d, &name);
                    let is_dump = name.to_string_lossy().ends_with(".hprof");
                    if !main && !is_dump {
                        continue;
                    }
                    match entry_json(fs, acc, &real, &name, &p) {
                        Ok((v, md)) => {
                            let world = md
                                .as_ref()
                                .is_some_and(|m| m.file_type().is_file() && m.mode() & 0o004 != 0);
                            if world && reach {
                                exposed.push(json!(p));
                            }
                            if is_dump {
                                dumps.push(v.clone());
                            }
                            if main {
                                listed.push(v);
                            }
                        }
                        Err(f) => {
                            if problem.is_none() {
                                problem = Some(f);
                            }
                        }
                    }
                }
            }
            Err(ReadError::NotFound) if !main => {}
            Err(e) => {
                if main && matches!(e, ReadError::NotFound) {
                    facts.insert(
                        format!("files.{key}"),
                        Fact::absent(src(d), format!("{d} does not exist")),
                    );
                    return (
                        Vec::new(),
                        Vec::new(),
                        Some(Fact::absent(src(d), format!("{d} does not exist"))),
                    );
                }
                if problem.is_none() {
                    problem = Some(missing_for(fs, d, &e, Need::List));
                }
            }
        }
    }
    if let Some(p) = &problem {
        if listed.is_empty() {
            facts.insert(format!("files.{key}"), p.clone());
        } else {
            facts.set(format!("files.{key}"), &src(dir), Value::Array(listed));
        }
    } else {
        facts.set(format!("files.{key}"), &src(dir), Value::Array(listed));
    }
    (exposed, dumps, problem)
}

/// A finding list: with a value when it is non-empty (the finding is certain) or when
/// everything was inspected; missing with the problem's reason when it is empty but some
/// entries could not be inspected.
fn set_list(facts: &mut Facts, key: &str, source: &str, list: Vec<Value>, problem: &Option<Fact>) {
    match problem {
        Some(p) if list.is_empty() => facts.insert(key, p.clone()),
        _ => facts.set(key, source, Value::Array(list)),
    }
}

/// Whether someone other than root could change this object: owned by a non-root user
/// (the owner can always chmod), group-writable by a non-root group, or world-writable.
fn writable_by_non_root(md: &std::fs::Metadata) -> bool {
    let mode = md.mode();
    md.uid() != 0 || (mode & 0o020 != 0 && md.gid() != 0) || mode & 0o002 != 0
}

/// Walks the extensions directory: every entry (`files.extensions`) and those a non-root
/// account could change (`files.extensions_writable_by_non_root`). The base directory is
/// judged too, unless it is root-owned with the sticky bit, not world-writable and group
/// root or `cloud` (then `cloud` can add entries but not replace root's).
fn collect_extensions(fs: &RootFs, acc: &Accounts, facts: &mut Facts) {
    let base = EXTENSIONS_DIR;
    let mut all = Vec::new();
    let mut writable = Vec::new();
    match extensions_base_writable(fs, acc) {
        Ok(w) => {
            if w {
                writable.push(json!(base));
            }
        }
        Err(f) => {
            facts.insert("files.extensions", f.clone());
            facts.insert("files.extensions_writable_by_non_root", f);
            return;
        }
    }
    let problem = walk_extensions(fs, acc, &mut all, &mut writable);
    all.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    writable.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    set_list(facts, "files.extensions", &src(base), all, &problem);
    set_list(
        facts,
        "files.extensions_writable_by_non_root",
        &src(base),
        writable,
        &problem,
    );
}

/// Whether a non-root account could change the extensions base directory itself; `Err`
/// with the fact for both lists when it does not exist or cannot be inspected.
fn extensions_base_writable(fs: &RootFs, acc: &Accounts) -> Result<bool, Fact> {
    let base = EXTENSIONS_DIR;
    let i = match fs.inspect(base) {
        Err(ReadError::NotFound) => {
            return Err(Fact::absent(src(base), format!("{base} does not exist")))
        }
        Err(e) => return Err(missing_for(fs, base, &e, Need::List)),
        Ok(i) => i,
    };
    let md = match &i.link {
        None => i.lstat.clone(),
        Some((_, Ok(r))) => r.metadata.clone(),
        Some(_) => return Ok(false),
    };
    // The packaging's alternative: root-owned, sticky, writable by the group `cloud` only.
    // World-writable (or writable by another group), anyone could plant
    // `<dir>/<dir>.sh` before an admin creates that extension, and the management server
    // would skip its copy and run the planted script.
    let group_ok = md.gid() == 0 || acc.group(md.gid()) == Some("cloud");
    let sticky_root =
        md.uid() == 0 && md.mode() & 0o1000 != 0 && md.mode() & 0o002 == 0 && group_ok;
    Ok(writable_by_non_root(&md) && !sticky_root)
}

/// Walks the extensions tree (at most `MAX_ENTRIES` entries, `MAX_DEPTH` levels) into
/// `all` and `writable`; returns the first problem met.
fn walk_extensions(
    fs: &RootFs,
    acc: &Accounts,
    all: &mut Vec<Value>,
    writable: &mut Vec<Value>,
) -> Option<Fact> {
    let base = EXTENSIONS_DIR;
    let mut problem: Option<Fact> = None;
    // Each directory is resolved once: the base here, the others (real directories,
    // never links) as their parent's real path plus their name.
    let mut stack = vec![(base.to_string(), fs.resolve(base, true), 0usize)];
    while let Some((dir, real, depth)) = stack.pop() {
        let listed = real.and_then(|r| RootFs::list_real(&r, MAX_ENTRIES).map(|l| (r, l)));
        match listed {
            Ok((real, (names, more))) => {
                if more && problem.is_none() {
                    problem = Some(Fact::missing(
                        src(&dir),
                        MissingReason::Unsupported,
                        format!("{dir} has more than {MAX_ENTRIES} entries"),
                    ));
                }
                for name in names {
                    if all.len() >= MAX_ENTRIES {
                        if problem.is_none() {
                            problem = Some(Fact::missing(
                                src(base),
                                MissingReason::Unsupported,
                                format!("{base} holds more than {MAX_ENTRIES} entries"),
                            ));
                        }
                        break;
                    }
                    let p = join(&dir, &name);
                    match entry_json(fs, acc, &real, &name, &p) {
                        Ok((v, md)) => {
                            // Only real directories are descended into: a link to a
                            // directory is judged as the object it leads to, not walked.
                            let is_real_dir =
                                v.get("type").and_then(Value::as_str) == Some("directory");
                            if let Some(md) = &md {
                                if writable_by_non_root(md) {
                                    writable.push(json!(p));
                                }
                            }
                            if is_real_dir {
                                if depth + 1 < MAX_DEPTH {
                                    stack.push((p.clone(), Ok(real.join(&name)), depth + 1));
                                } else if problem.is_none() {
                                    problem = Some(Fact::missing(
                                        src(&p),
                                        MissingReason::Unsupported,
                                        format!("{p}: deeper than {MAX_DEPTH} levels, not walked"),
                                    ));
                                }
                            }
                            all.push(v);
                        }
                        Err(f) => {
                            if problem.is_none() {
                                problem = Some(f);
                            }
                        }
                    }
                }
            }
            Err(e) => {
                if problem.is_none() {
                    problem = Some(missing_for(fs, &dir, &e, Need::List));
                }
            }
        }
    }
    problem
}

/// A small text file (at most 256 KiB), or the fact saying why it cannot be read.
pub(super) fn read_text(fs: &RootFs, abs: &str) -> Result<String, Fact> {
    match fs.read_capped(abs, CONF_CAP) {
        Ok(b) => Ok(b.iter().map(|&c| char::from(c)).collect()),
        Err(e) => Err(match e {
            ReadError::NotFound => Fact::absent(src(abs), format!("{abs} does not exist")),
            ReadError::PermissionDenied => Fact::missing(
                src(abs),
                MissingReason::PermissionDenied,
                denied_detail(fs, abs, Need::Read),
            ),
            other => Fact::missing(src(abs), other.reason(), format!("{abs}: {other}")),
        }),
    }
}

/// Runs the inventory. `keystore` is `https.keystore` from server.properties when it was
/// read (`Ok(None)`: the key is not set; `Err`: server.properties could not be read).
pub fn collect(fs: &RootFs, facts: &mut Facts, keystore: Result<Option<String>, Fact>) {
    let acc = Accounts::load(fs);
    let problems = acc.problems.join("; ");
    facts.source(
        "files",
        if problems.is_empty() {
            SourceStatus::ok("files", fs.root().display().to_string())
        } else {
            SourceStatus::failed(
                "files",
                fs.root().display().to_string(),
                MissingReason::Error,
                format!("owner/group names unavailable: {problems}"),
            )
        },
    );
    collect_single_files(fs, &acc, facts, keystore);
    collect_layout(fs, &acc, facts);
    let dump_dirs = super::jvm::collect(fs, facts, LOG_DIR);
    collect_all_logs(fs, &acc, facts, &dump_dirs);
    collect_extensions(fs, &acc, facts);
}

/// The fixed paths (`file.*`) and the HTTPS keystore.
fn collect_single_files(
    fs: &RootFs,
    acc: &Accounts,
    facts: &mut Facts,
    keystore: Result<Option<String>, Fact>,
) {
    for (name, path) in SINGLE {
        facts.insert(format!("file.{name}"), describe(fs, acc, path));
    }
    // The HTTPS keystore named in server.properties (ServerDaemon only opens it when
    // https.enable=true, but a keystore on disk holds the key whatever the flag says).
    match keystore {
        Ok(Some(p)) if p.starts_with('/') => {
            facts.insert("file.https_keystore", describe(fs, acc, &p));
        }
        Ok(Some(p)) => facts.insert(
            "file.https_keystore",
            Fact::missing(
                "server.properties",
                MissingReason::Unsupported,
                format!("https.keystore {p:?} is relative (resolved against the service's working directory); not inspected"),
            ),
        ),
        Ok(None) => {
            facts.insert("file.https_keystore", describe(fs, acc, DEFAULT_KEYSTORE));
        }
        Err(f) => facts.insert("file.https_keystore", f),
    }
}

/// `~cloud`, its SSH key, sudoers and the packaging layout they reveal.
fn collect_layout(fs: &RootFs, acc: &Accounts, facts: &mut Facts) {
    // Layout: ~cloud from the tree's passwd, else whichever packaging home exists.
    let mut layout = "unknown";
    let home = match acc.home("cloud") {
        Some(h) => {
            layout = CLOUD_HOMES
                .iter()
                .find(|(_, p)| *p == h.trim_end_matches('/'))
                .map(|(l, _)| *l)
                .unwrap_or("custom");
            Some(h.trim_end_matches('/').to_string())
        }
        None => CLOUD_HOMES
            .iter()
            .find(|(_, p)| fs.inspect(p).is_ok())
            .map(|(l, p)| {
                layout = l;
                p.to_string()
            }),
    };
    match &home {
        Some(h) => {
            facts.insert("file.cloud_home", describe(fs, acc, h));
            facts.insert(
                "file.cloud_ssh_key",
                describe(fs, acc, &format!("{h}/.ssh/id_rsa")),
            );
        }
        None => {
            let f = Fact::absent(
                "files:/etc/passwd",
                "no `cloud` user in the tree's /etc/passwd and neither /var/cloudstack/management nor /var/lib/cloudstack/management exists",
            );
            facts.insert("file.cloud_home", f.clone());
            facts.insert("file.cloud_ssh_key", f);
        }
    }
    let mut sudoers = None;
    for (l, p) in SUDOERS {
        let f = describe(fs, acc, p);
        if f.value.is_some()
            || !f
                .missing
                .as_ref()
                .is_some_and(|m| m.reason.is_known_absent())
        {
            if layout == "unknown" {
                layout = l;
            }
            sudoers = Some(f);
            break;
        }
    }
    facts.insert(
        "file.sudoers",
        sudoers.unwrap_or_else(|| {
            Fact::absent(
                "files:/etc/sudoers.d",
                "neither /etc/sudoers.d/cloudstack-management (EL) nor /etc/sudoers.d/cloudstack (DEB) exists",
            )
        }),
    );
    facts.set("files.layout", "files", layout);
}

/// Log directories and heap dumps (`files.logs*`, `files.usage_logs*`, `files.heap_dumps*`).
fn collect_all_logs(fs: &RootFs, acc: &Accounts, facts: &mut Facts, dump_dirs: &[String]) {
    // Logs and heap dumps.
    let (exposed, dumps, problem) = collect_logs(fs, acc, facts, "logs", LOG_DIR, dump_dirs);
    set_list(
        facts,
        "files.logs_exposed",
        &src(LOG_DIR),
        exposed,
        &problem,
    );
    let dump_exposed: Vec<Value> = dumps
        .iter()
        .filter(|d| {
            d["mode"]
                .as_str()
                .and_then(crate::catalog::parse_mode)
                .is_some_and(|m| m & 0o004 != 0)
        })
        .map(|d| d["path"].clone())
        .collect();
    set_list(facts, "files.heap_dumps", &src(LOG_DIR), dumps, &problem);
    set_list(
        facts,
        "files.heap_dumps_exposed",
        &src(LOG_DIR),
        dump_exposed,
        &problem,
    );
    let (uexp, _, uproblem) = collect_logs(fs, acc, facts, "usage_logs", USAGE_LOG_DIR, &[]);
    set_list(
        facts,
        "files.usage_logs_exposed",
        &src(USAGE_LOG_DIR),
        uexp,
        &uproblem,
    );
}
