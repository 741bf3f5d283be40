//! The catalog loader: platform packs (duties as data, detection, per-pack profiles,
//! `--catalog` extension), load-time fact-key validation, compile-time operand checks and
//! impossible dates, on real directory trees and through the real CLI.

mod common;

use stackposture::catalog::{Catalog, CatalogError, CatalogSource};
use stackposture::rootfs::RootFs;
use std::path::Path;
use std::process::Command;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, body) in files {
        let full = d.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
    d
}

fn load(dirs: &[&Path], no_builtin: bool) -> Result<Catalog, CatalogError> {
    Catalog::load(&CatalogSource {
        dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
        no_builtin,
    })
}

/// A check in `duty` reading `fact` with `condition`, starting on the file's first line.
fn check(id: &str, duty: &str, fact: &str, condition: &str) -> String {
    format!(
        "[[check]]\nid = \"{id}\"\ntitle = \"t\"\nduty = \"{duty}\"\nseverity = \"high\"\n\
         fact = \"{fact}\"\ncondition = {condition}\nif_absent = \"fail\"\n\
         rationale = \"r\"\nremediation = \"m\"\nreferences = [\"x\"]\n"
    )
}

const DEMO_PACK: &str = "[pack]\nid = \"demo\"\ntitle = \"Demo platform\"\n\
detect = [\"/etc/demo\"]\n[[duty]]\nid = \"patching\"\ntitle = \"Keep it patched\"\n";

#[test]
fn cloudstack_duties_are_data_and_unchanged() {
    let cat = Catalog::shared_builtin().unwrap();
    let cs = cat.pack("cloudstack").expect("the cloudstack pack");
    let duties: Vec<(&str, &str)> = cs
        .duties
        .iter()
        .map(|d| (d.id.as_str(), d.title.as_str()))
        .collect();
    assert_eq!(
        duties,
        [
            (
                "data-exposure",
                "Do not share DB access, DB dumps or log files"
            ),
            (
                "dos-bruteforce",
                "Protect against DoS and brute-force attacks"
            ),
            ("monitoring", "Provide full-fledged monitoring"),
            (
                "resource-integrity",
                "Secure OS-level access to hosts, management servers, system VMs and routers"
            ),
            (
                "extension-safety",
                "Scripts and executables added as extensions are safe"
            ),
            ("transport", "TLS on the API and between components"),
            ("time", "Clocks in sync"),
        ]
    );
    // Every check is in the pack of its directory: CS-* in cloudstack, OS-* in openstack.
    assert!(cat
        .checks
        .iter()
        .all(|c| (c.id.starts_with("CS-") && c.pack == "cloudstack")
            || (c.id.starts_with("OS-") && c.pack == "openstack")));
    assert!(cs
        .detect
        .contains(&"/etc/cloudstack/management".to_string()));
}

#[test]
fn a_new_pack_brings_its_duties_checks_and_profiles() {
    let d = tree(&[
        ("checks/demo/pack.toml", DEMO_PACK),
        (
            "checks/demo/patch.toml",
            &check(
                "DM-PATCH-001",
                "patching",
                "demo.version",
                "{ op = \"present\" }",
            ),
        ),
        (
            "checks/demo/profiles/demo-only.toml",
            "name = \"demo-only\"\ntitle = \"t\"\ndescription = \"d\"\n",
        ),
        (
            "profiles/patching.toml",
            "name = \"patching\"\ntitle = \"t\"\ndescription = \"d\"\n\
             [select]\nduties = [\"demo/patching\", \"time\"]\n",
        ),
    ]);
    let cat = load(&[d.path()], false).unwrap();
    let c = cat.check("DM-PATCH-001").unwrap();
    assert_eq!(c.pack, "demo");
    assert_eq!(cat.duty_title("patching"), "Keep it patched");
    // A profile under the pack selects only that pack's checks.
    let only = cat.profile("demo-only").unwrap();
    assert_eq!(only.select.packs, ["demo"]);
    let selected: Vec<&str> = cat
        .checks
        .iter()
        .filter(|c| only.selects(c))
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(selected, ["DM-PATCH-001"]);
    // `pack/duty` and a bare duty select across packs.
    let p = cat.profile("patching").unwrap();
    assert!(p.selects(c));
    assert!(p.selects(
        cat.check("CS-TIME-001")
            .unwrap_or_else(|| { cat.checks.iter().find(|c| c.duty == "time").unwrap() })
    ));
    assert!(!p.selects(cat.checks.iter().find(|c| c.duty == "transport").unwrap()));
    // The built-in profiles still select every CloudStack check and the new one.
    let prod = cat.profile("production").unwrap();
    assert_eq!(
        cat.checks.iter().filter(|c| prod.selects(c)).count(),
        cat.checks.len()
    );
}

