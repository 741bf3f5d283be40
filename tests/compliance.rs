//! Compliance mapping (issue 13 item 4): the mapping files are validated at load (exit 2
//! on an unknown check, framework or control), every listed control is used, the
//! per-framework summaries agree with the results they summarise, `--framework` narrows
//! the view and nothing else, and the controls reach `checks show/list` and SARIF.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn manifest() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn demo_facts() -> String {
    format!("{}/examples/demo/facts.json", manifest())
}

fn run(args: &[&str]) -> Output {
    Command::new(common::bin()).args(args).output().unwrap()
}

fn json_of(o: &Output) -> Value {
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn demo_report(extra: &[&str]) -> Value {
    let facts = demo_facts();
    let mut args = vec!["evaluate", facts.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    json_of(&run(&args))
}

/// A --catalog directory holding `files` (relative path, text).
fn catalog_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn checks_with(dir: &Path) -> Output {
    run(&[
        "checks",
        "list",
        "--format",
        "json",
        "--catalog",
        dir.to_str().unwrap(),
    ])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_listed_control_is_mapped_and_clear_cases_are_mapped_as_expected() {
    let o = run(&["checks", "list", "--format", "json"]);
    let checks: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let controls =
        |id: &str| -> Value { checks.iter().find(|c| c["id"] == id).unwrap()["controls"].clone() };
    let s = |v: &Value, fw: &str| -> Vec<String> {
        v[fw]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mfa = controls("CS-SET-005");
    assert_eq!(s(&mfa, "nist-800-53"), ["IA-2(1)", "IA-2(2)"]);
    assert_eq!(s(&mfa, "cis-v8"), ["6.5"]);
    assert_eq!(s(&mfa, "iso-27001"), ["8.5"]);
    assert_eq!(s(&controls("CS-SET-013"), "nist-800-53"), ["AC-7"]);
    assert_eq!(s(&controls("CS-SRV-001"), "cis-v8"), ["3.10", "4.6"]);
    assert_eq!(s(&controls("CS-VULN-001"), "iso-27001"), ["8.8"]);
    assert_eq!(s(&controls("CS-TIME-001"), "nist-800-53"), ["AU-8"]);
    assert_eq!(s(&controls("OS-BLOCK-09"), "cis-v8"), ["3.11"]);
    // A check that implements no control carries no `controls`.
    assert!(controls("CS-DISC-002").is_null());

    // The framework catalog lists only controls some check uses (the markdown reference
    // has one table per framework: control | title | checks).
    let md = String::from_utf8(run(&["checks", "list", "--format", "markdown"]).stdout).unwrap();
    let mut frameworks = 0;
    for part in md.split("\n## Compliance: ").skip(1) {
        frameworks += 1;
        let rows: Vec<&str> = part
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| control"))
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert!(!rows.is_empty());
        for r in rows {
            assert!(!r.ends_with("|  |"), "a control no check maps to: {r}");
        }
    }
    assert_eq!(frameworks, 3);
    assert!(md.contains("- NIST SP 800-53 Rev. 5: IA-2(1), IA-2(2)"));
}

#[test]
fn checks_show_lists_the_controls() {
    let o = run(&["checks", "show", "CS-SET-005"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("[controls]"), "{text}");
    assert!(text.contains("cis-v8 = [\"6.5\"]"), "{text}");
    assert!(text.contains("\"IA-2(1)\""), "{text}");
}

#[test]
fn unknown_check_framework_or_control_in_a_mapping_is_a_catalog_error() {
    let cases = [
        (
            "[CS-NOPE-001]\nnist-800-53 = [\"AC-3\"]\n",
            "compliance of check CS-NOPE-001: no such check",
        ),
        (
            "# x\n[CS-SET-005]\nnist-800-53 = [\"IA-99\"]\n",
            "control \"IA-99\" is not in the nist-800-53 catalog",
        ),
        (
            "[CS-SET-005]\nsoc-2 = [\"CC6.1\"]\n",
            "unknown framework \"soc-2\" (one of nist-800-53, cis-v8, iso-27001)",
        ),
        ("[CS-SET-005]\nnist-800-53 = \"AC-3\"\n", "invalid type"),
        (
            "[OS-BLOCK-09]\ncis-v8 = [\"3.11\"]\n",
            "the check is in pack openstack, the mapping file in pack cloudstack",
        ),
    ];
    for (text, want) in cases {
        let d = catalog_dir(&[("cloudstack/compliance.toml", text)]);
        let o = checks_with(d.path());
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("catalog error"), "{err}");
        assert!(err.contains("compliance.toml:"), "file and line: {err}");
        assert!(err.contains(want), "{text}: {err}");
    }
    // A framework catalog entry without an https source, or a control without a title.
    for text in [
        "[[framework]]\nid = \"acme\"\ntitle = \"Acme\"\nsource = \"http://x\"\n",
        "[[framework]]\nid = \"acme\"\ntitle = \"Acme\"\nsource = \"https://x\"\n\
         [[framework.control]]\nid = \"A-1\"\ntitle = \"\"\n",
    ] {
        let d = catalog_dir(&[("frameworks.toml", text)]);
        let o = checks_with(d.path());
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains("framework \"acme\""), "{}", stderr(&o));
    }
}

#[test]
fn a_catalog_directory_adds_a_framework_and_remaps_a_check() {
    let d = catalog_dir(&[
        (
            "frameworks.toml",
            "[[framework]]\nid = \"acme-1\"\ntitle = \"Acme baseline\"\n\
             source = \"https://acme.example/baseline\"\n\
             [[framework.control]]\nid = \"A-1\"\ntitle = \"Two factors\"\n",
        ),
        (
            "cloudstack/compliance.toml",
            "[CS-SET-005]\nacme-1 = [\"A-1\"]\n",
        ),
    ]);
    let r = demo_report(&["--catalog", d.path().to_str().unwrap()]);
    let res = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "CS-SET-005")
        .unwrap();
    // A mapping entry replaces the check's whole mapping.
    assert_eq!(res["controls"], serde_json::json!({"acme-1": ["A-1"]}));
    let acme = &r["compliance"]["acme-1"];
    assert_eq!(acme["title"], "Acme baseline");
    assert_eq!(
        acme["controls"][0]["checks"],
        serde_json::json!(["CS-SET-005"])
    );
    assert_eq!(acme["controls"][0]["status"], res["outcome"]);
    // The other checks keep the embedded mapping.
    assert!(r["compliance"]["nist-800-53"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "IA-2(1)"));
}

fn outcome_rank(o: &str) -> u8 {
    match o {
        "fail" => 0,
        "error" => 1,
        "unknown" => 2,
        "pass" => 3,
        "not_applicable" => 4,
        other => panic!("{other}"),
    }
}

#[test]
fn each_control_is_the_worst_of_its_checks_and_the_counts_add_up() {
    let r = demo_report(&[]);
    let results = r["results"].as_array().unwrap();
    let comp = r["compliance"].as_object().unwrap();
    assert_eq!(
        comp.keys().collect::<Vec<_>>(),
        ["cis-v8", "iso-27001", "nist-800-53"]
    );
    let mut seen_statuses = BTreeMap::new();
    for (fw, s) in comp {
        assert!(s["source"].as_str().unwrap().starts_with("https://"));
        let mut tally: BTreeMap<String, u64> = BTreeMap::new();
        for ctl in s["controls"].as_array().unwrap() {
            let id = ctl["id"].as_str().unwrap();
            let mapped: Vec<&Value> = results
                .iter()
                .filter(|x| {
                    x["controls"][fw]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|c| c == id))
                })
                .collect();
            let ids: Vec<&Value> = mapped.iter().map(|x| &x["id"]).collect();
            assert_eq!(
                ctl["checks"].as_array().unwrap().iter().collect::<Vec<_>>(),
                ids
            );
            let worst = mapped
                .iter()
                .map(|x| x["outcome"].as_str().unwrap())
                .min_by_key(|o| outcome_rank(o))
                .unwrap();
            assert_eq!(ctl["status"], worst, "{fw} {id}");
            for k in ["pass", "fail", "unknown", "error", "not_applicable"] {
                let n = mapped.iter().filter(|x| x["outcome"] == k).count() as u64;
                assert_eq!(ctl["counts"][k], n, "{fw} {id} {k}");
            }
            *tally.entry(worst.to_string()).or_default() += 1;
            *seen_statuses.entry(worst.to_string()).or_insert(0) += 1;
        }
        for k in ["pass", "fail", "unknown", "error", "not_applicable"] {
            assert_eq!(
                s["counts"][k],
                tally.get(k).copied().unwrap_or(0),
                "{fw} {k}"
            );
        }
    }
    // The demo decides controls both ways: the test is not vacuous.
    assert!(seen_statuses.contains_key("fail") && seen_statuses.contains_key("pass"));
}

