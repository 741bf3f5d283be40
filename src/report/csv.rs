//! CSV (RFC 4180): a header, then one row per result, CRLF line ends. Cells come from the
//! finding view and are escaped by [`super::escape::csv`]: quoted where needed, no raw
//! control characters, and a leading `'` on any cell a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@`).

use super::escape;
use super::view;
use super::Report;

pub const HEADER: &[&str] = &[
    "host",
    "check",
    "title",
    "duty",
    "severity",
    "outcome",
    "waived",
    "evidence",
    "expected",
    "why",
    "waiver",
    "remediation",
];

fn row(out: &mut String, cells: &[String]) {
    let line: Vec<String> = cells.iter().map(|c| escape::csv(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    row(
        &mut out,
        &HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    let host = report.host.clone().unwrap_or_default();
    for f in view::sorted(report) {
        let r = f.result;
        row(
            &mut out,
            &[
                host.clone(),
                f.id.clone(),
                f.title.clone(),
                f.duty.clone(),
                r.severity.to_string(),
                r.outcome.as_str().to_string(),
                f.waived.to_string(),
                f.evidence.join("\n"),
                f.expected.clone().unwrap_or_default(),
                f.why.clone().unwrap_or_default(),
                f.waiver_note.clone().unwrap_or_default(),
                f.remediation.join("\n"),
            ],
        );
    }
    out
}
