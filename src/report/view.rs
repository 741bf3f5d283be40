//! The one finding view: what a person is shown about one result (its label, evidence
//! lines, waiver note, why, expected value, remediation), computed once here and used by
//! every format (table, JUnit, SARIF, HTML, CSV, Markdown). Formats differ only in syntax.
//!
//! Every string here is display-safe: untrusted bytes are escaped by [`escape::text`]
//! (control characters, bidi overrides, noncharacters), so a format only adds its own
//! syntax escaping (XML, HTML, CSV, Markdown).

use super::escape;
use super::Report;
use crate::evaluate::{CheckResult, Observation, Outcome};
use crate::outcome::Named;

/// Evidence values longer than this (in characters) are cut, with `...`.
const MAX_VALUE_CHARS: usize = 160;

/// One result as people see it.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    pub result: &'a CheckResult,
    /// Display-safe copies of the result's identifying fields.
    pub id: String,
    pub title: String,
    pub duty: String,
    /// `FAIL`, `PASS`, `UNKNOWN`, `N/A`, `ERROR`; `FAIL (waived)` under an active waiver.
    pub label: String,
    /// Failing or unknown, and covered by an active waiver.
    pub waived: bool,
    /// One line per observed fact: `fact = value`, or `fact: reason (detail)`.
    pub evidence: Vec<String>,
    /// `waived until DATE: reason`, or `waiver EXPIRED on DATE: reason`.
    pub waiver_note: Option<String>,
    /// Why the outcome is what it is (for fail and error; unknown is explained by the
    /// evidence lines).
    pub why: Option<String>,
    /// The expected state, for anything but a pass.
    pub expected: Option<String>,
    pub rationale: Vec<String>,
    pub remediation: Vec<String>,
    /// The items the evidence names (domains, accounts, users, ...), as
    /// [`named_lines`] gives them: the list a remediation is applied to, item by item.
    pub named: Vec<String>,
}

impl Finding<'_> {
    /// The evidence column of the table: evidence, waiver note, why, expected.
    pub fn detail_lines(&self) -> Vec<String> {
        let mut lines = self.evidence.clone();
        lines.extend(self.waiver_note.clone());
        lines.extend(self.why.as_ref().map(|w| format!("why: {w}")));
        lines.extend(self.expected.as_ref().map(|e| format!("expected: {e}")));
        lines
    }

    /// A one-line message: `Title: expected ... (why)`.
    pub fn message(&self) -> String {
        let mut m = self.title.clone();
        if let Some(e) = &self.expected {
            m.push_str(&format!(": expected {e}"));
        }
        if let Some(r) = &self.result.reason {
            m.push_str(&format!(" ({})", escape::text(r)));
        }
        m
    }
}

pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Unknown => "UNKNOWN",
        Outcome::NotApplicable => "N/A",
        Outcome::Error => "ERROR",
    }
}

/// The view of one result.
pub fn of(r: &CheckResult) -> Finding<'_> {
    let waived = crate::score::is_waived(r);
    let label = if r.waiver.as_ref().is_some_and(|w| w.active) {
        format!("{} (waived)", r.outcome.as_str().to_uppercase())
    } else {
        outcome_label(r.outcome).to_string()
    };
    let waiver_note = r.waiver.as_ref().map(|w| {
        let state = if w.active {
            "waived until"
        } else {
            "waiver EXPIRED on"
        };
        escape::text(&format!("{state} {}: {}", w.expires, w.reason.trim())).into_owned()
    });
    let not_pass = r.outcome != Outcome::Pass;
    Finding {
        result: r,
        id: escape::text(&r.id).into_owned(),
        title: escape::text(&r.title).into_owned(),
        duty: escape::text(&r.duty).into_owned(),
        label,
        waived,
        evidence: r
            .evidence
            .observed
            .iter()
            .flat_map(evidence_lines)
            .collect(),
        waiver_note,
        why: r
            .reason
            .as_ref()
            .filter(|_| not_pass && r.outcome != Outcome::Unknown)
            .map(|w| escape::text(w).into_owned()),
        expected: not_pass.then(|| escape::text(&r.evidence.expected).into_owned()),
        rationale: escape::lines(r.rationale.trim()),
        remediation: escape::lines(r.remediation.trim()),
        named: r
            .evidence
            .observed
            .iter()
            .filter_map(|o| o.named.as_ref())
            .filter(|n| n.total > 0)
            .flat_map(named_lines)
            .collect(),
    }
}

