//! The tables of the listing commands (`checks list`, `profiles list|show`,
//! `privileges`): what the catalog holds and what the auditing user cannot read.

use crate::catalog::{Catalog, Check, Profile};
use crate::privileges::Denied;
use comfy_table::{presets, Table};

fn table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_header(header);
    t
}

/// `checks list`: one row per check, at its severity under `profile` when given.
pub fn checks(checks: &[&Check], profile: Option<&Profile>) -> String {
    let mut t = table(vec!["Check", "Severity", "Duty", "Title"]);
    for c in checks {
        let sev = profile.map_or(c.severity, |p| p.severity_of(c));
        t.add_row(vec![
            c.id.as_str(),
            sev.as_str(),
            c.duty.as_str(),
            c.title.as_str(),
        ]);
    }
    format!("{t}\n{} checks\n", checks.len())
}

/// How many of the catalog's checks a profile selects.
pub fn selected(cat: &Catalog, p: &Profile) -> usize {
    cat.checks.iter().filter(|c| p.selects(c)).count()
}

/// `profiles list`.
pub fn profiles(cat: &Catalog) -> String {
    let mut t = table(vec!["Profile", "Checks", "Pass mark", "Fail on", "Title"]);
    for p in &cat.profiles {
        let name = if p.default {
            format!("{} (default)", p.name)
        } else {
            p.name.clone()
        };
        t.add_row(vec![
            name,
            selected(cat, p).to_string(),
            p.pass_mark.to_string(),
            p.fail_on.to_string(),
            p.title.clone(),
        ]);
    }
    format!("{t}\n")
}

/// `profiles show NAME`: the profile as TOML, headed by where it is defined.
pub fn profile(cat: &Catalog, p: &Profile) -> Result<String, toml::ser::Error> {
    let text = toml::to_string_pretty(p)?;
    Ok(format!(
        "# {} ({} checks)\n{text}",
        p.location,
        selected(cat, p)
    ))
}

/// `checks show ID`: the check as written, headed by where it is defined.
pub fn check(c: &Check) -> Result<String, toml::ser::Error> {
    Ok(format!("# {}\n{}", c.location, toml::to_string_pretty(c)?))
}

/// `privileges`: the facts `user` cannot read and the grant that fixes each.
pub fn denied(user: &str, denied: &[Denied]) -> String {
    if denied.is_empty() {
        return format!("{user} can read every fact the collectors look for.\n");
    }
    let mut t = table(vec!["Fact (or prefix*)", "Why and the grant that fixes it"]);
    for d in denied {
        let k = if d.key.ends_with('.') {
            format!("{}*", d.key)
        } else {
            d.key.clone()
        };
        t.add_row(vec![k, d.detail.clone()]);
    }
    format!(
        "{t}\n{} fact(s) or prefixes unreadable as {user}; checks on them come out unknown.\n",
        denied.len()
    )
}
