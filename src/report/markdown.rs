//! Markdown for tickets: the verdict, the score per duty, then every finding with its
//! evidence and remediation, then what could not be decided. Text comes from the finding
//! view; [`super::escape::markdown`] keeps values from opening links, HTML or cells.

use super::escape::markdown as md;
use super::table::{fmt_pct, score_text};
use super::view::{self, Finding};
use super::{RenderOptions, Report};
use crate::evaluate::Outcome;
use std::fmt::Write as _;

fn finding(out: &mut String, report: &Report, f: &Finding) {
    let _ = writeln!(
        out,
        "### {} `{}` {} ({})\n",
        f.label,
        f.id.replace('`', "'"),
        md(&f.title),
        f.result.severity
    );
    let _ = writeln!(
        out,
        "- Duty: {} ({})",
        md(&f.duty),
        md(&view::duty_title(report, &f.duty))
    );
    for l in &f.evidence {
        let _ = writeln!(out, "- Observed: {}", md(l));
    }
    for (name, v) in [
        ("Waiver", &f.waiver_note),
        ("Why", &f.why),
        ("Expected", &f.expected),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "- {name}: {}", md(v));
        }
    }
    if f.result.outcome == Outcome::Fail && !f.remediation.is_empty() {
        // A fenced block (longer than any backtick run inside), so commands stay verbatim.
        let body = f.remediation.join("\n");
        let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let _ = writeln!(out, "\n**Remediation**\n\n{fence}text\n{body}\n{fence}");
    }
    out.push('\n');
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let v = &report.verdict;
    let _ = writeln!(
        out,
        "# stackposture report: {} (profile {})\n",
        md(&view::host(report)),
        md(&report.profile.name)
    );
    let _ = writeln!(
        out,
        "**Verdict: {}**: {} finding(s) at or above {}; minimum score {}; {} waived.\n",
        if v.exit_code == 0 { "OK" } else { "FINDINGS" },
        v.findings,
        v.fail_on,
        v.min_score,
        v.waived
    );
    let _ = writeln!(out, "Overall: {}\n", score_text(&report.summary.overall));
    for s in view::skipped_sources(report) {
        let _ = writeln!(out, "- Not collected (operator's choice): {}", md(&s));
    }
    for s in view::failed_sources(report) {
        let _ = writeln!(out, "- Source not read: {}", md(&s));
    }
    let _ = writeln!(out, "\n| Duty | Score | Coverage | Fail | Unknown | Pass |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for (d, l) in &report.summary.duties {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md(d),
            fmt_pct(l.score),
            fmt_pct(l.coverage),
            l.counts.fail,
            l.counts.unknown + l.counts.error,
            l.counts.pass
        );
    }
    let all = view::sorted(report);
    let groups = [
        ("Findings", &[Outcome::Fail][..]),
        (
            "Not decided (unknown or error)",
            &[Outcome::Unknown, Outcome::Error][..],
        ),
        ("Passed", &[Outcome::Pass][..]),
    ];
    for (title, outcomes) in groups {
        if title == "Passed" && !opts.show_passed {
            continue;
        }
        let fs: Vec<&Finding> = all
            .iter()
            .filter(|f| outcomes.contains(&f.result.outcome))
            .collect();
        let _ = writeln!(out, "\n## {title} ({})\n", fs.len());
        for f in fs {
            if f.result.outcome == Outcome::Pass {
                let _ = writeln!(out, "- `{}` {}", f.id.replace('`', "'"), md(&f.title));
            } else {
                finding(&mut out, report, f);
            }
        }
    }
    out
}
