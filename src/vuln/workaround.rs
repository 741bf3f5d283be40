//! Advisories whose documented workaround is in force, read from the facts: a global
//! setting (`cs.setting.<name>`, the effective value the DB collector or a settings export
//! records), or APIs denied to every non-admin role (`cs.api_access.denied_to_non_admin`,
//! from the role permissions) with the dynamic role checker on
//! (`dynamic.apichecker.enabled`; role permissions are enforced only by
//! `plugins/acl/dynamic-role-based/.../DynamicRoleBasedAPIAccessChecker.java`).

use super::{Advisory, Version, Workaround};
use crate::facts::Facts;
use serde_json::Value;

/// Evidence that one workaround is in force, or `None`.
fn in_force(w: &Workaround, facts: &Facts) -> Option<String> {
    let value = |k: &str| facts.facts.get(k).and_then(|f| f.value.clone());
    if let Some(name) = &w.setting {
        let key = format!("cs.setting.{name}");
        let f = facts.facts.get(&key)?;
        let v = f.value.as_ref()?.as_str()?.trim().to_string();
        if let Some(want) = &w.equals {
            return v
                .eq_ignore_ascii_case(want.trim())
                .then(|| format!("{name} = {v} ({key}, {})", f.source));
        }
        if let Some(item) = &w.has_item {
            return v
                .split(',')
                .any(|x| x.trim().eq_ignore_ascii_case(item.trim()))
                .then(|| format!("{name} = {v:?} lists {item} ({key}, {})", f.source));
        }
        return None;
    }
    let apis = w.deny_non_admin.as_ref()?;
    let dynamic = value("cs.setting.dynamic.apichecker.enabled")
        .and_then(|v| v.as_str().map(|s| s.trim().eq_ignore_ascii_case("true")))
        .unwrap_or(false);
    let denied = value("cs.api_access.denied_to_non_admin")?;
    let all = apis
        .iter()
        .all(|api| denied.get(api).and_then(Value::as_bool) == Some(true));
    (dynamic && all).then(|| {
        format!(
            "{} denied to every non-admin role (cs.api_access.denied_to_non_admin), dynamic.apichecker.enabled = true",
            apis.join(", ")
        )
    })
}

/// Splits the advisories that affect `v` into those whose workaround is in force (as
/// report lines with the evidence) and every other advisory (affecting or not).
pub fn split(table: &[Advisory], v: &Version, facts: &Facts) -> (Vec<String>, Vec<Advisory>) {
    let mut mitigated = Vec::new();
    let mut open = Vec::new();
    for a in table {
        let hit = a
            .affects(v)
            .then(|| a.workarounds.iter().find_map(|w| in_force(w, facts)))
            .flatten();
        match hit {
            Some(ev) => mitigated.push(format!(
                "{} ({}; workaround in force: {ev})",
                a.cve, a.severity
            )),
            None => open.push(a.clone()),
        }
    }
    (mitigated, open)
}
