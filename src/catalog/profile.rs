//! Profiles: which checks run, at which severity and thresholds, and the pass mark.
//!
//! ```toml
//! name = "production"
//! title = "Production management server"
//! description = "..."
//! default = true          # used when --profile is not given
//! pass_mark = 80          # default for --min-score
//! fail_on = "high"        # default for --fail-on
//!
//! [select]                # empty lists select everything
//! packs = []              # pack ids, e.g. ["cloudstack"]; empty: every pack
//! duties = []             # "duty" (in any selected pack) or "pack/duty"
//! tags = []
//! ids = []
//! exclude_ids = []
//! exclude_tags = ["dev-only"]
//! min_severity = "high"   # only checks at least this severe
//!
//! [severity]              # by check id, or by "tag:NAME"
//! "CS-HTTP-001" = "critical"
//!
//! [params."CS-TLS-010"]   # threshold overrides
//! min_days = 30
//! ```
//!
//! A profile under a pack's directory (`checks/<pack>/profiles/*.toml`) selects only that
//! pack's checks unless its `select.packs` says otherwise.

use super::{line_of, CatalogError, Check, Pack, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Pack ids; empty selects every pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<String>,
    /// Duty ids, alone (any selected pack) or as `pack/duty`.
    #[serde(default)]
    pub duties: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub exclude_ids: Vec<String>,
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// Only checks whose catalog severity is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub pass_mark: f64,
    #[serde(default = "default_fail_on")]
    pub fail_on: Severity,
    #[serde(default)]
    pub select: Selection,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    #[serde(default)]
    pub params: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(skip_deserializing, default)]
    pub location: String,
}

fn default_fail_on() -> Severity {
    Severity::High
}

impl Profile {
    pub(super) fn parse(
        file: &str,
        text: &str,
        ids: &BTreeSet<&str>,
        checks: &[Check],
        packs: &[Pack],
        implied_pack: Option<&str>,
    ) -> Result<Profile, CatalogError> {
        let err = |line: usize, message: String| CatalogError {
            file: file.to_string(),
            line,
            message,
        };
        let mut p: Profile = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
                e.message().trim().to_string(),
            )
        })?;
        p.location = file.to_string();
        if p.select.packs.is_empty() {
            p.select.packs.extend(implied_pack.map(str::to_string));
        }
        // Locate a key in the text for error messages (best effort).
        let line_for = |needle: &str| text.find(needle).map(|off| line_of(text, off)).unwrap_or(0);
        if !(0.0..=100.0).contains(&p.pass_mark) {
            return Err(err(
                line_for("pass_mark"),
                "field `pass_mark`: must be between 0 and 100".into(),
            ));
        }
        for id in &p.select.packs {
            if !packs.iter().any(|x| &x.id == id) {
                return Err(err(
                    line_for(id),
                    format!("field `select.packs`: unknown pack {id:?}"),
                ));
            }
        }
        for d in &p.select.duties {
            let known = match d.split_once('/') {
                Some((pk, duty)) => packs.iter().any(|x| x.id == pk && x.duty(duty).is_some()),
                None => packs.iter().any(|x| x.duty(d).is_some()),
            };
            if !known {
                return Err(err(
                    line_for(d),
                    format!("field `select.duties`: unknown duty {d:?}"),
                ));
            }
        }
        let unknown_id = |field: &str, id: &str| {
            err(
                line_for(id),
                format!("field `{field}`: no check with id {id:?} in the catalog"),
            )
        };
        for id in p.select.ids.iter().chain(&p.select.exclude_ids) {
            if !ids.contains(id.as_str()) {
                return Err(unknown_id("select.ids", id));
            }
        }
        for key in p.severity.keys() {
            if !key.starts_with("tag:") && !ids.contains(key.as_str()) {
                return Err(unknown_id("severity", key));
            }
        }
        for (id, overrides) in &p.params {
            let Some(c) = checks.iter().find(|c| &c.id == id) else {
                return Err(unknown_id("params", id));
            };
            for (name, v) in overrides {
                check_override(c, name, v).map_err(|m| err(line_for(name), m))?;
            }
        }
        Ok(p)
    }

    /// Whether this profile runs the check.
    pub fn selects(&self, c: &Check) -> bool {
        let s = &self.select;
        if !s.packs.is_empty() && !s.packs.contains(&c.pack) {
            return false;
        }
        if s.exclude_ids.contains(&c.id)
            || c.tags.iter().any(|t| s.exclude_tags.contains(t))
            || s.min_severity.is_some_and(|m| c.severity < m)
        {
            return false;
        }
        if s.duties.is_empty() && s.tags.is_empty() && s.ids.is_empty() {
            return true;
        }
        s.duties.iter().any(|d| match d.split_once('/') {
            Some((pack, duty)) => pack == c.pack && duty == c.duty,
            None => *d == c.duty,
        }) || c.tags.iter().any(|t| s.tags.contains(t))
            || s.ids.contains(&c.id)
    }

    /// The check's severity under this profile: an id entry wins over a tag entry.
    pub fn severity_of(&self, c: &Check) -> Severity {
        if let Some(s) = self.severity.get(&c.id) {
            return *s;
        }
        let mut best: Option<Severity> = None;
        for t in &c.tags {
            if let Some(s) = self.severity.get(&format!("tag:{t}")) {
                best = Some(best.map_or(*s, |b| b.max(*s)));
            }
        }
        best.unwrap_or(c.severity)
    }

    /// The value of a check parameter under this profile.
    pub fn param<'a>(&'a self, c: &'a Check, name: &str) -> Option<&'a toml::Value> {
        c.params_under(self).get(name)
    }
}

/// A profile's parameter override must name a parameter of the check and have the type
/// of the check's own value (a number for a number, a list for a list, ...).
fn check_override(c: &Check, name: &str, v: &toml::Value) -> Result<(), String> {
    let Some(own) = c.params.get(name) else {
        return Err(format!(
            "field `params.{}`: check {} has no param {name:?}",
            c.id, c.id
        ));
    };
    let kind = |v: &toml::Value| match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => "a number",
        toml::Value::String(_) => "a string",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    };
    if kind(own) != kind(v) {
        return Err(format!(
            "field `params.{}.{name}`: must be {} like the check's own value",
            c.id,
            kind(own)
        ));
    }
    Ok(())
}
