//! Declarative conditions over facts.
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
//! Leaves read the check's `fact` (and `field`) unless they name their own.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    All,
    Any,
    Not,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::NotEquals => "not_equals",
            Op::OneOf => "one_of",
            Op::NotOneOf => "not_one_of",
            Op::IsTrue => "is_true",
            Op::IsFalse => "is_false",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Matches => "matches",
            Op::NotMatches => "not_matches",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::Empty => "empty",
            Op::NotEmpty => "not_empty",
            Op::ModeAtMost => "mode_at_most",
            Op::OwnerIn => "owner_in",
            Op::GroupIn => "group_in",
            Op::Present => "present",
            Op::Absent => "absent",
            Op::DaysUntilAtLeast => "days_until_at_least",
            Op::CidrPrefixAtLeast => "cidr_prefix_at_least",
            Op::SubsetOf => "subset_of",
            Op::All => "all",
            Op::Any => "any",
            Op::Not => "not",
        }
    }
}

/// A literal operand, or a reference to one of the check's `params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Param { param: String },
    Literal(toml::Value),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
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
    pub of: Option<Vec<Condition>>,
    /// Compare strings case-insensitively (equals, one_of, contains, matches).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    /// Per-leaf override of the check's `if_absent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_absent: Option<super::IfAbsent>,
}

/// Parses an octal mode string like `0640` or `640`.
pub fn parse_mode(s: &str) -> Option<u32> {
    let t = s.trim().trim_start_matches("0o");
    if t.is_empty() || t.len() > 5 {
        return None;
    }
    u32::from_str_radix(t, 8).ok().filter(|m| *m <= 0o7777)
}

impl Condition {
    /// Checks that the op has the operands it needs, and nothing is malformed.
    /// `path` names the position (e.g. `condition.of[1]`) for the error message.
    pub fn validate(
        &self,
        path: &str,
        has_check_fact: bool,
        params: &BTreeMap<String, toml::Value>,
    ) -> Result<(), String> {
        let need = |what: bool, field: &str| -> Result<(), String> {
            if what {
                Ok(())
            } else {
                Err(format!(
                    "field `{path}.{field}`: required by op {}",
                    self.op.as_str()
                ))
            }
        };
        let composite = matches!(self.op, Op::All | Op::Any | Op::Not);
        if composite {
            let of = self.of.as_ref();
            need(of.is_some_and(|v| !v.is_empty()), "of")?;
            if self.op == Op::Not && of.is_some_and(|v| v.len() != 1) {
                return Err(format!(
                    "field `{path}.of`: op not takes exactly one condition"
                ));
            }
            if self.value.is_some() || self.values.is_some() || self.regex.is_some() {
                return Err(format!(
                    "field `{path}`: op {} takes only `of`",
                    self.op.as_str()
                ));
            }
            let has = has_check_fact || self.fact.is_some();
            for (i, c) in self.of.iter().flatten().enumerate() {
                c.validate(&format!("{path}.of[{i}]"), has, params)?;
            }
            return Ok(());
        }
        if self.of.is_some() {
            return Err(format!(
                "field `{path}.of`: only all/any/not take sub-conditions"
            ));
        }
        if !has_check_fact && self.fact.is_none() {
            return Err(format!(
                "field `{path}.fact`: no fact named here or on the check"
            ));
        }
        match self.op {
            Op::Equals | Op::NotEquals | Op::Contains | Op::NotContains | Op::SubsetOf => {
                need(self.value.is_some(), "value")?
            }
            Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::DaysUntilAtLeast | Op::CidrPrefixAtLeast => {
                need(self.value.is_some(), "value")?;
            }
            Op::OneOf | Op::NotOneOf | Op::OwnerIn | Op::GroupIn => need(
                self.values.as_ref().is_some_and(|v| !v.is_empty()),
                "values",
            )?,
            Op::Matches | Op::NotMatches => {
                need(self.regex.is_some(), "regex")?;
                let re = self.regex.as_deref().unwrap_or_default();
                regex::Regex::new(re)
                    .map_err(|e| format!("field `{path}.regex`: invalid regex: {e}"))?;
            }
            Op::ModeAtMost => {
                need(self.mode.is_some(), "mode")?;
                if parse_mode(self.mode.as_deref().unwrap_or_default()).is_none() {
                    return Err(format!(
                        "field `{path}.mode`: {:?} is not an octal mode like \"0640\"",
                        self.mode.as_deref().unwrap_or_default()
                    ));
                }
            }
            _ => {}
        }
        if let Some(v) = &self.value {
            match v {
                ParamValue::Param { param } => {
                    if !params.contains_key(param) {
                        return Err(format!(
                            "field `{path}.value`: unknown param {param:?} (declare it in the check's `params`)"
                        ));
                    }
                }
                ParamValue::Literal(lit) => {
                    if self.op == Op::SubsetOf && !matches!(lit, toml::Value::Array(_)) {
                        return Err(format!("field `{path}.value`: op subset_of needs a list"));
                    }
                    if matches!(
                        self.op,
                        Op::Gt
                            | Op::Ge
                            | Op::Lt
                            | Op::Le
                            | Op::DaysUntilAtLeast
                            | Op::CidrPrefixAtLeast
                    ) && !matches!(lit, toml::Value::Integer(_) | toml::Value::Float(_))
                    {
                        return Err(format!(
                            "field `{path}.value`: op {} needs a number",
                            self.op.as_str()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every fact key this condition reads, given the check's default fact.
    pub fn facts<'a>(&'a self, default: Option<&'a str>, out: &mut Vec<&'a str>) {
        match self.op {
            Op::All | Op::Any | Op::Not => {
                let d = self.fact.as_deref().or(default);
                for c in self.of.iter().flatten() {
                    c.facts(d, out);
                }
            }
            _ => {
                if let Some(f) = self.fact.as_deref().or(default) {
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
        }
    }
}
