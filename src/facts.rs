//! The fact model: what an audit observed, per source, with provenance.
//!
//! Facts are plain serde data. Every map is a `BTreeMap`, so a facts file serialises the
//! same way every time. A fact either has a value or says why it has none
//! ([`Missing`]). **No secret value is ever stored in a fact**: collectors record only
//! metadata about secrets (present, `ENC()`-wrapped, equal to a shipped default, a keyed
//! fingerprint).
//!
//! Fact keys are dotted names; the namespaces are documented in `docs/facts.md`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Version of the facts file format. Bump on incompatible changes.
pub const FACTS_SCHEMA_VERSION: u32 = 1;

/// Why a fact has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// The thing observed is known not to exist (file absent, setting row absent, port not
    /// listening). This is a *fact* in itself; checks decide what it means (`if_absent`).
    Absent,
    /// The auditor lacked the permission to read it.
    PermissionDenied,
    /// The source did not answer in time.
    Timeout,
    /// The collector for this source did not run (not asked, or not reachable).
    NotCollected,
    /// The source exists but in a form this version cannot read (e.g. an odd DB schema).
    Unsupported,
    /// Collection failed for another reason (parse error, connection refused, ...).
    Error,
}

impl MissingReason {
    /// `true` when the fact is known to be absent, as opposed to "could not be collected".
    pub fn is_known_absent(self) -> bool {
        matches!(self, MissingReason::Absent)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MissingReason::Absent => "absent",
            MissingReason::PermissionDenied => "permission_denied",
            MissingReason::Timeout => "timeout",
            MissingReason::NotCollected => "not_collected",
            MissingReason::Unsupported => "unsupported",
            MissingReason::Error => "error",
        }
    }
}

/// Why a fact is missing, in words a person can act on. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub reason: MissingReason,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Missing {
    pub fn new(reason: MissingReason, detail: impl Into<String>) -> Missing {
        Missing {
            reason,
            detail: detail.into(),
        }
    }
    pub fn absent(detail: impl Into<String>) -> Missing {
        Missing::new(MissingReason::Absent, detail)
    }
    pub fn timeout(detail: impl Into<String>) -> Missing {
        Missing::new(MissingReason::Timeout, detail)
    }
    pub fn error(detail: impl Into<String>) -> Missing {
        Missing::new(MissingReason::Error, detail)
    }
    pub fn unsupported(detail: impl Into<String>) -> Missing {
        Missing::new(MissingReason::Unsupported, detail)
    }
    pub fn not_collected(detail: impl Into<String>) -> Missing {
        Missing::new(MissingReason::NotCollected, detail)
    }
    /// The same reason with `context: ` put before the detail.
    pub fn context(self, context: &str) -> Missing {
        let detail = if self.detail.is_empty() {
            context.to_string()
        } else {
            format!("{context}: {}", self.detail)
        };
        Missing { detail, ..self }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.reason.as_str())
        } else {
            write!(f, "{}: {}", self.reason.as_str(), self.detail)
        }
    }
}

/// I/O errors map onto the reasons by kind: not found is a known absence, a denied
/// permission and a timeout say so, everything else is an error. The detail is the
/// error's own text (which never holds file contents).
impl From<std::io::Error> for Missing {
    fn from(e: std::io::Error) -> Missing {
        use std::io::ErrorKind as K;
        let reason = match e.kind() {
            K::NotFound => MissingReason::Absent,
            K::PermissionDenied => MissingReason::PermissionDenied,
            K::TimedOut | K::WouldBlock => MissingReason::Timeout,
            _ => MissingReason::Error,
        };
        Missing::new(reason, e.to_string())
    }
}

impl From<tokio::time::error::Elapsed> for Missing {
    fn from(_: tokio::time::error::Elapsed) -> Missing {
        Missing::timeout("no answer within the timeout")
    }
}

/// One observed fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// The observed value (absent when `missing` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Where it was observed: a source id from [`Facts::sources`], plus a locator
    /// (a path, `table.column`, `host:port`), e.g. `db:cloud.configuration`.
    pub source: String,
    /// Set when there is no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
}

