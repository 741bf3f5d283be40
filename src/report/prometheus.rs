//! Prometheus text exposition format (for node_exporter's textfile collector or a
//! pushgateway): scores, coverage, per-duty scores, outcome counts, failing checks by
//! severity, the pass mark and the collection time (for the alerting rules in
//! monitoring/), one series per check. Every series carries `host` and `profile`, so
//! files from many hosts federate without relabelling.

use super::Report;
use crate::catalog::Severity;
use crate::evaluate::Outcome;
use std::fmt::Write as _;

/// Label values: the text format's escapes, and no raw control byte (NUL included).
fn esc(v: &str) -> String {
    super::escape::prometheus_label(v)
}

fn gauge(out: &mut String, name: &str, help: &str, rows: Vec<(String, f64)>) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, v) in rows {
        let _ = writeln!(out, "{name}{{{labels}}} {v}");
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let host = esc(report.host.as_deref().unwrap_or(""));
    let profile = esc(&report.profile.name);
    let base = format!("host=\"{host}\",profile=\"{profile}\"");
    summary_gauges(&mut out, report, &base);
    alerting_gauges(&mut out, report, &base);
    check_gauges(&mut out, report, &base);
    out
}

/// Score, coverage, per-duty scores, outcome counts and findings.
fn summary_gauges(out: &mut String, report: &Report, base: &str) {
    let o = &report.summary.overall;
    gauge(
        out,
        "stackposture_score",
        "Weighted share of applicable checks that passed (0-100); unknown counts as not passed.",
        o.score.map(|s| (base.to_string(), s)).into_iter().collect(),
    );
    gauge(
        out,
        "stackposture_coverage",
        "Weighted share of applicable checks whose outcome is known (0-100).",
        o.coverage
            .map(|s| (base.to_string(), s))
            .into_iter()
            .collect(),
    );
    gauge(
        out,
        "stackposture_duty_score",
        "Score per operator duty (0-100).",
        report
            .summary
            .duties
            .iter()
            .filter_map(|(d, l)| l.score.map(|s| (format!("{base},duty=\"{}\"", esc(d)), s)))
            .collect(),
    );
    let outcomes = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Unknown,
        Outcome::Error,
        Outcome::NotApplicable,
    ];
    gauge(
        out,
        "stackposture_checks",
        "Number of checks by outcome.",
        outcomes
            .iter()
            .map(|oc| {
                let n = report.results.iter().filter(|r| r.outcome == *oc).count();
                (format!("{base},outcome=\"{}\"", oc.as_str()), n as f64)
            })
            .collect(),
    );
    gauge(
        out,
        "stackposture_findings",
        "Failing checks at or above the --fail-on severity.",
        vec![(
            format!("{base},fail_on=\"{}\"", report.verdict.fail_on),
            report.verdict.findings as f64,
        )],
    );
}

/// What the alerting rules compare: the pass mark, failing checks by severity, the
/// collection time.
fn alerting_gauges(out: &mut String, report: &Report, base: &str) {
    gauge(
        out,
        "stackposture_pass_mark",
        "The profile's pass mark (0-100): alert when stackposture_score is below it.",
        vec![(base.to_string(), report.profile.pass_mark)],
    );
    let sevs = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
    gauge(
        out,
        "stackposture_failing_checks",
        "Failing checks by severity, not counting those under an active waiver.",
        sevs.iter()
            .map(|s| {
                let n = report
                    .results
                    .iter()
                    .filter(|r| r.outcome == Outcome::Fail && r.severity == *s)
                    .filter(|r| !crate::score::is_waived(r))
                    .count();
                (format!("{base},severity=\"{s}\""), n as f64)
            })
            .collect(),
    );
    let collected = report
        .collected_at
        .as_deref()
        .and_then(crate::evaluate::parse_rfc3339);
    gauge(
        out,
        "stackposture_collected_timestamp_seconds",
        "When the facts were collected (unix time; only with collect --timestamp): alert when it grows old.",
        collected.map(|t| (base.to_string(), t as f64)).into_iter().collect(),
    );
}

/// One series per check.
fn check_gauges(out: &mut String, report: &Report, base: &str) {
    gauge(
        out,
        "stackposture_check_passed",
        "1 when the check passed, 0 when it failed, -1 when unknown or error (not applicable checks are omitted).",
        report
            .results
            .iter()
            .filter(|r| r.outcome != Outcome::NotApplicable)
            .map(|r| {
                let v = match r.outcome {
                    Outcome::Pass => 1.0,
                    Outcome::Fail => 0.0,
                    _ => -1.0,
                };
                (
                    format!(
                        "{base},check=\"{}\",duty=\"{}\",severity=\"{}\"",
                        esc(&r.id),
                        esc(&r.duty),
                        r.severity
                    ),
                    v,
                )
            })
            .collect(),
    );
    // The names themselves stay out of labels (untrusted, unbounded); the count of items
    // a finding concerns (domains, accounts, users, ...) is a bounded series per check.
    gauge(
        out,
        "stackposture_check_items",
        "Number of items (domains, accounts, users, privileges, settings) a failing check names; the names are in the other formats.",
        report
            .results
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
            .filter_map(|r| {
                let total: u64 = r
                    .evidence
                    .observed
                    .iter()
                    .filter_map(|o| o.named.as_ref().map(|n| n.total))
                    .sum();
                (total > 0).then(|| {
                    (
                        format!("{base},check=\"{}\",severity=\"{}\"", esc(&r.id), r.severity),
                        total as f64,
                    )
                })
            })
            .collect(),
    );
}
