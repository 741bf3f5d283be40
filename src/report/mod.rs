//! The report: one struct, rendered by one module per format.

pub mod anchor;
pub mod batch;
pub mod compliance;
pub mod csv;
pub mod escape;
pub mod html;
pub mod inventory;
pub mod json;
pub mod junit;
pub mod lists;
pub mod markdown;
pub mod prometheus;
pub mod sarif;
pub mod table;
pub mod view;

use crate::catalog::{Profile, Severity};
use crate::facts::{Facts, Skipped, SourceStatus};
use crate::outcome::CheckResult;
use crate::score::Scores;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON report format (semver: minor = additions, major = breaking).
pub const REPORT_SCHEMA_VERSION: &str = "1.2.0";

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
    /// Sources not collected by the operator's choice, by source id: why, and the fact
    /// namespaces this left `not_collected` (schema 1.2.0); absent when every source was
    /// collected or attempted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_sources: BTreeMap<String, Skipped>,
    pub results: Vec<CheckResult>,
    /// Duty id -> title, from the catalog's packs (for people; not in the JSON).
    #[serde(skip)]
    pub duty_titles: BTreeMap<String, String>,
    /// What `fleet` compares across hosts (schema 1.1.0); absent when nothing was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<inventory::Inventory>,
    /// Per-framework compliance summaries (schema 1.2.0, see `compliance`); absent when
    /// the catalog has no framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<compliance::Compliance>,
    /// Sources (`db.properties:12`) of the facts that anchor DB and TLS results to a line
    /// (see `anchor`); not part of the JSON report.
    #[serde(skip)]
    pub anchors: BTreeMap<String, String>,
}

impl Report {
    pub fn new(
        facts: &Facts,
        profile: &Profile,
        mut results: Vec<CheckResult>,
        fail_on: Severity,
        min_score: f64,
    ) -> Report {
        for r in &mut results {
            r.mark_skipped(facts);
        }
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
            skipped_sources: facts.skipped.clone(),
            results,
            duty_titles: BTreeMap::new(),
            inventory: inventory::Inventory::from_facts(facts),
            compliance: None,
            anchors: anchor::collect(facts),
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
    Sarif,
    Prometheus,
    Html,
    Csv,
    Markdown,
}

impl Format {
    /// The formats in the order given, each once.
    pub fn distinct(formats: &[Format]) -> Vec<Format> {
        let mut out: Vec<Format> = Vec::new();
        for f in formats {
            if !out.contains(f) {
                out.push(*f);
            }
        }
        out
    }

    /// The file name used with `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Table => "report.txt",
            Format::Json => "report.json",
            Format::Junit => "report.junit.xml",
            Format::Sarif => "report.sarif",
            Format::Prometheus => "report.prom",
            Format::Html => "report.html",
            Format::Csv => "report.csv",
            Format::Markdown => "report.md",
        }
    }
}

/// How the human formats are drawn, and which results the SARIF file holds.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Colour in the table.
    pub color: bool,
    /// Fixed table width; `None` lets the table fit the terminal.
    pub width: Option<u16>,
    /// Show passing checks in the table, HTML and Markdown (default: only counts of them).
    pub show_passed: bool,
    /// SARIF: include passes, unknowns, errors and not-applicable results (default:
    /// failures only, as GitHub code scanning raises every result as an alert).
    pub all_results: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: Some(120),
            show_passed: true,
            all_results: false,
        }
    }
}

pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report, opts.all_results && opts.show_passed),
        Format::Prometheus => prometheus::render(report),
        Format::Html => html::render(report, opts),
        Format::Csv => csv::render(report),
        Format::Markdown => markdown::render(report, opts),
    }
}