impl Fact {
    pub fn value(source: impl Into<String>, value: impl Into<Value>) -> Fact {
        Fact {
            value: Some(value.into()),
            source: source.into(),
            missing: None,
        }
    }
    pub fn missing(
        source: impl Into<String>,
        reason: MissingReason,
        detail: impl Into<String>,
    ) -> Fact {
        Fact {
            value: None,
            source: source.into(),
            missing: Some(Missing {
                reason,
                detail: detail.into(),
            }),
        }
    }
    pub fn absent(source: impl Into<String>, detail: impl Into<String>) -> Fact {
        Fact::missing(source, MissingReason::Absent, detail)
    }
    /// A fact that has no value, for the reason `m` gives.
    pub fn from_missing(source: impl Into<String>, m: Missing) -> Fact {
        Fact {
            value: None,
            source: source.into(),
            missing: Some(m),
        }
    }
}

/// How one source fared as a whole (the database, a file tree, an endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// Kind of source: `properties`, `database`, `export`, `files`, `tls`, `proc`, ...
    pub kind: String,
    /// What was read (a path, a redacted DB URL, `host:port`). Never holds a password.
    pub location: String,
    /// `ok`, or a [`MissingReason`] string.
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A source the operator chose not to collect (`--no-db`, `--host-state never`, an
/// offline settings export, endpoints not probed), as opposed to one that failed: why,
/// and the namespaces left `not_collected` by that choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub reason: String,
    pub namespaces: Vec<String>,
}

/// The audit's record: every fact, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub schema_version: u32,
    /// Tool name and version that collected these facts.
    pub collector: String,
    /// Host name of the audited system (from `--host`, the audited tree, or the machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Collection time (RFC 3339), only when asked for with `--timestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceStatus>,
    /// Key prefixes a collector read completely (e.g. `props.db.` once db.properties was
    /// parsed, `cs.setting.` once the configuration table was read): a key under a complete
    /// prefix that has no fact is known to be absent. A prefix whose source failed carries
    /// the reason, which then applies to every key under it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, Fact>,
    #[serde(default)]
    pub facts: BTreeMap<String, Fact>,
    /// Sources not collected by the operator's choice, by source id (see [`Skipped`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, Skipped>,
}

impl Default for Facts {
    fn default() -> Self {
        Facts::new()
    }
}

impl Facts {
    pub fn new() -> Facts {
        Facts {
            schema_version: FACTS_SCHEMA_VERSION,
            collector: format!("stackposture {}", env!("CARGO_PKG_VERSION")),
            host: None,
            collected_at: None,
            sources: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            facts: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }

    /// Records a fact. A later insert for the same key replaces the earlier one, except
    /// that a fact with a value is never replaced by a missing one from another source.
    pub fn insert(&mut self, key: impl Into<String>, fact: Fact) {
        let key = key.into();
        if let Some(old) = self.facts.get(&key) {
            if old.value.is_some() && fact.value.is_none() {
                return;
            }
        }
        self.facts.insert(key, fact);
    }

    pub fn set(&mut self, key: impl Into<String>, source: &str, value: impl Into<Value>) {
        self.insert(key, Fact::value(source, value));
    }

    /// The fact for `key`: the recorded one, else what the longest enclosing namespace
    /// says (known absent, or the namespace's own missing reason), else `None`
    /// (nothing collected it).
    pub fn get(&self, key: &str) -> Option<std::borrow::Cow<'_, Fact>> {
        if let Some(f) = self.facts.get(key) {
            return Some(std::borrow::Cow::Borrowed(f));
        }
        let ns = self
            .namespaces
            .iter()
            .filter(|(p, _)| key.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())?;
        let (prefix, nf) = ns;
        Some(std::borrow::Cow::Owned(match &nf.missing {
            Some(m) => Fact::missing(nf.source.clone(), m.reason, m.detail.clone()),
            None => Fact::absent(
                nf.source.clone(),
                format!("not present in {} ({prefix}*)", nf.source),
            ),
        }))
    }

    /// Declares that every key under `prefix` was read from `source` (see `namespaces`).
    pub fn namespace_complete(&mut self, prefix: &str, source: &str) {
        self.namespaces
            .insert(prefix.to_string(), Fact::value(source, true));
    }

    /// Declares that no key under `prefix` could be read, and why.
    pub fn namespace_missing(
        &mut self,
        prefix: &str,
        source: &str,
        reason: MissingReason,
        detail: impl Into<String>,
    ) {
        if self
            .namespaces
            .get(prefix)
            .is_some_and(|f| f.value.is_some())
        {
            return;
        }
        self.namespaces
            .insert(prefix.to_string(), Fact::missing(source, reason, detail));
    }

