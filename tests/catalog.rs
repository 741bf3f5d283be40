//! Walks the whole embedded catalog: ids are unique and well-formed, every check has at
//! least one passing and one failing facts-level fixture (tests/check_fixtures/*.json),
//! and every fixture gives the outcome it states.
//!
//! Fixture format: a JSON array of cases
//! `{"check": ID, "outcome": "pass"|"fail"|"unknown"|"not_applicable"|"error",
//!   "facts": {KEY: VALUE | {"$missing": REASON}}, "namespaces": {PREFIX: "complete" | REASON},
//!   "now": "YYYY-MM-DD" (optional), "note": "..." (optional)}`.
//!
//! A fixture describes a deployment of the reference commit's release (`cs.version`
//! `4.22.0.0`, so every setting of the catalog exists) unless its facts name `cs.version`
//! (or `"cs.version": {"$missing": ...}` for an unknown release).

use serde_json::Value;
use stackposture::catalog::{Catalog, Profile};
use stackposture::evaluate::{evaluate_check, parse_rfc3339, EvalContext, Outcome};
use stackposture::facts::{Fact, Facts, MissingReason};
use std::collections::{BTreeMap, BTreeSet};

fn reason(s: &str) -> MissingReason {
    serde_json::from_value(Value::String(s.to_string()))
        .unwrap_or_else(|_| panic!("unknown missing reason {s:?}"))
}

fn facts_of(case: &Value) -> Facts {
    let mut f = Facts::new();
    for (k, v) in case["facts"].as_object().into_iter().flatten() {
        let fact = match v.get("$missing").and_then(Value::as_str) {
            Some(r) => Fact::missing("fixture", reason(r), "fixture"),
            None => Fact::value("fixture", v.clone()),
        };
        f.insert(k.clone(), fact);
    }
    if !f.facts.contains_key("cs.version") {
        f.set("cs.version", "fixture", "4.22.0.0");
    }
    for (p, v) in case["namespaces"].as_object().into_iter().flatten() {
        match v.as_str() {
            Some("complete") => f.namespace_complete(p, "fixture"),
            Some(r) => f.namespace_missing(p, "fixture", reason(r), "fixture"),
            None => panic!("namespace value must be a string"),
        }
    }
    f
}

fn outcome(s: &str) -> Outcome {
    serde_json::from_value(Value::String(s.to_string()))
        .unwrap_or_else(|_| panic!("unknown outcome {s:?}"))
}

pub fn all_profile() -> Profile {
    toml::from_str("name = \"all\"\ntitle = \"all\"\ndescription = \"every check\"\n").unwrap()
}

#[test]
fn every_check_has_passing_and_failing_fixtures() {
    let cat = Catalog::builtin().expect("embedded catalog loads");
    let profile = all_profile();
    let ids: BTreeSet<&str> = cat.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), cat.checks.len(), "check ids are unique");
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut files: Vec<_> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_fixtures"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
    files.sort();
    let mut n = 0;
    for file in files {
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (i, case) in cases.iter().enumerate() {
            n += 1;
            let id = case["check"].as_str().expect("fixture names a check");
            let check = cat
                .check(id)
                .unwrap_or_else(|| panic!("{}[{i}]: no check {id}", file.display()));
            let want = outcome(case["outcome"].as_str().expect("fixture states an outcome"));
            let now = case["now"]
                .as_str()
                .map(|s| parse_rfc3339(s).expect("fixture now is a date"))
                .unwrap_or_else(|| parse_rfc3339("2026-11-28").unwrap());
            let r = evaluate_check(check, &profile, &facts_of(case), &EvalContext { now });
            if r.outcome != want {
                failures.push(format!(
                    "{}[{i}] {id}: expected {want:?}, got {:?} ({:?})",
                    file.display(),
                    r.outcome,
                    r.reason
                ));
            }
            seen.entry(id.to_string())
                .or_default()
                .insert(want.as_str().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "fixture mismatches:\n{}",
        failures.join("\n")
    );
    let mut missing = Vec::new();
    for c in &cat.checks {
        let s = seen.get(&c.id);
        for need in ["pass", "fail"] {
            if !s.is_some_and(|s| s.contains(need)) {
                missing.push(format!("{} has no {need} fixture", c.id));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(n >= 2 * cat.checks.len());
}
