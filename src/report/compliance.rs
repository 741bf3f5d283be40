//! Per-framework compliance summaries (report schema 1.2.0): for every framework, each
//! control that at least one evaluated check implements, with those checks, their
//! outcome counts and the control's status, the worst outcome of its checks (fail, then
//! error, unknown, pass, not applicable). Built from the results' `controls` and the
//! catalog's framework titles; rendered in the JSON report and as a section of the HTML.
//!
//! `--framework` narrows the view, not the audit: the summaries and each result's
//! `controls` keep only the selected frameworks, while the results, scores and verdict
//! stay those of the profile (a compliance view must not hide a failing check).

use super::escape::html as h;
use super::Report;
use crate::catalog::{Catalog, Controls};
use crate::evaluate::{CheckResult, Outcome};
use crate::score::Counts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One control as the report's checks decide it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlSummary {
    pub id: String,
    pub title: String,
    /// The worst outcome of the control's checks.
    pub status: Outcome,
    /// The evaluated checks that implement the control, by id.
    pub checks: Vec<String>,
    /// Outcomes of those checks.
    pub counts: Counts,
    /// Of those, failing or unknown checks under an active waiver.
    pub waived: u32,
}

/// One framework: its controls, and how many controls have each status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkSummary {
    pub title: String,
    /// Where the framework's official catalog is published.
    pub source: String,
    /// Controls by status.
    pub counts: Counts,
    /// In the framework catalog's order.
    pub controls: Vec<ControlSummary>,
}

/// Framework id -> summary.
pub type Compliance = BTreeMap<String, FrameworkSummary>;

fn add(c: &mut Counts, o: Outcome) {
    match o {
        Outcome::Pass => c.pass += 1,
        Outcome::Fail => c.fail += 1,
        Outcome::Unknown => c.unknown += 1,
        Outcome::Error => c.error += 1,
        Outcome::NotApplicable => c.not_applicable += 1,
    }
}

/// Keeps only the selected frameworks in a result's controls (`None`: all).
pub fn restrict(controls: &mut Controls, selected: Option<&[String]>) {
    if let Some(sel) = selected {
        controls.retain(|fw, _| sel.contains(fw));
    }
}

/// The summaries of `results` for the catalog's frameworks (or the selected ones);
/// `None` when the catalog has no framework.
pub fn summarise(
    catalog: &Catalog,
    results: &[CheckResult],
    selected: Option<&[String]>,
) -> Option<Compliance> {
    if catalog.frameworks.is_empty() {
        return None;
    }
    // (framework, control) -> the results mapped to it, in results order: one pass.
    let mut by_control: BTreeMap<(&str, &str), Vec<&CheckResult>> = BTreeMap::new();
    for r in results {
        for (fw, ids) in &r.controls {
            for id in ids {
                by_control.entry((fw, id)).or_default().push(r);
            }
        }
    }
    let mut out = Compliance::new();
    for fw in &catalog.frameworks {
        if selected.is_some_and(|s| !s.contains(&fw.id)) {
            continue;
        }
        let mut controls = Vec::new();
        let mut counts = Counts::default();
        for ctl in &fw.controls {
            let hits: &[&CheckResult] = by_control
                .get(&(fw.id.as_str(), ctl.id.as_str()))
                .map_or(&[], Vec::as_slice);
            let Some(status) = hits.iter().map(|r| r.outcome).min() else {
                continue;
            };
            let mut c = Counts::default();
            hits.iter().for_each(|r| add(&mut c, r.outcome));
            add(&mut counts, status);
            controls.push(ControlSummary {
                id: ctl.id.clone(),
                title: ctl.title.clone(),
                status,
                checks: hits.iter().map(|r| r.id.clone()).collect(),
                counts: c,
                waived: hits.iter().filter(|r| crate::score::is_waived(r)).count() as u32,
            });
        }
        out.insert(
            fw.id.clone(),
            FrameworkSummary {
                title: fw.title.clone(),
                source: fw.source.clone(),
                counts,
                controls,
            },
        );
    }
    Some(out)
}

