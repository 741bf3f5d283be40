//! The report: one struct, rendered by one module per format.

pub mod json;
pub mod junit;
pub mod lists;
pub mod prometheus;
pub mod sarif;
pub mod table;

use crate::catalog::{Profile, Severity};
use crate::facts::{Facts, SourceStatus};
use crate::outcome::CheckResult;
use crate::score::Scores;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON report format (semver: minor = additions, major = breaking).
pub const REPORT_SCHEMA_VERSION: &str = "1.0.0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    pub name: String,
    pub title: String,
    pub pass_mark: f64,
}

/// The thresholds the run was judged by, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub fail_on: Severity,
    pub min_score: f64,
    /// Failing checks at or above `fail_on`, not counting actively waived ones.
    pub findings: usize,
    /// Failing or unknown checks covered by an active waiver.
    #[serde(default)]
    pub waived: usize,
    pub score_below_min: bool,
    /// 0 = compliant, 1 = findings or score below the mark.
    pub exit_code: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub tool: ToolInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    pub profile: ProfileInfo,
    pub verdict: Verdict,
    pub summary: Scores,
    pub sources: BTreeMap<String, SourceStatus>,
    pub results: Vec<CheckResult>,
    /// Duty id -> title, from the catalog's packs (for people; not in the JSON).
    #[serde(skip)]
    pub duty_titles: BTreeMap<String, String>,
}

impl Report {
    pub fn new(
        facts: &Facts,
        profile: &Profile,
        results: Vec<CheckResult>,
        fail_on: Severity,
        min_score: f64,
    ) -> Report {
        let summary = crate::score::score(&results);
        let findings = crate::score::findings_at_or_above(&results, fail_on);
        let score_below_min = summary.overall.score.is_some_and(|s| s < min_score);
        Report {
            schema_version: REPORT_SCHEMA_VERSION.into(),
            tool: ToolInfo {
                name: "stackposture".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            host: facts.host.clone(),
            collected_at: facts.collected_at.clone(),
            generated_at: None,
            profile: ProfileInfo {
                name: profile.name.clone(),
                title: profile.title.clone(),
                pass_mark: profile.pass_mark,
            },
            verdict: Verdict {
                fail_on,
                min_score,
                findings,
                waived: results
                    .iter()
                    .filter(|r| crate::score::is_waived(r))
                    .count(),
                score_below_min,
                exit_code: if findings > 0 || score_below_min {
                    1
                } else {
                    0
                },
            },
            summary,
            sources: facts.sources.clone(),
            results,
            duty_titles: BTreeMap::new(),
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
    Sarif,
    Prometheus,
}

pub fn render(report: &Report, format: Format, opts: &table::TableOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report),
        Format::Prometheus => prometheus::render(report),
    }
}
