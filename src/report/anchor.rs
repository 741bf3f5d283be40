//! A physical location (a file relative to `--root`, and a line) for every result, for
//! code scanning. Documented for users in docs/sarif.md; the rules, in order, for the
//! first observation of a result:
//! 1. a properties fact (`source` = `db.properties:12`): that file and line;
//! 2. a file fact (a value with `path`, or a list of them): that file, line 1;
//! 3. a database fact (`db:*`, `cs.*`, `dbserver.*`): the `db.properties` line that names
//!    the database host (`db.cloud.host`), else line 1 of `db.properties`;
//! 4. a TLS fact (`tls.LABEL.*`): the line that sets the endpoint's port:
//!    `https.port` (https, and the summary) or `http.port` in `server.properties`,
//!    `cluster.servlet.port` in `db.properties` (cluster); the agent port is a database
//!    setting, so rule 3 (agent);
//! 5. anything else (host state: processes, listening sockets, clock, packages):
//!    line 1 of `server.properties`, the management server's configuration.
//!
//! A line is known only when the report was built from facts (`audit`, `evaluate`);
//! from a JSON report read back, anchors fall back to line 1 of the same file.

use super::Report;
use crate::evaluate::{CheckResult, Observation};
use crate::facts::Facts;
use std::collections::BTreeMap;

pub const DB_PROPERTIES: &str = "/etc/cloudstack/management/db.properties";
pub const SERVER_PROPERTIES: &str = "/etc/cloudstack/management/server.properties";

/// The facts whose lines anchor DB and TLS results, with the file they live in.
const ANCHOR_KEYS: &[&str] = &[
    "props.db.db.cloud.host",
    "props.server.https.port",
    "props.server.http.port",
    "props.db.cluster.servlet.port",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to `--root` (no leading `/`).
    pub uri: String,
    /// 1-based.
    pub line: u64,
    /// Which rule chose it, for the location's message.
    pub why: String,
}

/// The sources (`db.properties:12`) of the anchor facts, taken from the facts.
pub fn collect(facts: &Facts) -> BTreeMap<String, String> {
    ANCHOR_KEYS
        .iter()
        .filter_map(|k| facts.get(k).map(|f| (k.to_string(), f.source.clone())))
        .collect()
}

/// A host path as a URI reference relative to `--root`: no leading `/`, every byte
/// outside RFC 3986's unreserved set (and `/`) percent-encoded, so a hostile file name
/// cannot carry control characters or change the URI's meaning.
pub fn relative(path: &str) -> String {
    let p = path.trim_start_matches('/');
    if p.is_empty() {
        return ".".into();
    }
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `db.properties:12` -> (the file's path, 12), the path from the report's sources.
fn properties_source(report: &Report, source: &str) -> Option<(String, u64)> {
    let (id, line) = source.rsplit_once(':')?;
    let line: u64 = line.parse().ok().filter(|l| *l > 0)?;
    if !id.ends_with(".properties") {
        return None;
    }
    let path = match report.sources.get(id) {
        Some(s) if s.location.starts_with('/') => s.location.clone(),
        _ if id == "server.properties" => SERVER_PROPERTIES.into(),
        _ => DB_PROPERTIES.into(),
    };
    Some((path, line))
}

fn file_path(o: &Observation) -> Option<String> {
    let v = o.value.as_ref()?;
    let one = |v: &serde_json::Value| v.get("path").and_then(|p| p.as_str()).map(str::to_string);
    one(v).or_else(|| v.as_array().and_then(|a| a.iter().find_map(one)))
}

fn at_fact(report: &Report, key: &str, fallback: &str, why: &str) -> Location {
    let found = report
        .anchors
        .get(key)
        .and_then(|s| properties_source(report, s));
    match found {
        Some((path, line)) => Location {
            uri: relative(&path),
            line,
            why: format!(
                "{why}: the line that sets {}",
                &key[key.find('.').map_or(0, |i| i + 1)..]
            ),
        },
        None => Location {
            uri: relative(fallback),
            line: 1,
            why: why.to_string(),
        },
    }
}

fn database(report: &Report) -> Location {
    at_fact(report, "props.db.db.cloud.host", DB_PROPERTIES, "database")
}

fn tls(report: &Report, label: &str) -> Location {
    match label {
        "http" => at_fact(
            report,
            "props.server.http.port",
            SERVER_PROPERTIES,
            "TLS endpoint http",
        ),
        "cluster" => at_fact(
            report,
            "props.db.cluster.servlet.port",
            DB_PROPERTIES,
            "TLS endpoint cluster",
        ),
        "agent" => database(report),
        _ => at_fact(
            report,
            "props.server.https.port",
            SERVER_PROPERTIES,
            "TLS endpoint",
        ),
    }
}

fn of_observation(report: &Report, o: &Observation) -> Location {
    if let Some((path, line)) = properties_source(report, &o.source) {
        return Location {
            uri: relative(&path),
            line,
            why: format!("the line that sets {}", o.fact),
        };
    }
    if o.fact.starts_with("file.") || o.fact.starts_with("files.") {
        if let Some(p) = file_path(o) {
            return Location {
                uri: relative(&p),
                line: 1,
                why: format!("the file of {}", o.fact),
            };
        }
    }
    if o.source.starts_with("db:") || o.fact.starts_with("cs.") || o.fact.starts_with("dbserver.") {
        return database(report);
    }
    if let Some(rest) = o.fact.strip_prefix("tls.") {
        return tls(report, rest.split('.').next().unwrap_or(""));
    }
    Location {
        uri: relative(SERVER_PROPERTIES),
        line: 1,
        why: "host state".into(),
    }
}

/// The location of one result (see the module doc).
pub fn locate(report: &Report, r: &CheckResult) -> Location {
    // Prefer an observation that points at a file and line of its own.
    let obs = &r.evidence.observed;
    let best = obs
        .iter()
        .find(|o| {
            properties_source(report, &o.source).is_some()
                || (o.fact.starts_with("file") && file_path(o).is_some())
        })
        .or_else(|| obs.first());
    match best {
        Some(o) => of_observation(report, o),
        None => Location {
            uri: relative(SERVER_PROPERTIES),
            line: 1,
            why: "no observation".into(),
        },
    }
}