/// The HTML section: per framework, the controls by status (element ids
/// `fw-<framework>-<status>` hold the counts), then one row per control.
pub fn html(out: &mut String, report: &Report) {
    let Some(comp) = &report.compliance else {
        return;
    };
    if comp.is_empty() {
        return;
    }
    out.push_str("<h2>Compliance</h2>\n");
    for (id, fw) in comp {
        let c = &fw.counts;
        let fw_id = h(id);
        let _ = writeln!(
            out,
            "<h3>{title}</h3>\n<p class=\"framework\" data-framework=\"{fw_id}\">Controls: \
             <span id=\"fw-{fw_id}-fail\">{}</span> fail, \
             <span id=\"fw-{fw_id}-error\">{}</span> error, \
             <span id=\"fw-{fw_id}-unknown\">{}</span> unknown, \
             <span id=\"fw-{fw_id}-pass\">{}</span> pass, \
             <span id=\"fw-{fw_id}-not_applicable\">{}</span> not applicable. \
             Catalog: <code>{source}</code></p>",
            c.fail,
            c.error,
            c.unknown,
            c.pass,
            c.not_applicable,
            title = h(&fw.title),
            source = h(&fw.source),
        );
        let _ = writeln!(
            out,
            "<table class=\"controls\" id=\"fw-{}\"><tr><th>Control</th><th>Title</th>\
             <th>Status</th><th>Checks</th></tr>",
            fw_id
        );
        for ctl in &fw.controls {
            let _ = writeln!(
                out,
                "<tr class=\"control {}\" data-status=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ctl.status.as_str(),
                ctl.status.as_str(),
                h(&ctl.id),
                h(&ctl.title),
                super::view::outcome_label(ctl.status),
                h(&ctl.checks.join(", "))
            );
        }
        out.push_str("</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Control, Framework};
    use crate::evaluate::Evidence;

    fn result(id: &str, outcome: Outcome, controls: &[(&str, &[&str])]) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: "t".into(),
            duty: "d".into(),
            severity: crate::catalog::Severity::High,
            outcome,
            reason: None,
            evidence: Evidence {
                expected: "e".into(),
                observed: vec![],
            },
            rationale: "r".into(),
            remediation: "m".into(),
            references: vec![],
            tags: vec![],
            skipped: None,
            controls: controls
                .iter()
                .map(|(f, c)| (f.to_string(), c.iter().map(|x| x.to_string()).collect()))
                .collect(),
            waiver: None,
        }
    }

    fn catalog() -> Catalog {
        let fw = |id: &str, ctls: &[&str]| Framework {
            id: id.into(),
            title: id.to_uppercase(),
            source: "https://example.org/".into(),
            note: String::new(),
            controls: ctls
                .iter()
                .map(|c| Control {
                    id: c.to_string(),
                    title: format!("title {c}"),
                })
                .collect(),
        };
        Catalog {
            frameworks: vec![fw("a", &["A-1", "A-2", "A-3"]), fw("b", &["B-1"])],
            ..Catalog::default()
        }
    }

    #[test]
    fn a_control_is_its_worst_check_and_unmapped_controls_are_left_out() {
        let results = vec![
            result("X-1", Outcome::Pass, &[("a", &["A-1", "A-2"])]),
            result("X-2", Outcome::Unknown, &[("a", &["A-1"]), ("b", &["B-1"])]),
            result("X-3", Outcome::NotApplicable, &[("a", &["A-2"])]),
            result("X-4", Outcome::Fail, &[("b", &["B-1"])]),
        ];
        let s = summarise(&catalog(), &results, None).unwrap();
        let a = &s["a"];
        assert_eq!(a.controls.len(), 2, "A-3 has no evaluated check");
        assert_eq!(a.controls[0].id, "A-1");
        assert_eq!(a.controls[0].status, Outcome::Unknown);
        assert_eq!(a.controls[0].checks, ["X-1", "X-2"]);
        assert_eq!(
            (a.controls[0].counts.pass, a.controls[0].counts.unknown),
            (1, 1)
        );
        assert_eq!(a.controls[1].status, Outcome::Pass);
        assert_eq!((a.counts.unknown, a.counts.pass, a.counts.fail), (1, 1, 0));
        assert_eq!(s["b"].controls[0].status, Outcome::Fail);
        assert_eq!(s["b"].counts.fail, 1);
    }

    #[test]
    fn selection_keeps_only_the_named_frameworks() {
        let results = vec![result(
            "X-1",
            Outcome::Pass,
            &[("a", &["A-1"]), ("b", &["B-1"])],
        )];
        let sel = vec!["b".to_string()];
        let s = summarise(&catalog(), &results, Some(&sel)).unwrap();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["b"]);
        let mut c = results[0].controls.clone();
        restrict(&mut c, Some(&sel));
        assert_eq!(c.keys().collect::<Vec<_>>(), ["b"]);
        assert!(summarise(&Catalog::default(), &results, None).is_none());
    }
}