#[test]
fn a_check_duty_must_belong_to_its_pack() {
    let d = tree(&[
        ("checks/demo/pack.toml", DEMO_PACK),
        (
            "checks/demo/x.toml",
            &check(
                "DM-X-001",
                "transport",
                "demo.version",
                "{ op = \"present\" }",
            ),
        ),
    ]);
    let e = load(&[d.path()], false).unwrap_err();
    assert!(e.file.ends_with("checks/demo/x.toml"), "{e}");
    assert_eq!(e.line, 1);
    assert!(
        e.message
            .contains("unknown duty \"transport\" in pack demo"),
        "{e}"
    );
}

#[test]
fn catalog_dirs_extend_a_pack_and_replace_checks() {
    let d = tree(&[
        (
            "checks/cloudstack/pack.toml",
            "[pack]\nid = \"cloudstack\"\n[[duty]]\nid = \"backups\"\ntitle = \"Backups are encrypted\"\n\
             [[duty]]\nid = \"time\"\ntitle = \"Clocks agree\"\n",
        ),
        (
            "checks/cloudstack/extra.toml",
            &check("CS-BAK-901", "backups", "cs.setting.backup.x", "{ op = \"is_true\" }"),
        ),
    ]);
    let cat = load(&[d.path()], false).unwrap();
    let cs = cat.pack("cloudstack").unwrap();
    assert_eq!(cs.duties.len(), 8);
    assert_eq!(cat.duty_title("time"), "Clocks agree");
    assert_eq!(cat.check("CS-BAK-901").unwrap().pack, "cloudstack");
    // Without the built-in checks the pack's duties are still the vocabulary.
    let cat = load(&[d.path()], true).unwrap();
    assert_eq!(cat.checks.len(), 1);
}

#[test]
fn directories_nested_deeper_than_8_are_an_error() {
    let deep = "checks/a/b/c/d/e/f/g/h/i/x.toml";
    let d = tree(&[(
        deep,
        &check(
            "X-DEEP-001",
            "time",
            "clock.synchronized",
            "{ op = \"is_true\" }",
        ),
    )]);
    let e = load(&[d.path()], true).unwrap_err();
    assert!(e.message.contains("deeper than 8"), "{e}");
    let ok = "checks/a/b/c/d/e/f/x.toml";
    let d = tree(&[(
        ok,
        &check(
            "X-DEEP-001",
            "time",
            "clock.synchronized",
            "{ op = \"is_true\" }",
        ),
    )]);
    assert_eq!(load(&[d.path()], true).unwrap().checks.len(), 1);
}

#[test]
fn detection_finds_the_packs_of_a_tree() {
    let d = tree(&[("checks/demo/pack.toml", DEMO_PACK)]);
    let cat = load(&[d.path()], true).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let fs = RootFs::new(empty.path());
    assert!(stackposture::catalog::pack::detect(&cat.packs, &fs).is_empty());
    assert_eq!(stackposture::packs_for_tree(&cat, &fs), ["cloudstack"]);
    let cs = tree(&[
        ("etc/cloudstack/management/db.properties", "x=1\n"),
        ("etc/demo/v", "1\n"),
    ]);
    let fs = RootFs::new(cs.path());
    assert_eq!(
        stackposture::catalog::pack::detect(&cat.packs, &fs),
        ["cloudstack", "demo"]
    );
}

