//! JUnit XML for CI systems: one testsuite per duty, one testcase per check.
//! fail -> <failure>, error and unknown -> <error> (unknown is never a pass),
//! not_applicable -> <skipped>.

use super::Report;
use crate::evaluate::Outcome;
use std::fmt::Write as _;

pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

pub fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let c = &report.summary.overall.counts;
    let _ = writeln!(
        out,
        "<testsuites name=\"stackposture\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        report.results.len(),
        c.fail,
        c.error + c.unknown,
        c.not_applicable
    );
    let host = report.host.as_deref().unwrap_or("");
    for duty in report.summary.duties.keys() {
        let rs: Vec<_> = report.results.iter().filter(|r| &r.duty == duty).collect();
        let count = |o: Outcome| rs.iter().filter(|r| r.outcome == o).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml_escape(duty),
            xml_escape(host),
            rs.len(),
            count(Outcome::Fail),
            count(Outcome::Error) + count(Outcome::Unknown),
            count(Outcome::NotApplicable)
        );
        for r in rs {
            let _ = write!(
                out,
                "    <testcase classname=\"stackposture.{}\" name=\"{} {}\"",
                xml_escape(duty),
                xml_escape(&r.id),
                xml_escape(&r.title)
            );
            let reason = r.reason.as_deref().unwrap_or("");
            let body = format!(
                "severity: {}\nexpected: {}\nobserved: {}\nremediation:\n{}",
                r.severity,
                r.evidence.expected,
                serde_json::to_string(&r.evidence.observed).unwrap_or_default(),
                r.remediation.trim()
            );
            match r.outcome {
                Outcome::Pass => {
                    let _ = writeln!(out, "/>");
                }
                Outcome::Fail | Outcome::Unknown if crate::score::is_waived(r) => {
                    let w = r
                        .waiver
                        .as_ref()
                        .map(|w| format!("waived until {}: {}", w.expires, w.reason))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(&w)
                    );
                }
                Outcome::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        r.severity,
                        xml_escape(&format!("expected {}", r.evidence.expected)),
                        xml_escape(&body)
                    );
                }
                Outcome::Unknown | Outcome::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>",
                        r.outcome.as_str(),
                        xml_escape(reason),
                        xml_escape(&body)
                    );
                }
                Outcome::NotApplicable => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
