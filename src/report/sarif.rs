//! SARIF 2.1.0 for code scanning, within what GitHub accepts (docs.github.com, "SARIF
//! support for code scanning"): by default only failures are results (GitHub ignores
//! `kind` and would raise every pass as an alert; `--all-results` adds the others with
//! their `kind`); every result has one physical location (see [`super::anchor`] and
//! docs/sarif.md), `partialFingerprints`, and the run an `automationDetails.id` per host
//! so uploads from several hosts do not replace each other. Rules carry the `security`
//! tag and a `security-severity`; descriptions are cut to GitHub's 1,024 characters.
//! Waived failures are kept, with an external, accepted suppression.

use super::anchor::{self, Location};
use super::view::{self, Finding};
use super::Report;
use crate::catalog::Severity;
use crate::evaluate::Outcome;
use serde_json::{json, Value};
use sha2::Digest;

/// GitHub's limits (docs.github.com, "SARIF support for code scanning" and "SARIF results
/// exceed limits"): descriptions at most 1,024 characters, at most 20 tags per rule (only
/// 10 shown), at most 25,000 results per run.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
pub const MAX_TAGS: usize = 10;
pub const MAX_RESULTS: usize = 25_000;

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

/// At most `max` characters, cut with `…` (char boundaries, never mid-character).
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    s.chars().take(max - 1).collect::<String>() + "…"
}

/// A category for `automationDetails.id`: the host, reduced to `[A-Za-z0-9._-]`.
fn category(report: &Report) -> String {
    let host: String = report
        .host
        .as_deref()
        .unwrap_or("unknown-host")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("stackposture/{}/", cut(&host, 200))
}

fn rule(f: &Finding) -> Value {
    let r = f.result;
    // Distinct tags (the schema requires it), `security` first, then the compliance
    // controls as `framework/control` (`nist-800-53/SC-8`), then the check's own tags.
    let controls: Vec<String> = r
        .controls
        .iter()
        .flat_map(|(fw, ids)| ids.iter().map(move |id| format!("{fw}/{id}")))
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for t in ["security", r.duty.as_str()]
        .into_iter()
        .chain(controls.iter().map(String::as_str))
        .chain(r.tags.iter().map(String::as_str))
    {
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    tags.truncate(MAX_TAGS);
    let mut rule = json!({
        "id": r.id,
        "name": r.id.replace('-', ""),
        "shortDescription": {"text": cut(&f.title, MAX_DESCRIPTION_CHARS)},
        "fullDescription": {"text": cut(&f.rationale.join("\n"), MAX_DESCRIPTION_CHARS)},
        "help": {"text": f.remediation.join("\n")},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": tags,
            "duty": r.duty,
            "security-severity": security_severity(r.severity),
            "references": r.references,
        },
    });
    if let Some(u) = r.references.iter().find(|u| u.starts_with("https://")) {
        rule["helpUri"] = Value::String(u.clone());
    }
    rule
}

fn fingerprint(f: &Finding, loc: &Location) -> String {
    let mut h = sha2::Sha256::new();
    h.update(f.result.id.as_bytes());
    h.update([0]);
    h.update(loc.uri.as_bytes());
    for o in &f.result.evidence.observed {
        h.update([0]);
        h.update(o.fact.as_bytes());
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn result(report: &Report, f: &Finding, index: usize) -> Value {
    let r = f.result;
    let kind = match r.outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Unknown => "open",
        Outcome::Error => "review",
        Outcome::NotApplicable => "notApplicable",
    };
    let mut text = f.message();
    if !f.evidence.is_empty() {
        text.push_str(". Observed: ");
        text.push_str(&f.evidence.join("; "));
    }
    let loc = anchor::locate(report, r);
    // Distinct fact keys (the schema requires unique items).
    let mut facts: Vec<&str> = Vec::new();
    for o in &r.evidence.observed {
        if !facts.contains(&o.fact.as_str()) {
            facts.push(&o.fact);
        }
    }
    let logical: Vec<Value> = facts
        .iter()
        .map(|f| json!({"fullyQualifiedName": super::escape::text(f), "kind": "resource"}))
        .collect();
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": loc.uri},
            "region": {"startLine": loc.line},
        },
        "message": {"text": loc.why},
    });
    if !logical.is_empty() {
        location["logicalLocations"] = Value::Array(logical);
    }
    let mut res = json!({
        "ruleId": r.id,
        "ruleIndex": index,
        "kind": kind,
        "level": if r.outcome == Outcome::Fail { level(r.severity) } else { "none" },
        "message": {"text": cut(&text, 4 * MAX_DESCRIPTION_CHARS)},
        "locations": [location],
        "partialFingerprints": {"stackpostureFinding/v1": fingerprint(f, &loc)},
        "properties": {"evidence": f.evidence, "severity": r.severity},
    });
    if let Some(w) = r.waiver.as_ref().filter(|w| w.active) {
        res["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": f.waiver_note.clone().unwrap_or_else(|| w.reason.clone()),
        }]);
    }
    res
}

/// `all`: include passes, unknowns, errors and not-applicable results too (with `kind`).
pub fn render(report: &Report, all: bool) -> String {
    // Only the results shown get a view (building every result's view for failures only
    // was a third of the time of `evaluate --format sarif`).
    let findings: Vec<Finding> = view::sorted_of(
        report
            .results
            .iter()
            .filter(|r| all || r.outcome == Outcome::Fail),
    )
    .into_iter()
    .take(MAX_RESULTS)
    .collect();
    let rules: Vec<Value> = findings.iter().map(rule).collect();
    let results: Vec<Value> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| result(report, f, i))
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "stackposture",
            "version": report.tool.version,
            "informationUri": "https://github.com/stackposture/stackposture",
            "rules": rules,
        }},
        "automationDetails": {"id": category(report)},
        "results": results,
        "properties": {
            "profile": report.profile.name,
            "score": report.summary.overall.score,
            "coverage": report.summary.overall.coverage,
        },
    });
    if let Some(h) = &report.host {
        run["properties"]["host"] = Value::String(super::escape::text(h).into_owned());
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