/// Every fact key the built-in catalog reads, as exact patterns.
fn all_keys(cat: &Catalog) -> Vec<String> {
    let mut keys: Vec<String> = cat
        .checks
        .iter()
        .flat_map(|c| c.facts())
        .map(str::to_string)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn unknown_fact_keys_are_rejected_with_file_line_and_nearest_key() {
    let cat = Catalog::shared_builtin().unwrap();
    let mut owned = all_keys(cat);
    cat.validate_fact_keys(&owned).unwrap();
    // Prefix patterns cover whole namespaces.
    owned.retain(|k| !k.starts_with("cs.setting."));
    owned.push("cs.setting.".into());
    cat.validate_fact_keys(&owned).unwrap();
    // A typo in a leaf that names its own fact: the error points at that line.
    let d = tree(&[(
        "checks/typo.toml",
        &check(
            "X-TYPO-001",
            "time",
            "clock.synchronized",
            "{ op = \"all\", of = [\n  { op = \"is_true\" },\n  { fact = \"clock.synchronised\", op = \"is_true\" },\n] }",
        ),
    )]);
    let cat = load(&[d.path()], true).unwrap();
    let e = cat
        .validate_fact_keys(&["clock.synchronized", "cs.setting."])
        .unwrap_err();
    assert!(e.file.ends_with("checks/typo.toml"), "{e}");
    assert_eq!(e.line, 9, "{e}");
    assert!(e.message.contains("\"clock.synchronised\""), "{e}");
    assert!(
        e.message.contains("nearest known key: clock.synchronized"),
        "{e}"
    );
    // The check's own fact is reported at the check's `fact` line.
    let e = cat.validate_fact_keys(&["cs.setting."]).unwrap_err();
    assert_eq!(e.line, 6, "{e}");
}

#[test]
fn operands_are_parsed_and_checked_at_load() {
    for (cond, want) in [
        (
            "{ op = \"is_true\", value = 3 }",
            "condition.value`: op is_true does not take it",
        ),
        ("{ op = \"ge\", value = \"ten\" }", "op ge needs a number"),
        (
            "{ op = \"mode_at_most\", mode = \"0999\" }",
            "not an octal mode",
        ),
        (
            "{ op = \"matches\", regex = \"(\" }",
            "condition.regex`: invalid regex",
        ),
        (
            "{ op = \"all\", if_absent = \"pass\", of = [{ op = \"present\" }] }",
            "set it on the leaves",
        ),
        (
            "{ op = \"not\", of = [{ op = \"present\" }, { op = \"absent\" }] }",
            "exactly one",
        ),
        (
            "{ op = \"ge\", value = { param = \"nope\" } }",
            "unknown param \"nope\"",
        ),
        (
            "{ op = \"owner_in\", values = [true] }",
            "neither a name nor a numeric id",
        ),
    ] {
        let d = tree(&[("c.toml", &check("X-OP-001", "time", "a.b", cond))]);
        let e = load(&[d.path()], true).unwrap_err();
        assert!(e.message.contains(want), "{cond}: {e}");
        assert_eq!(e.line, 1);
    }
}

#[test]
fn profile_param_overrides_must_match_the_check() {
    let c = "[[check]]\nid = \"X-P-001\"\ntitle = \"t\"\nduty = \"time\"\nseverity = \"low\"\n\
             fact = \"a\"\ncondition = { op = \"ge\", value = { param = \"min\" } }\nparams = { min = 3 }\n\
             if_absent = \"fail\"\nrationale = \"r\"\nremediation = \"m\"\nreferences = [\"x\"]\n";
    for (over, want) in [
        ("min = \"3\"", "must be a number"),
        ("max = 3", "has no param \"max\""),
    ] {
        let d = tree(&[
            ("c.toml", c),
            (
                "profiles/p.toml",
                &format!("name = \"p\"\ntitle = \"t\"\ndescription = \"d\"\n[params.\"X-P-001\"]\n{over}\n"),
            ),
        ]);
        let e = load(&[d.path()], true).unwrap_err();
        assert!(e.message.contains(want), "{over}: {e}");
        assert_eq!(e.line, 5, "{e}");
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(common::bin()).args(args).output().unwrap()
}

#[test]
fn impossible_dates_are_rejected_everywhere() {
    let facts = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/facts.json");
    for bad in ["2026-02-30", "2026-11-28T25:61:61Z"] {
        let o = run(&["evaluate", facts, "--as-of", bad]);
        assert_eq!(o.status.code(), Some(2), "--as-of {bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("not a real date"));
    }
    let d = tree(&[(
        "w.toml",
        "[[waiver]]\ncheck = \"CS-TIME-001\"\nreason = \"r\"\nexpires = \"2099-02-30\"\n",
    )]);
    let w = d.path().join("w.toml");
    let o = run(&["evaluate", facts, "--waivers", w.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("w.toml:1: field `expires`"));
    let text = std::fs::read_to_string(facts).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["collected_at"] = "2026-02-30T10:00:00Z".into();
    let f = d.path().join("facts.json");
    std::fs::write(&f, v.to_string()).unwrap();
    let o = run(&["evaluate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("collected_at \"2026-02-30T10:00:00Z\""));
}

#[test]
fn oversized_catalog_files_are_refused() {
    let big = format!("# {}\n", "x".repeat(4 * 1024 * 1024));
    let d = tree(&[("checks/big.toml", &big)]);
    let e = load(&[d.path()], true).unwrap_err();
    assert!(
        e.file.ends_with("big.toml") && e.message.contains("larger than"),
        "{e}"
    );
}