/// All results of a report as views, ordered: failures by severity, then errors,
/// unknowns, passes, not applicable (ties by id).
pub fn sorted(report: &Report) -> Vec<Finding<'_>> {
    sorted_of(report.results.iter())
}

pub fn sorted_of<'a>(results: impl Iterator<Item = &'a CheckResult>) -> Vec<Finding<'a>> {
    let mut v: Vec<&CheckResult> = results.collect();
    v.sort_by(|a, b| {
        a.outcome
            .cmp(&b.outcome)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    v.into_iter().map(of).collect()
}

/// The title of a duty from the report's packs, display-safe (empty when the catalog
/// does not know it).
pub fn duty_title(report: &super::Report, duty: &str) -> String {
    escape::text(report.duty_titles.get(duty).map_or("", String::as_str)).into_owned()
}

/// The report's host, display-safe.
pub fn host(report: &Report) -> String {
    escape::text(report.host.as_deref().unwrap_or("(unknown host)")).into_owned()
}

/// Sources that could not be read: `name (status: detail)`, display-safe.
pub fn failed_sources(report: &Report) -> Vec<String> {
    report
        .sources
        .iter()
        .filter(|(k, s)| s.status != "ok" && !report.skipped_sources.contains_key(*k))
        .map(|(k, s)| {
            let t = if s.detail.is_empty() {
                format!("{k} ({})", s.status)
            } else {
                format!("{k} ({}: {})", s.status, s.detail)
            };
            escape::text(&t).into_owned()
        })
        .collect()
}

/// The evidence lines of one observation: [`observation`], then the items it names
/// (`  - item`, at most [`Named::MAX`]) and `  and N more (total T)` when there are more.
pub fn evidence_lines(o: &Observation) -> Vec<String> {
    let mut lines = vec![observation(o)];
    if let Some(n) = &o.named {
        lines.extend(named_lines(n));
    }
    lines
}

/// `  - item` lines and the `and N more (total T)` line, display-safe.
pub fn named_lines(n: &Named) -> Vec<String> {
    let shown: Vec<&String> = n.items.iter().take(Named::MAX).collect();
    let mut lines: Vec<String> = shown
        .iter()
        .map(|i| {
            let mut s = escape::text(i).into_owned();
            if s.chars().count() > MAX_VALUE_CHARS {
                s = s.chars().take(MAX_VALUE_CHARS - 3).collect::<String>() + "...";
            }
            format!("  - {s}")
        })
        .collect();
    let total = n.total.max(shown.len() as u64);
    if total > shown.len() as u64 {
        lines.push(format!(
            "  and {} more (total {total})",
            total - shown.len() as u64
        ));
    }
    lines
}

/// The sources the operator chose not to collect: `db: why (cs.*, dbserver.*)`,
/// display-safe.
pub fn skipped_sources(report: &Report) -> Vec<String> {
    report
        .skipped_sources
        .iter()
        .map(|(k, s)| {
            let ns: Vec<String> = s.namespaces.iter().map(|n| format!("{n}*")).collect();
            escape::text(&format!("{k}: {} ({})", s.reason, ns.join(", "))).into_owned()
        })
        .collect()
}

/// `fact = value`, `fact = value (default)` or `fact: reason (detail)`, display-safe.
pub fn observation(o: &Observation) -> String {
    let name = match &o.field {
        Some(f) => format!("{}.{f}", o.fact),
        None => o.fact.clone(),
    };
    let line = match (&o.value, &o.missing) {
        (Some(v), _) => {
            let mut s = match v {
                serde_json::Value::String(s) => escape::quoted(s),
                serde_json::Value::Object(o) if o.contains_key("mode") => file_summary(o),
                other => other.to_string(),
            };
            if s.chars().count() > MAX_VALUE_CHARS {
                s = s.chars().take(MAX_VALUE_CHARS - 3).collect::<String>() + "...";
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
    };
    escape::text(&line).into_owned()
}

/// `file 0644 root:root /path -> target` for file facts.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{Evidence, Observation};
    use crate::facts::Missing;

    fn result(observed: Vec<Observation>) -> CheckResult {
        CheckResult {
            id: "X-1".into(),
            title: "t\x1b]0;owned\x07".into(),
            duty: "d".into(),
            severity: crate::catalog::Severity::High,
            outcome: Outcome::Fail,
            reason: Some("r\u{202e}".into()),
            evidence: Evidence {
                expected: "e".into(),
                observed,
            },
            rationale: "why\n\x1b[2J".into(),
            remediation: "fix\nit".into(),
            references: vec![],
            tags: vec![],
            controls: Default::default(),
            waiver: None,
            skipped: None,
        }
    }

    #[test]
    fn every_line_is_display_safe() {
        let mut file = serde_json::Map::new();
        file.insert("type".into(), "symlink".into());
        file.insert("mode".into(), "0777".into());
        file.insert("path".into(), "/etc/a\x1b[31m".into());
        file.insert("link_target".into(), "/x\u{9b}2J\n".into());
        let r = result(vec![
            Observation {
                fact: "file.a".into(),
                field: None,
                value: Some(serde_json::Value::Object(file)),
                missing: None,
                default_applied: false,
                source: "files".into(),
                named: None,
            },
            Observation {
                fact: "db.x".into(),
                field: None,
                value: None,
                missing: Some(Missing::error("server says \x1b[2J\0")),
                default_applied: false,
                source: "db".into(),
                named: None,
            },
            Observation {
                fact: "s".into(),
                field: None,
                value: Some("v\"\\\x07".into()),
                missing: None,
                default_applied: false,
                source: "db".into(),
                named: None,
            },
        ]);
        let f = of(&r);
        let all: Vec<String> = f
            .detail_lines()
            .into_iter()
            .chain([f.title.clone(), f.message()])
            .chain(f.rationale.clone())
            .chain(f.remediation.clone())
            .collect();
        for l in &all {
            assert!(!l.chars().any(escape::is_unsafe), "{l:?}");
        }
        assert_eq!(
            f.evidence[0],
            "file.a = symlink 0777 ?:? /etc/a\\x1b[31m -> /x\\x9b2J\\n"
        );
        assert_eq!(f.evidence[1], "db.x: error (server says \\x1b[2J\\x00)");
        assert_eq!(f.evidence[2], "s = \"v\\\"\\\\\\x07\"");
        assert_eq!(f.why.as_deref(), Some("r\\u{202e}"));
    }

    #[test]
    fn named_items_are_listed_escaped_and_bounded() {
        let mut items: Vec<String> = (0..25).map(|i| format!("ROOT/d{i}")).collect();
        items[0] = "ROOT/evil\x1b[2J\u{202e}".into();
        let r = result(vec![Observation {
            fact: "cs.domain_override.enable.user.2fa".into(),
            field: Some("false_count".into()),
            value: Some(25.into()),
            missing: None,
            default_applied: false,
            source: "db".into(),
            named: Some(Named { items, total: 30 }),
        }]);
        let f = of(&r);
        assert_eq!(f.evidence.len(), 1 + Named::MAX + 1, "{:?}", f.evidence);
        assert_eq!(f.evidence[1], "  - ROOT/evil\\x1b[2J\\u{202e}");
        assert_eq!(f.evidence[2], "  - ROOT/d1");
        assert_eq!(f.evidence[21], "  and 10 more (total 30)");
        for l in &f.evidence {
            assert!(!l.chars().any(escape::is_unsafe), "{l:?}");
        }
    }
}