#[test]
fn framework_option_narrows_the_view_not_the_results() {
    let all = demo_report(&[]);
    for args in [
        &["--framework", "cis-v8"][..],
        &["--framework", "CIS-V8"][..],
        &["--framework", "cis-v8,iso-27001"][..],
        &["--framework", "iso-27001", "--framework", "cis-v8"][..],
    ] {
        let r = demo_report(args);
        let keys: Vec<&String> = r["compliance"].as_object().unwrap().keys().collect();
        let want: Vec<&str> = if args.len() == 2 && !args[1].contains(',') {
            vec!["cis-v8"]
        } else {
            vec!["cis-v8", "iso-27001"]
        };
        assert_eq!(keys, want, "{args:?}");
        for k in &want {
            assert_eq!(r["compliance"][k], all["compliance"][k], "{args:?}");
        }
        // The audit itself is the profile's.
        assert_eq!(r["summary"], all["summary"]);
        assert_eq!(r["verdict"], all["verdict"]);
        let (a, b) = (
            r["results"].as_array().unwrap(),
            all["results"].as_array().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!((&x["id"], &x["outcome"]), (&y["id"], &y["outcome"]));
            if let Some(c) = x["controls"].as_object() {
                assert!(c.keys().all(|k| want.contains(&k.as_str())), "{c:?}");
                assert!(!c.contains_key("nist-800-53"));
            }
        }
    }
}

