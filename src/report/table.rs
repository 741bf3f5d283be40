//! The report for people: a summary, then one table per duty with the failing checks
//! first, then the remediation of every finding. Colour only when asked (the CLI turns
//! it on for a terminal without `NO_COLOR`); a fixed width otherwise, so the output is
//! deterministic.

use super::Report;
use crate::evaluate::{CheckResult, Observation, Outcome};
use crate::score::ScoreLine;
use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};
use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct TableOptions {
    pub color: bool,
    /// Fixed width; `None` lets the table fit the terminal.
    pub width: Option<u16>,
    /// Show passing checks too (default: only counts of them).
    pub show_passed: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            color: false,
            width: Some(120),
            show_passed: true,
        }
    }
}

fn fmt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"))
}

fn score_text(l: &ScoreLine) -> String {
    format!(
        "score {} ({}), coverage {}; {} pass, {} fail, {} unknown, {} error, {} n/a",
        fmt_pct(l.score),
        l.grade,
        fmt_pct(l.coverage),
        l.counts.pass,
        l.counts.fail,
        l.counts.unknown,
        l.counts.error,
        l.counts.not_applicable
    )
}

fn outcome_cell(o: Outcome, color: bool) -> Cell {
    let text = match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Unknown => "UNKNOWN",
        Outcome::NotApplicable => "N/A",
        Outcome::Error => "ERROR",
    };
    let c = Cell::new(text);
    if !color {
        return c;
    }
    match o {
        Outcome::Pass => c.fg(Color::Green),
        Outcome::Fail => c.fg(Color::Red).add_attribute(Attribute::Bold),
        Outcome::Unknown | Outcome::Error => c.fg(Color::Yellow),
        Outcome::NotApplicable => c.fg(Color::DarkGrey),
    }
}

fn obs_text(o: &Observation) -> String {
    let name = match &o.field {
        Some(f) => format!("{}.{f}", o.fact),
        None => o.fact.clone(),
    };
    match (&o.value, &o.missing) {
        (Some(v), _) => {
            let mut s = match v {
                serde_json::Value::String(s) => format!("{s:?}"),
                serde_json::Value::Object(o) if o.contains_key("mode") => file_summary(o),
                other => other.to_string(),
            };
            if s.chars().count() > 160 {
                s = s.chars().take(157).collect::<String>() + "...";
            }
            if o.default_applied {
                format!("{name} = {s} (default)")
            } else {
                format!("{name} = {s}")
            }
        }
        (None, Some(m)) if m.detail.is_empty() => format!("{name}: {}", m.reason.as_str()),
        (None, Some(m)) => format!("{name}: {} ({})", m.reason.as_str(), m.detail),
        (None, None) => format!("{name}: no value"),
    }
}

/// `file 0644 root:root /path` for file facts.
fn file_summary(o: &serde_json::Map<String, serde_json::Value>) -> String {
    let get = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
    let mode = match o.get("mode") {
        Some(serde_json::Value::Number(n)) => n.as_u64().map_or("?".into(), |m| format!("{m:04o}")),
        Some(serde_json::Value::String(m)) => m.clone(),
        _ => "?".into(),
    };
    let owner = o.get("owner").and_then(|v| v.as_str()).map_or_else(
        || o.get("uid").map_or("?".into(), |v| v.to_string()),
        str::to_string,
    );
    let group = o.get("group").and_then(|v| v.as_str()).map_or_else(
        || o.get("gid").map_or("?".into(), |v| v.to_string()),
        str::to_string,
    );
    let link = o
        .get("link_target")
        .and_then(|v| v.as_str())
        .map(|t| format!(" -> {t}"))
        .unwrap_or_default();
    format!(
        "{} {mode} {owner}:{group} {}{link}",
        get("type"),
        get("path")
    )
}