    /// Declares that the operator chose not to collect `source`: its namespaces are
    /// `not_collected` with `reason`, and the choice is recorded in `skipped`.
    pub fn skipped_by_choice(&mut self, source: &str, prefixes: &[&str], reason: &str) {
        for p in prefixes {
            self.namespace_missing(p, source, MissingReason::NotCollected, reason);
        }
        let e = self
            .skipped
            .entry(source.to_string())
            .or_insert_with(|| Skipped {
                reason: reason.to_string(),
                namespaces: Vec::new(),
            });
        for p in prefixes {
            if !e.namespaces.iter().any(|q| q == p) {
                e.namespaces.push(p.to_string());
            }
        }
        e.namespaces.sort();
    }

    /// The operator's choice that left `key` uncollected, if one did: the skipped source
    /// whose namespace is the longest prefix of `key` among all namespaces.
    pub fn skipped_choice_for(&self, key: &str) -> Option<&Skipped> {
        let (prefix, ns) = self
            .namespaces
            .iter()
            .filter(|(p, _)| key.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())?;
        if ns.missing.as_ref()?.reason != MissingReason::NotCollected {
            return None;
        }
        self.skipped
            .values()
            .find(|s| s.namespaces.iter().any(|p| p == prefix))
    }

    pub fn source(&mut self, id: &str, status: SourceStatus) {
        self.sources.insert(id.to_string(), status);
    }

    /// Merges `other` into `self` (facts with values win over missing ones).
    pub fn merge(&mut self, other: Facts) {
        for (k, s) in other.sources {
            self.sources.insert(k, s);
        }
        for (k, f) in other.namespaces {
            if f.value.is_some() || !self.namespaces.contains_key(&k) {
                self.namespaces.insert(k, f);
            }
        }
        for (k, f) in other.facts {
            self.insert(k, f);
        }
        for (k, s) in other.skipped {
            self.skipped.insert(k, s);
        }
        if self.host.is_none() {
            self.host = other.host;
        }
    }

    /// Reads a facts file, refusing other schema versions with a clear message.
    pub fn from_json(text: &str) -> Result<Facts, String> {
        // One pass straight into the struct (the common case); anything else is parsed
        // again below for the precise complaint.
        if let Ok(f) = serde_json::from_str::<Facts>(text) {
            if f.schema_version == FACTS_SCHEMA_VERSION {
                return Ok(f);
            }
        }
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not a facts file: {e}"))?;
        match v.get("schema_version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(FACTS_SCHEMA_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "facts schema_version {n} is not supported (this build reads {FACTS_SCHEMA_VERSION})"
                ))
            }
            None => return Err("not a facts file: no schema_version".into()),
        }
        serde_json::from_value(v).map_err(|e| format!("malformed facts file: {e}"))
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("facts serialise");
        s.push('\n');
        s
    }
}

impl SourceStatus {
    pub fn ok(kind: &str, location: impl Into<String>) -> SourceStatus {
        SourceStatus {
            kind: kind.into(),
            location: location.into(),
            status: "ok".into(),
            detail: String::new(),
        }
    }
    pub fn failed(
        kind: &str,
        location: impl Into<String>,
        reason: MissingReason,
        detail: impl Into<String>,
    ) -> SourceStatus {
        SourceStatus {
            kind: kind.into(),
            location: location.into(),
            status: reason.as_str().into(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_reasons() {
        use std::io::{Error, ErrorKind};
        let m: Missing = Error::from(ErrorKind::NotFound).into();
        assert_eq!(m.reason, MissingReason::Absent);
        let m: Missing = Error::from(ErrorKind::PermissionDenied).into();
        assert_eq!(m.reason, MissingReason::PermissionDenied);
        let m: Missing = Error::from(ErrorKind::TimedOut).into();
        assert_eq!(m.reason, MissingReason::Timeout);
        let m: Missing = Error::other("boom").into();
        assert_eq!(m.reason, MissingReason::Error);
        assert_eq!(
            m.clone().context("reading x").to_string(),
            "error: reading x: boom"
        );
        let f = Fact::from_missing("db", m);
        assert!(f.value.is_none() && f.missing.is_some());
    }
}
