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
}
