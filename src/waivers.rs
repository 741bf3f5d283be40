//! Waivers: an operator's documented, time-limited acceptance of a finding.
//!
//! ```toml
//! [[waiver]]
//! check = "CS-SRV-002"
//! reason = "TLS terminates on the load balancer; 8080 is firewalled to it (CHG-1234)"
//! expires = "2027-03-31"          # required: a waiver without an end is a silent exception
//! hosts = ["ms1.example.org"]     # optional: only these hosts
//! ```
//!
//! A waiver never changes an outcome (a failing check stays `fail` in every format, and
//! the score is unchanged); it removes the finding from the exit-code verdict until it
//! expires, and the report shows the waiver next to the finding. An expired waiver is
//! ignored and reported as expired.

use crate::catalog::{line_of, CatalogError};
use crate::dates::parse_rfc3339;
pub use crate::outcome::AppliedWaiver;
use crate::outcome::{CheckResult, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub check: String,
    pub reason: String,
    pub expires: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default)]
    waiver: Vec<toml::Spanned<Waiver>>,
}

/// Parses a waivers file; errors name the file, line and field.
pub fn parse(file: &str, text: &str, known_ids: &[&str]) -> Result<Vec<Waiver>, CatalogError> {
    let wf: WaiverFile = toml::from_str(text).map_err(|e| CatalogError {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
        message: e.message().trim().to_string(),
    })?;
    let mut out = Vec::new();
    for s in wf.waiver {
        let line = line_of(text, s.span().start);
        let w = s.into_inner();
        let err = |m: String| CatalogError {
            file: file.to_string(),
            line,
            message: m,
        };
        if !known_ids.contains(&w.check.as_str()) {
            return Err(err(format!(
                "field `check`: no check with id {:?} in the catalog",
                w.check
            )));
        }
        if parse_rfc3339(&w.expires).is_none() {
            return Err(err(format!(
                "field `expires`: {:?} is not a date (YYYY-MM-DD)",
                w.expires
            )));
        }
        if w.reason.trim().is_empty() {
            return Err(err("field `reason`: must not be empty".into()));
        }
        out.push(w);
    }
    Ok(out)
}

/// Attaches waivers to failing or unknown results for this host. Returns, per result, the
/// waiver that applies (if any), in the order of `results`.
pub fn apply(
    waivers: &[Waiver],
    results: &[CheckResult],
    host: Option<&str>,
    now: i64,
) -> Vec<Option<AppliedWaiver>> {
    results
        .iter()
        .map(|r| {
            if matches!(r.outcome, Outcome::Pass | Outcome::NotApplicable) {
                return None;
            }
            let w = waivers.iter().find(|w| {
                w.check == r.id
                    && (w.hosts.is_empty() || host.is_some_and(|h| w.hosts.iter().any(|x| x == h)))
            })?;
            // A waiver is valid through the whole day it names; `parse` rejected any
            // waiver whose date does not parse, and one built otherwise is inactive.
            let active = parse_rfc3339(&w.expires).is_some_and(|end| now < end + 86_400);
            Some(AppliedWaiver {
                reason: w.reason.clone(),
                expires: w.expires.clone(),
                active,
            })
        })
        .collect()
}
