//! The shipped alerting rules and Grafana dashboard: `promtool check rules` and
//! `promtool test rules` pass, and every metric they use is one the Prometheus output
//! really writes (for the demo deployment's full facts).

mod common;

use std::collections::BTreeSet;
use std::process::Command;

fn manifest(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// Metric names (`stackposture_*`) used in a text.
fn metrics_used(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"stackposture_[a-z_]+").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

#[test]
fn rules_and_dashboard_use_real_metrics() {
    let o = Command::new(common::bin())
        .args([
            "evaluate",
            &manifest("examples/demo/facts.json"),
            "--format",
            "prometheus",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let written: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    for f in [
        "monitoring/stackposture.rules.yml",
        "monitoring/grafana-dashboard.json",
    ] {
        let body = std::fs::read_to_string(manifest(f)).unwrap();
        let used = metrics_used(&body);
        assert!(!used.is_empty(), "{f}");
        // Label names such as stackposture-posture in the dashboard uid are not metrics.
        for m in used.iter().filter(|m| !m.ends_with('_')) {
            assert!(
                written.contains(m),
                "{f} uses {m}, which the output never writes"
            );
        }
    }
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest("monitoring/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    assert!(dash["panels"].as_array().unwrap().len() >= 4);
}

#[test]
fn promtool_checks_and_tests_the_alerting_rules() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let dir = manifest("monitoring");
    for args in [
        ["check", "rules", "stackposture.rules.yml"],
        ["test", "rules", "stackposture.rules.test.yml"],
    ] {
        let o = Command::new(&promtool)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
