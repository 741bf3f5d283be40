//! The catalog covers the reference facts: every setting key of the §3 tables of
//! `shared/reference/cloudstack.md` (extracted into tests/data/reference-settings.txt by
//! scripts/reference-settings.sh) is read by some check, or named in an `[[omitted]]`
//! entry that says why not; docs/coverage.md lists every key and names only real checks.

mod common;

use stackposture::catalog::Catalog;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Fact prefixes under which a setting or properties key is read by name.
const KEY_PREFIXES: &[&str] = &[
    "cs.setting.",
    "cs.setting_secret.",
    "cs.setting_info.",
    "cs.domain_override.",
    "cs.account_override.",
    "props.db.",
    "props.server.",
    "secret.db.",
    "secret.server.",
];

fn reference_keys() -> Vec<String> {
    let text = include_str!("data/reference-settings.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Every key some check reads (its fact, its condition's and its `when`'s facts),
/// without the namespace prefix.
fn keys_read(cat: &Catalog) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &cat.checks {
        let mut facts: Vec<&str> = Vec::new();
        if let Some(f) = c.fact_key() {
            facts.push(f);
        }
        facts.extend(c.facts());
        for f in facts {
            for p in KEY_PREFIXES {
                if let Some(k) = f.strip_prefix(p) {
                    out.insert(k.to_string());
                }
            }
        }
    }
    out
}

/// The keys an `[[omitted]]` item names: its tokens split on spaces, commas, slashes
/// and parentheses.
fn keys_omitted(cat: &Catalog) -> BTreeSet<String> {
    cat.omitted
        .iter()
        .flat_map(|o| {
            o.item
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '/' | '(' | ')' | ';'))
                .map(|t| t.trim_matches(|c: char| c == '`' || c == '.' || c == ':'))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_reference_setting_is_checked_or_omitted_with_a_reason() {
    let cat = Catalog::builtin().expect("embedded catalog loads");
    let keys = reference_keys();
    assert!(
        keys.len() > 100,
        "reference-settings.txt looks truncated ({} keys)",
        keys.len()
    );
    let read = keys_read(&cat);
    let omitted = keys_omitted(&cat);
    let mut uncovered = Vec::new();
    let mut both = Vec::new();
    for k in &keys {
        match (read.contains(k), omitted.contains(k)) {
            (false, false) => uncovered.push(k.as_str()),
            (true, true) => both.push(k.as_str()),
            _ => {}
        }
    }
    assert!(
        uncovered.is_empty(),
        "reference settings neither read by a check nor named in an [[omitted]] entry:\n  {}",
        uncovered.join("\n  ")
    );
    // An omission that a check contradicts is stale: the check wins, drop the entry.
    assert!(
        both.is_empty(),
        "settings both read by a check and listed as omitted (remove the [[omitted]] entry):\n  {}",
        both.join("\n  ")
    );
}

#[test]
fn omitted_entries_give_a_reason_and_a_reference() {
    let cat = Catalog::builtin().unwrap();
    assert!(!cat.omitted.is_empty());
    for o in &cat.omitted {
        assert!(
            o.reason.trim().len() >= 20,
            "[[omitted]] {:?}: the reason must say why",
            o.item
        );
        assert!(
            !o.references.is_empty(),
            "[[omitted]] {:?}: cite where the item comes from",
            o.item
        );
    }
}

#[test]
fn reference_settings_file_is_current() {
    let reference = Path::new(MANIFEST).join("../shared/reference/cloudstack.md");
    // The reference lives outside the repository (the team's shared/ folder beside the
    // checkout). Without it only the drift check is skipped: the coverage assertions run
    // on the committed extract either way.
    if !reference.exists() {
        common::skip(&format!("{} not found", reference.display()));
        return;
    }
    let out = Command::new("bash")
        .arg(Path::new(MANIFEST).join("scripts/reference-settings.sh"))
        .arg(&reference)
        .arg("-")
        .output()
        .expect("run scripts/reference-settings.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = String::from_utf8(out.stdout).unwrap();
    let committed = include_str!("data/reference-settings.txt");
    assert_eq!(
        fresh, committed,
        "tests/data/reference-settings.txt is out of date: run scripts/reference-settings.sh"
    );
}

#[test]
fn coverage_doc_lists_every_key_and_only_real_checks() {
    let doc = std::fs::read_to_string(Path::new(MANIFEST).join("docs/coverage.md"))
        .expect("docs/coverage.md exists");
    let missing: Vec<String> = reference_keys()
        .into_iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/coverage.md does not list: {}",
        missing.join(", ")
    );
    let cat = Catalog::builtin().unwrap();
    let id_re = regex::Regex::new(r"\b(?:CS-[A-Z]+-[0-9]{3}|OS-[A-Z]+-[0-9]{2})\b").unwrap();
    let unknown: BTreeSet<&str> = id_re
        .find_iter(&doc)
        .map(|m| m.as_str())
        .filter(|id| cat.check(id).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/coverage.md names checks that do not exist: {unknown:?}"
    );
    let named: BTreeSet<&str> = id_re.find_iter(&doc).map(|m| m.as_str()).collect();
    let unlisted: Vec<&str> = cat
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| !named.contains(id))
        .collect();
    assert!(
        unlisted.is_empty(),
        "checks missing from docs/coverage.md: {unlisted:?}"
    );
}
