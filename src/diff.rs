//! Comparing two JSON reports (the same host over time, or two hosts): which checks
//! regressed, which were fixed, which became or stopped being unknown, and how the
//! scores moved. Pure: two reports in, one diff out.

use crate::evaluate::Outcome;
use crate::report::escape::text as esc;
use crate::report::{Report, REPORT_SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Was pass (or not applicable), now fail.
    Regressed,
    /// Was fail, now pass.
    Fixed,
    /// Now unknown or error, was decided before: coverage lost.
    NowUnknown,
    /// Was unknown or error, now decided.
    NowKnown,
    /// Only in the new report (a new check, or newly selected).
    Added,
    /// Only in the old report.
    Removed,
    /// Any other outcome change (e.g. pass -> not applicable).
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckChange {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub change: Change,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDelta {
    pub before: Option<f64>,
    pub after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDiff {
    pub before_host: Option<String>,
    pub after_host: Option<String>,
    pub before_profile: String,
    pub after_profile: String,
    pub score: ScoreDelta,
    pub coverage: ScoreDelta,
    pub duties: BTreeMap<String, ScoreDelta>,
    pub changes: Vec<CheckChange>,
    pub regressions: usize,
    /// Checks that failed before and are now gone or not applicable: a finding that
    /// vanished without being fixed.
    #[serde(default)]
    pub failures_gone: usize,
    /// Checks decided before (pass or fail) that are now unknown or error: coverage lost.
    #[serde(default)]
    pub coverage_lost: usize,
}

impl ReportDiff {
    /// 1 when anything got worse (a regression, a vanished failure, lost coverage).
    pub fn exit_code(&self) -> u8 {
        u8::from(self.regressions + self.failures_gone + self.coverage_lost > 0)
    }
}

/// Reads a JSON report, refusing any schema version this build does not understand: the
/// same major version as [`REPORT_SCHEMA_VERSION`] (minor versions only add fields).
pub fn parse_report(text: &str) -> Result<Report, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON report: {e}"))?;
    let Some(version) = v.get("schema_version").and_then(|s| s.as_str()) else {
        return Err("not a stackposture JSON report: no schema_version".into());
    };
    let major = |s: &str| s.split('.').next().and_then(|m| m.parse::<u64>().ok());
    let supported = major(REPORT_SCHEMA_VERSION);
    let shown = esc(version).into_owned();
    if major(version).is_none() || major(version) != supported {
        return Err(format!(
            "report schema version {shown:?} is not supported (this stackposture reads {}.x)",
            supported.unwrap_or(0)
        ));
    }
    serde_json::from_value(v)
        .map_err(|e| format!("not a stackposture JSON report (schema {shown}): {e}"))
}

fn decided(o: Outcome) -> bool {
    matches!(o, Outcome::Pass | Outcome::Fail)
}

pub fn diff(before: &Report, after: &Report) -> ReportDiff {
    let old: BTreeMap<&str, _> = before.results.iter().map(|r| (r.id.as_str(), r)).collect();
    let new: BTreeMap<&str, _> = after.results.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut changes = Vec::new();
    let mut ids: Vec<&str> = old.keys().chain(new.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let (b, a) = (old.get(id), new.get(id));
        let change = match (b.map(|r| r.outcome), a.map(|r| r.outcome)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(Outcome::Pass | Outcome::NotApplicable), Some(Outcome::Fail)) => {
                Change::Regressed
            }
            (Some(Outcome::Fail), Some(Outcome::Pass)) => Change::Fixed,
            (Some(x), Some(y)) if decided(x) && !decided(y) && y != Outcome::NotApplicable => {
                Change::NowUnknown
            }
            (Some(x), Some(y)) if !decided(x) && x != Outcome::NotApplicable && decided(y) => {
                if y == Outcome::Fail {
                    Change::Regressed
                } else {
                    Change::NowKnown
                }
            }
            (Some(_), Some(_)) => Change::Changed,
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (None, None) => continue,
        };
        let r = a.or(b).expect("one side exists");
        changes.push(CheckChange {
            id: id.to_string(),
            title: r.title.clone(),
            severity: r.severity.to_string(),
            change,
            before: b.map(|r| r.outcome),
            after: a.map(|r| r.outcome),
        });
    }
    changes.sort_by(|x, y| x.change.cmp(&y.change).then(x.id.cmp(&y.id)));
    let mut duties = BTreeMap::new();
    for d in before
        .summary
        .duties
        .keys()
        .chain(after.summary.duties.keys())
    {
        duties.insert(
            d.clone(),
            ScoreDelta {
                before: before.summary.duties.get(d).and_then(|l| l.score),
                after: after.summary.duties.get(d).and_then(|l| l.score),
            },
        );
    }
    ReportDiff {
        before_host: before.host.clone(),
        after_host: after.host.clone(),
        before_profile: before.profile.name.clone(),
        after_profile: after.profile.name.clone(),
        score: ScoreDelta {
            before: before.summary.overall.score,
            after: after.summary.overall.score,
        },
        coverage: ScoreDelta {
            before: before.summary.overall.coverage,
            after: after.summary.overall.coverage,
        },
        duties,
        regressions: changes
            .iter()
            .filter(|c| c.change == Change::Regressed)
            .count(),
        failures_gone: changes
            .iter()
            .filter(|c| {
                c.before == Some(Outcome::Fail)
                    && matches!(c.after, None | Some(Outcome::NotApplicable))
            })
            .count(),
        coverage_lost: changes
            .iter()
            .filter(|c| c.change == Change::NowUnknown)
            .count(),
        changes,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.1}"))
}

fn delta(d: &ScoreDelta) -> String {
    match (d.before, d.after) {
        (Some(b), Some(a)) => format!("{} -> {} ({:+.1})", pct(d.before), pct(d.after), a - b),
        _ => format!("{} -> {}", pct(d.before), pct(d.after)),
    }
}

pub fn render_text(d: &ReportDiff) -> String {
    let mut out = String::new();
    let host = |h: &Option<String>| esc(h.as_deref().unwrap_or("(unknown host)")).into_owned();
    let _ = writeln!(
        out,
        "before: {} ({})  after: {} ({})",
        host(&d.before_host),
        esc(&d.before_profile),
        host(&d.after_host),
        esc(&d.after_profile)
    );
    if d.before_profile != d.after_profile {
        let _ = writeln!(
            out,
            "note: the reports use different profiles; scores are not comparable"
        );
    }
    let _ = writeln!(out, "score:    {}", delta(&d.score));
    let _ = writeln!(out, "coverage: {}", delta(&d.coverage));
    for (duty, s) in &d.duties {
        let _ = writeln!(out, "  {}: {}", esc(duty), delta(s));
    }
    if d.changes.is_empty() {
        let _ = writeln!(out, "no check changed outcome");
    }
    for c in &d.changes {
        let o = |x: Option<Outcome>| x.map_or("-", |o| o.as_str());
        let _ = writeln!(
            out,
            "{:<12} {:<12} {:<8} {} -> {}  {}",
            format!("{:?}", c.change).to_lowercase(),
            esc(&c.id),
            c.severity,
            o(c.before),
            o(c.after),
            esc(&c.title)
        );
    }
    let _ = writeln!(out, "{} regression(s)", d.regressions);
    if d.failures_gone > 0 {
        let _ = writeln!(
            out,
            "{} failing check(s) gone or not applicable without a pass",
            d.failures_gone
        );
    }
    if d.coverage_lost > 0 {
        let _ = writeln!(
            out,
            "{} check(s) now unknown or error: coverage lost",
            d.coverage_lost
        );
    }
    out
}

/// `stackposture diff`: reads both reports (bounded, schema-checked), returns the text
/// (or JSON) and the exit code.
pub fn run(
    before: &std::path::Path,
    after: &std::path::Path,
    json: bool,
) -> Result<(String, u8), String> {
    let read = |p: &std::path::Path| -> Result<Report, String> {
        let text = crate::report::batch::read_facts(p)?;
        parse_report(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let d = diff(&read(before)?, &read(after)?);
    let text = if json {
        serde_json::to_string_pretty(&d).expect("diff serialises") + "\n"
    } else {
        render_text(&d)
    };
    Ok((text, d.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden() -> Report {
        let text = include_str!("../tests/golden/golden-report.json");
        parse_report(text).unwrap()
    }

    #[test]
    fn unknown_schema_versions_are_refused() {
        let text = include_str!("../tests/golden/golden-report.json");
        let current = format!("{REPORT_SCHEMA_VERSION:?}");
        for (v, ok) in [
            ("1.0.0", true),
            ("1.4.2", true),
            ("2.0.0", false),
            ("x", false),
        ] {
            let t = text.replacen(&current, &format!("{v:?}"), 1);
            assert_eq!(parse_report(&t).is_ok(), ok, "{v}");
        }
        let err = parse_report(&text.replacen(&current, "\"2.0.0\"", 1)).unwrap_err();
        assert!(err.contains("\"2.0.0\" is not supported"), "{err}");
        assert!(parse_report("{}")
            .unwrap_err()
            .contains("no schema_version"));
        assert!(parse_report("[1]").is_err());
    }

    #[test]
    fn vanished_failures_and_lost_coverage_exit_1() {
        let before = golden();
        assert_eq!(diff(&before, &before).exit_code(), 0);
        // A failing check disappears from the later report.
        let mut after = before.clone();
        let i = after
            .results
            .iter()
            .position(|r| r.outcome == Outcome::Fail)
            .unwrap();
        after.results.remove(i);
        let d = diff(&before, &after);
        assert_eq!((d.regressions, d.failures_gone, d.exit_code()), (0, 1, 1));
        // A failing check turns unknown: coverage lost.
        let mut after = before.clone();
        after.results[i].outcome = Outcome::Unknown;
        let d = diff(&before, &after);
        assert_eq!((d.coverage_lost, d.exit_code()), (1, 1));
        assert!(render_text(&d).contains("coverage lost"));
        // The other way round coverage is gained (the now-known failure is a regression).
        let back = diff(&after, &before);
        assert_eq!((back.coverage_lost, back.regressions), (0, 1));
    }
}
