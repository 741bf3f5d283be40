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

/// Management-server home (`~cloud`) per layout: EL first, then DEB.
pub const CLOUD_HOMES: &[(&str, &str)] = &[
    ("el", "/var/cloudstack/management"),
    ("deb", "/var/lib/cloudstack/management"),
];
/// sudoers drop-in per layout (`server/conf/cloudstack-sudoers.in`, shared/reference/cloudstack.md §7.1).
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

fn src(path: &str) -> String {
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
/// the tree down to `dir` (inclusive), i.e. could reach a file in it.
fn others_can_traverse(fs: &RootFs, dir: &str) -> Option<bool> {
    let real = fs.resolve(dir, true).ok()?;
    let mut p = real.as_path();
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

fn entry_json(
    fs: &RootFs,
    acc: &Accounts,
    abs: &str,
) -> Result<(Value, Option<std::fs::Metadata>), Fact> {
    match fs.inspect(abs) {
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
        match fs.list_dir(d, MAX_ENTRIES) {
            Ok((names, more)) => {
                let reach = others_can_traverse(fs, d).unwrap_or(true);
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
                    match entry_json(fs, acc, &p) {
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
    let mut problem: Option<Fact> = None;
    match fs.inspect(base) {
        Err(ReadError::NotFound) => {
            let f = Fact::absent(src(base), format!("{base} does not exist"));
            facts.insert("files.extensions", f.clone());
            facts.insert("files.extensions_writable_by_non_root", f);
            return;
        }
        Err(e) => {
            let f = missing_for(fs, base, &e, Need::List);
            facts.insert("files.extensions", f.clone());
            facts.insert("files.extensions_writable_by_non_root", f);
            return;
        }
        Ok(i) => {
            let md = match &i.link {
                None => Some(i.lstat.clone()),
                Some((_, Ok(r))) => Some(r.metadata.clone()),
                Some(_) => None,
            };
            if let Some(md) = md {
                // The packaging's alternative: root-owned, sticky, writable by the group
                // `cloud` only. World-writable (or writable by another group), anyone could
                // plant `<dir>/<dir>.sh` before an admin creates that extension, and the
                // management server would skip its copy and run the planted script.
                let group_ok = md.gid() == 0 || acc.group(md.gid()) == Some("cloud");
                let sticky_root =
                    md.uid() == 0 && md.mode() & 0o1000 != 0 && md.mode() & 0o002 == 0 && group_ok;
                if writable_by_non_root(&md) && !sticky_root {
                    writable.push(json!(base));
                }
            }
        }
    }
    let mut stack = vec![(base.to_string(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        match fs.list_dir(&dir, MAX_ENTRIES) {
            Ok((names, more)) => {
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
                    match entry_json(fs, acc, &p) {
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
                                    stack.push((p.clone(), depth + 1));
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

/// A shell-style `KEY="value"` file as systemd's `EnvironmentFile=` reads it (last
/// assignment wins, `#` comments, optional quotes, optional `export`).
pub fn parse_env_file(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string(), n + 1));
    }
    out
}

/// What `/etc/default/cloudstack-{management,usage}` says about remote debugging (JDWP)
/// and heap dumps. `JAVA_DEBUG` (and `JAVA_OPTS`) reach the java command line through the
/// systemd units (`packaging/systemd/cloudstack-*.service`).
pub fn jvm_options(text: &str) -> Value {
    let vars = parse_env_file(text);
    let last = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _, _)| k == name)
            .map(|(_, v, l)| (v.clone(), *l))
    };
    let mut jdwp: Option<(String, usize, &str)> = None;
    for var in ["JAVA_DEBUG", "JAVA_OPTS"] {
        if let Some((v, l)) = last(var) {
            if let Some(opt) = v
                .split_whitespace()
                .find(|o| o.starts_with("-agentlib:jdwp") || o.starts_with("-Xrunjdwp"))
            {
                jdwp.get_or_insert((opt.to_string(), l, var));
            }
        }
    }
    let heap_dump_path = last("JAVA_OPTS").and_then(|(v, _)| {
        v.split_whitespace()
            .find_map(|o| o.strip_prefix("-XX:HeapDumpPath=").map(str::to_string))
    });
    let mut m = Map::new();
    m.insert("debug_enabled".into(), json!(jdwp.is_some()));
    if let Some((opt, line, var)) = jdwp {
        let address = opt
            .split([':', ','])
            .find_map(|p| p.strip_prefix("address="))
            .map(str::to_string);
        // `address=8000` or `address=*:8000`: the port is after the last colon.
        let addr_full = opt
            .split(',')
            .find_map(|p| p.split_once("address=").map(|(_, a)| a.to_string()))
            .or(address);
        m.insert("debug_option".into(), json!(opt));
        m.insert("debug_variable".into(), json!(var));
        m.insert("debug_line".into(), json!(line));
        m.insert("debug_address".into(), json!(addr_full));
    }
    m.insert("heap_dump_path".into(), json!(heap_dump_path));
    Value::Object(m)
}

/// Which of TLSv1 and TLSv1.1 a `jdk.tls.disabledAlgorithms` value leaves enabled.
pub fn legacy_tls_allowed(disabled: &str) -> Vec<String> {
    let items: Vec<String> = disabled
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    ["TLSv1", "TLSv1.1"]
        .iter()
        .filter(|p| !items.iter().any(|i| *i == p.to_ascii_lowercase()))
        .map(|p| p.to_string())
        .collect()
}

fn read_text(fs: &RootFs, abs: &str) -> Result<String, Fact> {
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
    for (name, path) in SINGLE {
        facts.insert(format!("file.{name}"), describe(fs, &acc, path));
    }
    // The HTTPS keystore named in server.properties (ServerDaemon only opens it when
    // https.enable=true, but a keystore on disk holds the key whatever the flag says).
    match keystore {
        Ok(Some(p)) if p.starts_with('/') => {
            facts.insert("file.https_keystore", describe(fs, &acc, &p));
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
            facts.insert("file.https_keystore", describe(fs, &acc, DEFAULT_KEYSTORE));
        }
        Err(f) => facts.insert("file.https_keystore", f),
    }
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
            facts.insert("file.cloud_home", describe(fs, &acc, h));
            facts.insert(
                "file.cloud_ssh_key",
                describe(fs, &acc, &format!("{h}/.ssh/id_rsa")),
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
        let f = describe(fs, &acc, p);
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

    // JVM options: JDWP and the heap-dump directory.
    let mut dump_dirs = Vec::new();
    for (svc, path) in [
        ("management", "/etc/default/cloudstack-management"),
        ("usage", "/etc/default/cloudstack-usage"),
    ] {
        match read_text(fs, path) {
            Ok(t) => {
                let v = jvm_options(&t);
                if let Some(d) = v["heap_dump_path"].as_str() {
                    let d = d.trim_end_matches('/');
                    if d.starts_with('/') && d != LOG_DIR && !dump_dirs.iter().any(|x| x == d) {
                        dump_dirs.push(d.to_string());
                    }
                }
                facts.set(format!("jvm.{svc}"), &src(path), v);
            }
            Err(f) => facts.insert(format!("jvm.{svc}"), f),
        }
    }
    let ciphers = "/etc/cloudstack/management/java.security.ciphers";
    match read_text(fs, ciphers) {
        Ok(t) => match super::properties::parse(t.as_bytes()) {
            Ok(props) => {
                let v = props
                    .iter()
                    .rev()
                    .find(|p| p.key == "jdk.tls.disabledAlgorithms")
                    .map(|p| (p.value.clone(), p.line));
                match v {
                    Some((val, line)) => {
                        let s = format!("{}:{line}", src(ciphers));
                        facts.set(
                            "jvm.tls.disabled_algorithms",
                            &s,
                            Value::Array(
                                val.split(',')
                                    .map(|x| json!(x.trim()))
                                    .filter(|x| x != &json!(""))
                                    .collect(),
                            ),
                        );
                        facts.set(
                            "jvm.tls.legacy_protocols_enabled",
                            &s,
                            json!(legacy_tls_allowed(&val)),
                        );
                    }
                    None => {
                        // The file overrides java.security but sets no disabled list:
                        // the JDK's own default list applies (which disables TLSv1/1.1 on
                        // current JDKs); not decided here.
                        for k in [
                            "jvm.tls.disabled_algorithms",
                            "jvm.tls.legacy_protocols_enabled",
                        ] {
                            facts.insert(
                                k,
                                Fact::absent(
                                    src(ciphers),
                                    "java.security.ciphers sets no jdk.tls.disabledAlgorithms",
                                ),
                            );
                        }
                    }
                }
            }
            Err(e) => {
                for k in [
                    "jvm.tls.disabled_algorithms",
                    "jvm.tls.legacy_protocols_enabled",
                ] {
                    facts.insert(
                        k,
                        Fact::missing(
                            src(ciphers),
                            MissingReason::Unsupported,
                            format!("{ciphers}: {e}"),
                        ),
                    );
                }
            }
        },
        Err(f) => {
            facts.insert("jvm.tls.disabled_algorithms", f.clone());
            facts.insert("jvm.tls.legacy_protocols_enabled", f);
        }
    }

    // Logs and heap dumps.
    let (exposed, dumps, problem) = collect_logs(fs, &acc, facts, "logs", LOG_DIR, &dump_dirs);
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
    let (uexp, _, uproblem) = collect_logs(fs, &acc, facts, "usage_logs", USAGE_LOG_DIR, &[]);
    set_list(
        facts,
        "files.usage_logs_exposed",
        &src(USAGE_LOG_DIR),
        uexp,
        &uproblem,
    );

    collect_extensions(fs, &acc, facts);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdwp_from_the_shipped_default_file() {
        let shipped = "JAVA_OPTS=\"-Djava.awt.headless=true -XX:HeapDumpPath=/var/log/cloudstack/management/\"\n#JAVA_DEBUG=\"-agentlib:jdwp=transport=dt_socket,address=*:8000,server=y,suspend=n\"\n";
        let v = jvm_options(shipped);
        assert_eq!(v["debug_enabled"], json!(false));
        assert_eq!(
            v["heap_dump_path"],
            json!("/var/log/cloudstack/management/")
        );
        let on = format!("{shipped}JAVA_DEBUG=\"-agentlib:jdwp=transport=dt_socket,address=*:8000,server=y,suspend=n\"\n");
        let v = jvm_options(&on);
        assert_eq!(v["debug_enabled"], json!(true));
        assert_eq!(v["debug_address"], json!("*:8000"));
        assert_eq!(v["debug_line"], json!(3));
        let old =
            "export JAVA_DEBUG='-Xrunjdwp:transport=dt_socket,address=8000,server=y,suspend=n'\n";
        assert_eq!(jvm_options(old)["debug_address"], json!("8000"));
    }

    #[test]
    fn shipped_cipher_list_leaves_tls10_and_11_on() {
        // client/conf/java.security.ciphers.in (shared/reference/cloudstack.md H15)
        let shipped = "SSLv2Hello, SSLv3, DH keySize < 128, RSA keySize < 128, DES keySize < 128, SHA1 keySize < 128, MD5 keySize < 128, RC4";
        assert_eq!(legacy_tls_allowed(shipped), vec!["TLSv1", "TLSv1.1"]);
        assert!(legacy_tls_allowed("SSLv3, TLSv1, tlsv1.1, RC4").is_empty());
        assert_eq!(legacy_tls_allowed("SSLv3, TLSv1"), vec!["TLSv1.1"]);
    }
}
