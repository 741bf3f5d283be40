//! SARIF 2.1.0 for code-scanning dashboards. Every check is a rule; every evaluated
//! check is a result whose `kind` is its outcome (fail, pass, open = unknown,
//! review = error, notApplicable). Host facts have no source file, so results carry a
//! logical location: the fact key.

use super::Report;
use crate::catalog::Severity;
use crate::evaluate::Outcome;
use serde_json::{json, Value};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0-10.0) by severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id.replace('-', ""),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.rationale.trim()},
                "help": {"text": r.remediation.trim()},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "tags": r.tags,
                    "duty": r.duty,
                    "security-severity": security_severity(r.severity),
                    "references": r.references,
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let kind = match r.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                Outcome::Unknown => "open",
                Outcome::Error => "review",
                Outcome::NotApplicable => "notApplicable",
            };
            let mut text = format!("{}: expected {}", r.title, r.evidence.expected);
            if let Some(reason) = &r.reason {
                text.push_str(&format!(" ({reason})"));
            }
            let locations: Vec<Value> = r
                .evidence
                .observed
                .iter()
                .map(|o| {
                    json!({"logicalLocations": [{
                        "fullyQualifiedName": o.fact,
                        "kind": "resource",
                    }]})
                })
                .collect();
            let suppressions: Vec<Value> = r
                .waiver
                .iter()
                .filter(|w| w.active)
                .map(|w| json!({"kind": "external", "justification": format!("waived until {}: {}", w.expires, w.reason)}))
                .collect();
            json!({
                "suppressions": suppressions,
                "ruleId": r.id,
                "ruleIndex": i,
                "kind": kind,
                "level": if r.outcome == Outcome::Fail { level(r.severity) } else { "none" },
                "message": {"text": text},
                "locations": locations,
                "properties": {"observed": r.evidence.observed, "severity": r.severity},
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "stackposture",
            "version": report.tool.version,
            "informationUri": "https://github.com/stackposture/stackposture",
            "rules": rules,
        }},
        "results": results,
        "properties": {
            "profile": report.profile.name,
            "score": report.summary.overall.score,
            "coverage": report.summary.overall.coverage,
        },
    });
    if let Some(h) = &report.host {
        run["properties"]["host"] = Value::String(h.clone());
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("sarif serialises");
    s.push('\n');
    s
}
