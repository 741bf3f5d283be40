//! The report for people: a summary, then one table per duty with the failing checks
//! first, then the remediation of every finding. Colour only when asked (the CLI turns
//! it on for a terminal without `NO_COLOR`); a fixed width otherwise, so the output is
//! deterministic.

use super::view;
use super::Report;
use crate::evaluate::Outcome;
use crate::score::ScoreLine;
use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};
use std::fmt::Write as _;

/// The table's options are the shared render options.
pub type TableOptions = super::RenderOptions;

pub(crate) fn fmt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"))
}

pub(crate) fn score_text(l: &ScoreLine) -> String {
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
    let c = Cell::new(view::outcome_label(o));
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

pub fn render(report: &Report, opts: &TableOptions) -> String {
    let mut out = String::new();
    let o = &report.summary.overall;
    let host = view::host(report);
    let _ = writeln!(
        out,
        "stackposture {} — {} — profile {}",
        report.tool.version,
        host,
        super::escape::text(&report.profile.name)
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
    for s in view::skipped_sources(report) {
        let _ = writeln!(out, "Not collected (operator's choice): {s}");
    }
    let failed_sources = view::failed_sources(report);
    if !failed_sources.is_empty() {
        let _ = writeln!(out, "Sources not read: {}", failed_sources.join("; "));
    }
    for (duty, line) in &report.summary.duties {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "== {}: {}",
            super::escape::text(duty),
            super::escape::text(report.duty_titles.get(duty).map_or("", String::as_str))
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
        let rows = view::sorted_of(report.results.iter().filter(|r| &r.duty == duty));
        let mut hidden = 0;
        for f in rows {
            let o = f.result.outcome;
            if o == Outcome::NotApplicable || (!opts.show_passed && o == Outcome::Pass) {
                hidden += 1;
                continue;
            }
            let result_cell = if f.result.waiver.as_ref().is_some_and(|w| w.active) {
                Cell::new(&f.label)
            } else {
                outcome_cell(o, opts.color)
            };
            table.add_row(vec![
                result_cell,
                Cell::new(f.result.severity.as_str()),
                Cell::new(&f.id),
                Cell::new(&f.title),
                Cell::new(f.detail_lines().join("\n")),
            ]);
        }
        if table.row_count() > 0 {
            let _ = writeln!(out, "{table}");
        }
        if hidden > 0 {
            let _ = writeln!(out, "   ({hidden} not applicable or hidden)");
        }
    }
    remediation(&mut out, report);
    out
}

/// `== Remediation`: for every failure, its remediation and the items it concerns (one
/// per line, unwrapped, so each can be pasted).
fn remediation(out: &mut String, report: &Report) {
    let findings: Vec<_> = view::sorted(report)
        .into_iter()
        .filter(|f| f.result.outcome == Outcome::Fail)
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "== Remediation");
        for f in findings {
            let _ = writeln!(out, "[{}] {} ({})", f.id, f.title, f.result.severity);
            if let Some(w) = &f.waiver_note {
                let _ = writeln!(out, "    {w}");
            }
            for l in &f.remediation {
                let _ = writeln!(out, "    {l}");
            }
            if !f.named.is_empty() {
                let _ = writeln!(out, "    Concerned:");
                for l in &f.named {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
    }
}
