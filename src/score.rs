//! Scoring (pure): weights by severity, per duty and overall, with coverage.
//!
//! - weight(check) = severity weight under the profile (critical 10, high 6, medium 3,
//!   low 1, info 0).
//! - applicable = every evaluated check whose outcome is not `not_applicable`.
//! - score = 100 × Σ weight(pass) / Σ weight(applicable). Unknown and error outcomes stay
//!   in the denominator: what could not be verified is never credited.
//! - coverage = 100 × Σ weight(pass + fail) / Σ weight(applicable): the share of the
//!   applicable weight whose outcome is known.
//! - grade: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F; a score with no applicable weight
//!   has no grade ("-").

use crate::catalog::Severity;
use crate::outcome::{CheckResult, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub pass: u32,
    pub fail: u32,
    pub unknown: u32,
    pub error: u32,
    pub not_applicable: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// 0–100, one decimal; `None` when nothing applicable was weighted.
    pub score: Option<f64>,
    pub grade: String,
    /// 0–100, one decimal.
    pub coverage: Option<f64>,
    pub weight_passed: u32,
    pub weight_applicable: u32,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub overall: ScoreLine,
    /// Per duty id (sorted), for every duty with at least one evaluated check.
    pub duties: BTreeMap<String, ScoreLine>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn grade(score: Option<f64>) -> String {
    match score {
        None => "-".into(),
        Some(s) if s >= 90.0 => "A".into(),
        Some(s) if s >= 80.0 => "B".into(),
        Some(s) if s >= 70.0 => "C".into(),
        Some(s) if s >= 60.0 => "D".into(),
        Some(_) => "F".into(),
    }
}

fn line<'a>(results: impl Iterator<Item = &'a CheckResult>) -> ScoreLine {
    let mut c = Counts::default();
    let (mut passed, mut known, mut applicable) = (0u32, 0u32, 0u32);
    for r in results {
        let w = r.severity.weight();
        match r.outcome {
            Outcome::Pass => {
                c.pass += 1;
                passed += w;
                known += w;
                applicable += w;
            }
            Outcome::Fail => {
                c.fail += 1;
                known += w;
                applicable += w;
            }
            Outcome::Unknown => {
                c.unknown += 1;
                applicable += w;
            }
            Outcome::Error => {
                c.error += 1;
                applicable += w;
            }
            Outcome::NotApplicable => c.not_applicable += 1,
        }
    }
    let (score, coverage) = if applicable == 0 {
        (None, None)
    } else {
        (
            Some(round1(100.0 * f64::from(passed) / f64::from(applicable))),
            Some(round1(100.0 * f64::from(known) / f64::from(applicable))),
        )
    };
    ScoreLine {
        grade: grade(score),
        score,
        coverage,
        weight_passed: passed,
        weight_applicable: applicable,
        counts: c,
    }
}

pub fn score(results: &[CheckResult]) -> Scores {
    let mut duties = BTreeMap::new();
    for r in results {
        if !duties.contains_key(&r.duty) {
            let d = r.duty.as_str();
            duties.insert(d.to_string(), line(results.iter().filter(|x| x.duty == d)));
        }
    }
    Scores {
        overall: line(results.iter()),
        duties,
    }
}

/// The failing results at or above a severity.
/// The failing results at or above a severity that no active waiver covers.
pub fn findings_at_or_above(results: &[CheckResult], sev: Severity) -> usize {
    results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail && r.severity >= sev && !is_waived(r))
        .count()
}

pub fn is_waived(r: &CheckResult) -> bool {
    r.waiver.as_ref().is_some_and(|w| w.active)
}
