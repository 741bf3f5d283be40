//! The catalog as written: the TOML shapes of a check and its conditions, before
//! validation. [`super::compile`] turns a [`CheckSpec`] into a [`super::Check`] whose
//! conditions are typed expressions; nothing evaluates a spec directly.
//!
//! A condition is a TOML table with an `op` and the operands that op takes:
//!
//! ```toml
//! condition = { op = "one_of", values = ["file", "env"] }
//! condition = { op = "mode_at_most", mode = "0640" }
//! condition = { op = "ge", value = { param = "min_days" } }
//! condition = { op = "all", of = [
//!     { fact = "props.server.https.enable", op = "is_true" },
//!     { fact = "cs.setting.endpoint.url", op = "matches", regex = "^https://" },
//! ] }
//! ```
//!
//! Leaves read the check's `fact` (and `field`) unless they name their own; a composite
//! naming a fact passes it (and its field) down to its leaves.

use super::{IfAbsent, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equals,
    NotEquals,
    OneOf,
    NotOneOf,
    IsTrue,
    IsFalse,
    Gt,
    Ge,
    Lt,
    Le,
    Matches,
    NotMatches,
    Contains,
    NotContains,
    Empty,
    NotEmpty,
    ModeAtMost,
    OwnerIn,
    GroupIn,
    Present,
    Absent,
    DaysUntilAtLeast,
    /// Every CIDR in a comma-separated list is at least this narrow (IPv4 prefix
    /// length; IPv6 prefixes are compared as prefix - 96); an empty list is false.
    CidrPrefixAtLeast,
    /// Every item of a list fact is in `value` (a list literal or a list param), e.g. the
    /// accepted TLS protocols within the allowed set a profile may override.
    SubsetOf,
    /// The installed release (`cs.version`, else `vuln.cloudstack.version`, as the
    /// settings history reads it) is at least `value`: one release, or a list of one
    /// release per line, oldest first (`catalog::history::ReleaseSet`). The leaf names
    /// `fact = "cs.version"`.
    ReleaseAtLeast,
    All,
    Any,
    Not,
}

impl Op {
    /// The op's name as written in the catalog.
    pub fn name(self) -> String {
        toml::Value::try_from(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{self:?}"))
    }
}

/// A literal operand, or a reference to one of the check's `params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Param { param: String },
    Literal(toml::Value),
}

/// A condition as written in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ParamValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<toml::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<Vec<ConditionSpec>>,
    /// Compare strings case-insensitively (equals, one_of, contains, matches, subset_of).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    /// Per-leaf override of the check's `if_absent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_absent: Option<IfAbsent>,
    /// A leaf's explanation, appended to its description in the evidence ("0 binds a
    /// random port before these releases").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A check as written in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Stable id, e.g. `CS-API-001`.
    pub id: String,
    pub title: String,
    pub duty: String,
    pub severity: Severity,
    /// The fact the condition reads (leaves may name their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<Spanned<String>>,
    /// A field inside the fact's value (dotted path), e.g. `mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub condition: ConditionSpec,
    /// Applicability: when this evaluates false the check is `not_applicable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ConditionSpec>,
    pub if_absent: IfAbsent,
    /// The product default of the setting or file property the check reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<toml::Value>,
    /// Where/when the default changed, e.g. "true on fresh installs since 4.10 (server-setup.sql)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_note: Option<String>,
    /// Named thresholds the condition refers to with `{ param = "name" }`; profiles may override.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, toml::Value>,
    pub rationale: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Catalog file (relative) and line where the check starts; filled by the loader.
    #[serde(skip_deserializing, default)]
    pub location: String,
}

impl CheckSpec {
    /// The fact the check reads by default, if it names one.
    pub fn fact_key(&self) -> Option<&str> {
        self.fact.as_ref().map(|f| f.get_ref().as_str())
    }
}

/// A catalog item that was considered and deliberately not turned into a check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Omitted {
    pub item: String,
    pub reason: String,
    #[serde(default)]
    pub references: Vec<String>,
}

/// A file of checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckFile {
    #[serde(default)]
    pub check: Vec<Spanned<CheckSpec>>,
    #[serde(default)]
    pub omitted: Vec<Omitted>,
    /// Settings by release (see `history`).
    #[serde(default)]
    pub setting: Vec<Spanned<super::history::SettingSpec>>,
}
