//! What evaluation produces: outcomes, the evidence behind them and one result per check.
//!
//! These types are shared by `evaluate` (which makes them), `waivers` (which annotates
//! them), `score` and `report` (which read them); they live here so that none of those
//! modules depends on another for its vocabulary.

use crate::catalog::Severity;
use crate::facts::Missing;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fail,
    Error,
    Unknown,
    Pass,
    NotApplicable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Error => "error",
        }
    }
}

/// One fact as the check saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub fact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    /// True when the fact was absent and the check's product default was evaluated instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default_applied: bool,
    pub source: String,
    /// What the value counts, by name (domains, accounts, users, settings), from the
    /// fact's `names.<field>`: so that a finding says what to fix, not only how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named: Option<Named>,
}

/// Named items behind a count: at most [`Named::MAX`] of them, and the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub items: Vec<String>,
    pub total: u64,
}

impl Named {
    /// Most items a fact names (and a finding shows) for one count.
    pub const MAX: usize = 20;

    /// Reads `names.<field>` of an object fact: `{"items": [...], "total": N}`.
    pub fn from_fact(v: &Value, field: &str) -> Option<Named> {
        let n = v.get("names")?.get(field)?;
        let items: Vec<String> = n
            .get("items")?
            .as_array()?
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .take(Named::MAX)
            .collect();
        let total = n
            .get("total")
            .and_then(Value::as_u64)
            .unwrap_or(items.len() as u64);
        Some(Named { items, total })
    }

    /// Builds the `names.<field>` value from items (all of them) in order.
    pub fn to_json(items: &[String]) -> Value {
        serde_json::json!({
            "items": items.iter().take(Named::MAX).collect::<Vec<_>>(),
            "total": items.len(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub expected: String,
    pub observed: Vec<Observation>,
}

/// A waiver as applied to one result (see `waivers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedWaiver {
    pub reason: String,
    pub expires: String,
    /// False when the waiver has expired (it then has no effect).
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub duty: String,
    pub severity: Severity,
    pub outcome: Outcome,
    /// Why the outcome is what it is, for anything but a plain pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub evidence: Evidence,
    pub rationale: String,
    pub remediation: String,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    /// The compliance controls the check implements: framework id -> control ids (report
    /// schema 1.2.0; absent when the check maps to none, or none of `--framework`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub controls: crate::catalog::Controls,
    /// An operator's waiver for this finding (see `waivers`); the outcome is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// Set on an `unknown` result whose every uncollected fact was left out by the
    /// operator's choice (`--no-db`, `--host-state never`, ...): that choice, by source.
    /// JUnit shows such a result as skipped (schema 1.2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl CheckResult {
    /// Marks the result skipped when it is unknown only because of sources the operator
    /// chose not to collect; a real collection failure among its facts keeps it unknown.
    pub fn mark_skipped(&mut self, facts: &crate::facts::Facts) {
        if self.outcome != Outcome::Unknown {
            return;
        }
        let mut why: Vec<String> = Vec::new();
        for o in &self.evidence.observed {
            let Some(m) = &o.missing else { continue };
            if m.reason.is_known_absent() {
                continue;
            }
            match facts.skipped_choice_for(&o.fact) {
                Some(s) if m.reason == crate::facts::MissingReason::NotCollected => {
                    if !why.contains(&s.reason) {
                        why.push(s.reason.clone());
                    }
                }
                _ => return,
            }
        }
        if !why.is_empty() {
            self.skipped = Some(format!("not collected by choice: {}", why.join("; ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, MissingReason};

    fn unknown_reading(keys: &[&str]) -> CheckResult {
        CheckResult {
            id: "X-Y-1".into(),
            title: String::new(),
            duty: String::new(),
            severity: Severity::Low,
            outcome: Outcome::Unknown,
            reason: None,
            evidence: Evidence {
                expected: String::new(),
                observed: keys
                    .iter()
                    .map(|k| Observation {
                        fact: k.to_string(),
                        field: None,
                        value: None,
                        missing: Some(Missing::new(MissingReason::NotCollected, "x")),
                        default_applied: false,
                        named: None,
                        source: String::new(),
                    })
                    .collect(),
            },
            rationale: String::new(),
            remediation: String::new(),
            references: vec![],
            tags: vec![],
            waiver: None,
            skipped: None,
            controls: Default::default(),
        }
    }

    #[test]
    fn skipped_only_when_every_missing_fact_was_left_out_by_choice() {
        let mut f = Facts::new();
        f.skipped_by_choice(
            "db",
            &["cs.", "dbserver."],
            "database collection disabled (--no-db)",
        );
        f.namespace_missing("tls.", "tls", MissingReason::Timeout, "slow");
        let mut r = unknown_reading(&["cs.setting.a", "dbserver.grants"]);
        r.mark_skipped(&f);
        assert_eq!(
            r.skipped.as_deref(),
            Some("not collected by choice: database collection disabled (--no-db)")
        );
        // One fact from a source that failed: a real unknown, not skipped.
        let mut r = unknown_reading(&["cs.setting.a", "tls.https.protocols"]);
        r.mark_skipped(&f);
        assert_eq!(r.skipped, None);
        // A namespace completed under a skipped prefix is not the choice's doing.
        f.namespace_complete("cs.setting.", "export:x");
        let mut r = unknown_reading(&["cs.setting.a"]);
        r.mark_skipped(&f);
        assert_eq!(r.skipped, None);
        // Only unknowns are ever marked.
        let mut r = unknown_reading(&["cs.version"]);
        r.outcome = Outcome::Fail;
        r.mark_skipped(&f);
        assert_eq!(r.skipped, None);
    }
}
