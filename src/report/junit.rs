//! JUnit XML for CI systems, valid against the junit-10.xsd that Jenkins' xUnit plugin
//! uses: one testsuite per duty, one testcase per check, classname
//! `stackposture.<host>.<duty>` so several hosts' files do not collide.
//! fail -> <failure>, error and unknown -> <error> (unknown is never a pass),
//! not applicable, actively waived failures/unknowns, and unknowns whose facts the
//! operator chose not to collect (`--no-db`, `--host-state never`, ...) -> <skipped>.
//! Every count is computed from the cases written, so counts and elements always agree.

use super::escape::xml;
use super::view::{self, Finding};
use super::Report;
use crate::evaluate::Outcome;
use std::fmt::Write as _;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn case_of(f: &Finding) -> Case {
    match f.result.outcome {
        _ if f.waived => Case::Skipped,
        Outcome::Unknown if f.result.skipped.is_some() => Case::Skipped,
        Outcome::Pass => Case::Passed,
        Outcome::Fail => Case::Failure,
        Outcome::Unknown | Outcome::Error => Case::Error,
        Outcome::NotApplicable => Case::Skipped,
    }
}

#[derive(Default)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn add(&mut self, c: Case) {
        self.tests += 1;
        match c {
            Case::Passed => {}
            Case::Failure => self.failures += 1,
            Case::Error => self.errors += 1,
            Case::Skipped => self.skipped += 1,
        }
    }
}

fn body(f: &Finding) -> String {
    let mut b = format!("severity: {}\n", f.result.severity);
    for l in f.detail_lines() {
        b.push_str(&l);
        b.push('\n');
    }
    b.push_str("remediation:\n");
    for l in &f.remediation {
        b.push_str(l);
        b.push('\n');
    }
    b
}

fn testcase(out: &mut String, f: &Finding, classname: &str) -> Case {
    let case = case_of(f);
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        xml(classname, false),
        xml(&format!("{} {}", f.id, f.title), false)
    );
    let (tag, kind, message) = match case {
        Case::Passed => {
            out.push_str("/>\n");
            return case;
        }
        Case::Skipped => {
            let msg = match (&f.waiver_note, &f.result.skipped) {
                (Some(w), _) => w.clone(),
                (None, Some(s)) => match &f.result.reason {
                    Some(r) => format!("{s} ({r})"),
                    None => s.clone(),
                },
                (None, None) => f.result.reason.clone().unwrap_or_default(),
            };
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml(&msg, false)
            );
            return case;
        }
        Case::Failure => (
            "failure",
            f.result.severity.to_string(),
            format!("expected {}", f.expected.as_deref().unwrap_or("")),
        ),
        Case::Error => (
            "error",
            f.result.outcome.as_str().to_string(),
            f.result.reason.clone().unwrap_or_default(),
        ),
    };
    let _ = writeln!(
        out,
        ">\n      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>\n    </testcase>",
        xml(&kind, false),
        xml(&message, false),
        xml(&body(f), true)
    );
    case
}

pub fn render(report: &Report) -> String {
    let host = report.host.as_deref().unwrap_or("");
    let mut suites = String::new();
    let mut total = Tally::default();
    for duty in report.summary.duties.keys() {
        let classname = if host.is_empty() {
            format!("stackposture.{duty}")
        } else {
            format!("stackposture.{host}.{duty}")
        };
        let mut cases = String::new();
        let mut tally = Tally::default();
        for f in view::sorted_of(report.results.iter().filter(|r| &r.duty == duty)) {
            let c = testcase(&mut cases, &f, &classname);
            tally.add(c);
            total.add(c);
        }
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml(duty, false),
            xml(host, false),
            tally.tests,
            tally.failures,
            tally.errors,
            tally.skipped
        );
        suites.push_str(&cases);
        suites.push_str("  </testsuite>\n");
    }
    // junit-10.xsd allows no `skipped` attribute on <testsuites>.
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"stackposture\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        total.tests, total.failures, total.errors
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}