fn detail(r: &CheckResult) -> String {
    let mut lines: Vec<String> = r.evidence.observed.iter().map(obs_text).collect();
    if let Some(w) = &r.waiver {
        let state = if w.active {
            "waived until"
        } else {
            "waiver expired"
        };
        lines.push(format!("{state} {}: {}", w.expires, w.reason.trim()));
    }
    if r.outcome != Outcome::Pass {
        // Unknown outcomes are explained by the observation lines themselves.
        if let (Some(reason), true) = (&r.reason, r.outcome != Outcome::Unknown) {
            lines.push(format!("why: {reason}"));
        }
        lines.push(format!("expected: {}", r.evidence.expected));
    }
    lines.join("\n")
}

/// Orders results: failures by severity, then errors, unknowns, passes, n/a.
fn sorted<'a>(results: impl Iterator<Item = &'a CheckResult>) -> Vec<&'a CheckResult> {
    let mut v: Vec<&CheckResult> = results.collect();
    v.sort_by(|a, b| {
        a.outcome
            .cmp(&b.outcome)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    v
}

pub fn render(report: &Report, opts: &TableOptions) -> String {
    let mut out = String::new();
    let o = &report.summary.overall;
    let host = report.host.as_deref().unwrap_or("(unknown host)");
    let _ = writeln!(
        out,
        "stackposture {} — {} — profile {}",
        report.tool.version, host, report.profile.name
    );
    let _ = writeln!(out, "Overall: {}", score_text(o));
    let v = &report.verdict;
    let _ = writeln!(
        out,
        "Verdict: {} ({} finding(s) at or above {}; minimum score {})",
        if v.exit_code == 0 { "OK" } else { "FINDINGS" },
        v.findings,
        v.fail_on,
        v.min_score
    );
    let failed_sources: Vec<String> = report
        .sources
        .iter()
        .filter(|(_, s)| s.status != "ok")
        .map(|(k, s)| {
            if s.detail.is_empty() {
                format!("{k} ({})", s.status)
            } else {
                format!("{k} ({}: {})", s.status, s.detail)
            }
        })
        .collect();
    if !failed_sources.is_empty() {
        let _ = writeln!(out, "Sources not read: {}", failed_sources.join("; "));
    }
    for (duty, line) in &report.summary.duties {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "== {duty}: {}",
            report.duty_titles.get(duty).map_or("", String::as_str)
        );
        let _ = writeln!(out, "   {}", score_text(line));
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = opts.width {
            table.set_width(w);
        }
        if opts.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table.set_header(vec!["Result", "Severity", "Check", "Title", "Evidence"]);
        let rows = sorted(report.results.iter().filter(|r| &r.duty == duty));
        let mut hidden = 0;
        for r in rows {
            if r.outcome == Outcome::NotApplicable
                || (!opts.show_passed && r.outcome == Outcome::Pass)
            {
                hidden += 1;
                continue;
            }
            let result_cell = match &r.waiver {
                Some(w) if w.active => {
                    Cell::new(format!("{} (waived)", r.outcome.as_str().to_uppercase()))
                }
                _ => outcome_cell(r.outcome, opts.color),
            };
            table.add_row(vec![
                result_cell,
                Cell::new(r.severity.as_str()),
                Cell::new(&r.id),
                Cell::new(&r.title),
                Cell::new(detail(r)),
            ]);
        }
        if table.row_count() > 0 {
            let _ = writeln!(out, "{table}");
        }
        if hidden > 0 {
            let _ = writeln!(out, "   ({hidden} not applicable or hidden)");
        }
    }
    let findings = sorted(report.results.iter().filter(|r| r.outcome == Outcome::Fail));
    if !findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "== Remediation");
        for r in findings {
            let _ = writeln!(out, "[{}] {} ({})", r.id, r.title, r.severity);
            if let Some(w) = &r.waiver {
                let state = if w.active {
                    "waived until"
                } else {
                    "waiver EXPIRED on"
                };
                let _ = writeln!(out, "    {state} {}: {}", w.expires, w.reason.trim());
            }
            for l in r.remediation.trim().lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    out
}