#[test]
fn an_unknown_framework_exits_2_and_lists_the_valid_names() {
    let facts = demo_facts();
    let empty = tempfile::tempdir().unwrap();
    for args in [
        vec!["evaluate", facts.as_str(), "--framework", "pci-dss"],
        vec!["evaluate", facts.as_str(), "--framework", "cis-v8,pci-dss"],
        vec![
            "audit",
            "--root",
            empty.path().to_str().unwrap(),
            "--no-db",
            "--host-state",
            "never",
            "--framework",
            "pci-dss",
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("no framework \"pci-dss\" (valid: nist-800-53, cis-v8, iso-27001)"),
            "{err}"
        );
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn sarif_rules_carry_the_controls_as_tags() {
    let facts = demo_facts();
    let sarif: Value = serde_json::from_slice(
        &run(&["evaluate", &facts, "--format", "sarif", "--all-results"]).stdout,
    )
    .unwrap();
    let report = demo_report(&[]);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let mut checked = 0;
    for r in report["results"].as_array().unwrap() {
        let Some(controls) = r["controls"].as_object() else {
            continue;
        };
        let rule = rules.iter().find(|x| x["id"] == r["id"]).unwrap();
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(tags[0], "security");
        assert!(tags.len() <= 20);
        for (fw, ids) in controls {
            for id in ids.as_array().unwrap() {
                let tag = format!("{fw}/{}", id.as_str().unwrap());
                assert!(
                    tags.contains(&tag.as_str()),
                    "{}: {tag} in {tags:?}",
                    r["id"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
