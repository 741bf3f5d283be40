//! The installed CloudStack version from every source that records it, and whether they
//! agree.
//!
//! Sources: the `cloud` database's `version` table (`cs.version`: the schema version the
//! management server last migrated to; every upgrade, a security release included, adds
//! a row: `engine/schema/src/main/java/com/cloud/upgrade/DatabaseUpgradeChecker.java:258-272`
//! `calculateUpgradePath` appends a `NoopDbUpgrade` to the running version), the dpkg
//! status database, the RPM database, and the management jar's file name.

use super::version::Version;
use crate::facts::Facts;
use serde_json::{json, Value};

/// `(fact key, label)` of every source, in the order they are reported.
pub const SOURCES: &[(&str, &str)] = &[
    ("cs.version", "database schema"),
    ("pkg.dpkg.cloudstack-management", "dpkg package"),
    ("pkg.rpm.cloudstack-management", "RPM package"),
    ("pkg.jar.cloudstack-management", "management jar"),
];

/// One source that gave a version.
#[derive(Debug, Clone)]
pub struct Seen {
    pub key: &'static str,
    pub label: &'static str,
    pub raw: String,
    pub version: Version,
}

/// Every source with a readable version, in [`SOURCES`] order.
pub fn seen(facts: &Facts) -> Vec<Seen> {
    let mut out = Vec::new();
    for (key, label) in SOURCES {
        let Some(f) = facts.facts.get(*key) else {
            continue;
        };
        let raw = match &f.value {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("version").and_then(Value::as_str).map(String::from),
            _ => None,
        };
        if let Some(raw) = raw {
            if let Some(version) = Version::parse(&raw) {
                out.push(Seen {
                    key,
                    label,
                    raw,
                    version,
                });
            }
        }
    }
    out
}

/// The version to match advisories against: the lowest one seen. When the database
/// schema is newer than the packages, the code that runs is the packages'; when the
/// packages are newer, the server still runs (or last ran) the version the schema
/// records.
pub fn effective(seen: &[Seen]) -> Option<&Seen> {
    seen.iter().min_by(|a, b| a.version.cmp(&b.version))
}

/// Disagreements between the sources, one sentence each (empty: they agree).
pub fn skew(seen: &[Seen]) -> Vec<String> {
    let mut out = Vec::new();
    let db = seen.iter().find(|s| s.key == "cs.version");
    for p in seen.iter().filter(|s| s.key != "cs.version") {
        if let Some(db) = db {
            if db.version > p.version {
                out.push(format!(
                    "the database schema ({}) is newer than the {} ({}): an upgrade in progress or a rolled-back package; the code that runs is the package's",
                    db.version, p.label, p.raw
                ));
            } else if db.version < p.version {
                out.push(format!(
                    "the {} ({}) is newer than the database schema ({}): the management server has not migrated the database yet (restart pending, or the upgrade failed)",
                    p.label, p.raw, db.version
                ));
            }
        }
    }
    let pkgs: Vec<&Seen> = seen.iter().filter(|s| s.key != "cs.version").collect();
    for (i, a) in pkgs.iter().enumerate() {
        for b in &pkgs[i + 1..] {
            if a.version != b.version {
                out.push(format!(
                    "the {} ({}) and the {} ({}) differ: a partial upgrade or a stale file",
                    a.label, a.raw, b.label, b.raw
                ));
            }
        }
    }
    out
}

/// The `vuln.cloudstack.installed` value: every source's version (null when it gave none).
pub fn describe(facts: &Facts, seen: &[Seen]) -> Value {
    let mut m = serde_json::Map::new();
    for (key, _) in SOURCES {
        let v = seen.iter().find(|s| s.key == *key).map(|s| s.raw.clone());
        let why = facts.get(key).and_then(|f| f.missing.clone());
        m.insert(
            key.to_string(),
            match (v, why) {
                (Some(v), _) => json!(v),
                (None, Some(m)) => json!(format!("unknown: {}: {}", m.reason.as_str(), m.detail)),
                (None, None) => json!("unknown: not collected"),
            },
        );
    }
    Value::Object(m)
}
