//! The machine formats (JUnit, SARIF, Prometheus) read back by independent parsers.

mod common;

use common::py;

use std::process::Command;

fn report(format: &str) -> String {
    let m = env!("CARGO_MANIFEST_DIR");
    let o = Command::new(common::bin())
        .args([
            "evaluate",
            &format!("{m}/tests/fixtures/golden-facts.json"),
            "--no-builtin-catalog",
            "--catalog",
            &format!("{m}/tests/fixtures/golden-catalog"),
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn junit_parses_and_counts_unknown_as_error() {
    let xml = report("junit");
    let Some(python) = common::python_with("xml.etree.ElementTree") else {
        return;
    };
    let out = py(
        &python,
        "import sys, xml.etree.ElementTree as ET\n\
         r = ET.fromstring(sys.stdin.read())\n\
         cases = r.findall('.//testcase')\n\
         print(len(cases), len(r.findall('.//failure')), len(r.findall('.//error')), r.get('failures'), r.get('errors'))",
        &xml,
    );
    // 5 checks: 3 fail, 2 unknown.
    assert_eq!(out.trim(), "5 3 2 3 2");
}

#[test]
fn prometheus_text_parses() {
    let text = report("prometheus");
    assert!(text.contains("stackposture_check_passed{"));
    let Some(python) = common::python_with("prometheus_client") else {
        return;
    };
    let out = py(
        &python,
        "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\n\
         fams = {m.name: m for m in f(sys.stdin.read())}\n\
         print(sorted(fams))\n\
         print(sum(1 for s in fams['stackposture_check_passed'].samples))\n\
         print([float(s.value) for s in fams['stackposture_score'].samples])",
        &text,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("stackposture_coverage") && lines[0].contains("stackposture_duty_score")
    );
    assert_eq!(lines[1], "5");
    assert_eq!(lines[2], "[0.0]");
}

#[test]
fn sarif_structure() {
    // Failures only by default: GitHub raises every result as an alert, whatever `kind`.
    let v: serde_json::Value = serde_json::from_str(&report("sarif")).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(rules.len(), results.len());
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["ruleIndex"], i);
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert_eq!(r["kind"], "fail");
    }
    assert_eq!(results.len(), 3);
    let crit = results
        .iter()
        .find(|r| r["ruleId"] == "GT-FILE-001")
        .unwrap();
    assert_eq!(crit["level"], "error");
}

#[test]
fn json_reports_validate_against_the_published_schema() {
    let Some(python) = common::python_with("jsonschema") else {
        return;
    };
    let m = env!("CARGO_MANIFEST_DIR");
    // The golden report, and the demo's full report (every collector's facts).
    let demo = Command::new(common::bin())
        .args([
            "evaluate",
            &format!("{m}/examples/demo/facts.json"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    for (name, text) in [
        ("golden", report("json")),
        ("demo", String::from_utf8(demo.stdout).unwrap()),
    ] {
        let out = py(
            &python,
            &format!(
                "import json, sys, jsonschema\n\
                 schema = json.load(open('{m}/docs/report.schema.json'))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 errs = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin)))\n\
                 print(len(errs)); [print(list(e.path), e.message[:200]) for e in errs[:5]]"
            ),
            &text,
        );
        assert_eq!(out.lines().next(), Some("0"), "{name}: {out}");
    }
}

/// A report with sources left out by the operator's choice (`skipped_sources`, results
/// marked `skipped`, schema 1.2.0) validates against the published schema.
#[test]
fn json_report_with_sources_skipped_by_choice_validates() {
    let Some(python) = common::python_with("jsonschema") else {
        return;
    };
    let m = env!("CARGO_MANIFEST_DIR");
    let root = tempfile::tempdir().unwrap();
    let o = Command::new(common::bin())
        .args(["audit", "--root", root.path().to_str().unwrap()])
        .args(["--no-db", "--host-state", "never", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        v["skipped_sources"]["db"].is_object(),
        "{}",
        v["skipped_sources"]
    );
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["skipped"].is_string()));
    let out = py(
        &python,
        &format!(
            "import json, sys, jsonschema\n\
             schema = json.load(open('{m}/docs/report.schema.json'))\n\
             errs = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin)))\n\
             print(len(errs)); [print(list(e.path), e.message[:200]) for e in errs[:5]]"
        ),
        &text,
    );
    assert_eq!(out.lines().next(), Some("0"), "{out}");
}
