//! Settings by release: when each CloudStack setting the catalog reads appeared, and its
//! default in each release where that changed. Data, in the pack (`[[setting]]` entries,
//! `checks/cloudstack/setting-history.toml`), validated at load.
//!
//! ```toml
//! [[setting]]
//! name = "api.sessionkey.cookie.samesite"
//! since = ["4.18.2.4", "4.19.2.0", "4.20.0.0"]   # first release on each line that has it
//! [[setting]]
//! name = "integration.api.port"
//! defaults = [{ from = "4.11.0.0", value = "0" }, { from = "4.12.0.0", value = "8096" }]
//! ```
//!
//! A release has a setting when it is at least the `since` entry of its own line, or at
//! least the last entry (every later line has it). No `since`: every release considered
//! (4.10 on) has it. The default of a release is the `defaults` entry with the greatest
//! `from` not above it; no `defaults`: the check's own `default` in every release.

use crate::facts::Facts;
use crate::vuln::version::Version;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A `[[setting]]` entry as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    pub name: String,
    /// The first release of each line that has the setting, oldest line first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub since: Vec<String>,
    /// The default from each release on where it changed, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<DefaultSpec>,
    /// The setting's name in the releases before `since` (a rename, not a new setting):
    /// there a check reads that name instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSpec {
    pub from: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A validated `[[setting]]` entry.
#[derive(Debug, Clone)]
pub struct SettingHistory {
    pub spec: SettingSpec,
    since: ReleaseSet,
    defaults: Vec<(Version, String)>,
}

fn version(s: &str, what: &str) -> Result<Version, String> {
    Version::parse(s)
        .filter(|v| v.to_string() == s.trim())
        .ok_or_else(|| format!("{what}: {s:?} is not a release such as 4.18.0.0"))
}

/// Releases from a first release on each line, written one per line, oldest first
/// (`["4.18.2.4", "4.19.2.0", "4.20.0.0"]`): a release is in the set when it is at least
/// the entry of its own line, or at least the last entry (every later line is). A line
/// between two entries that has none (4.12 in `["4.11.0.0", "4.20.0.0"]`) is not in the
/// set. Used by `since` and by the `release_at_least` op.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSet(Vec<Version>);

impl ReleaseSet {
    /// Parses and validates the list; `what` names the field in errors.
    pub fn parse<S: AsRef<str>>(list: &[S], what: &str) -> Result<ReleaseSet, String> {
        let v = list
            .iter()
            .map(|s| version(s.as_ref(), what))
            .collect::<Result<Vec<_>, _>>()?;
        for w in v.windows(2) {
            if w[0] >= w[1] || w[0].line() == w[1].line() {
                return Err(format!(
                    "{what} must list one release per line, oldest first ({} then {})",
                    w[0], w[1]
                ));
            }
        }
        Ok(ReleaseSet(v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether release `r` is in the set (every release when the set is empty).
    pub fn contains(&self, r: &Version) -> bool {
        let Some(last) = self.0.last() else {
            return true;
        };
        r >= last || self.0.iter().any(|s| s.line() == r.line() && r >= s)
    }

    /// "4.18.0.0", or "4.18.2.4 (on 4.18), 4.19.2.0 (on 4.19), 4.20.0.0".
    pub fn text(&self) -> String {
        let n = self.0.len();
        let parts: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i + 1 < n {
                    format!("{v} (on {})", v.line())
                } else {
                    v.to_string()
                }
            })
            .collect();
        parts.join(", ")
    }
}

impl SettingHistory {
    /// Validates an entry: a name, releases that parse, `since` one entry per line in
    /// ascending order, `defaults` in ascending order without repeats.
    pub fn compile(spec: SettingSpec) -> Result<SettingHistory, String> {
        if spec.name.trim().is_empty() || spec.name.contains(char::is_whitespace) {
            return Err(format!(
                "setting name {:?} is not a setting name",
                spec.name
            ));
        }
        if let Some(old) = &spec.renamed_from {
            if old.trim().is_empty() || old.contains(char::is_whitespace) || *old == spec.name {
                return Err(format!(
                    "setting {}: `renamed_from` {old:?} is not another setting name",
                    spec.name
                ));
            }
            if spec.since.is_empty() {
                return Err(format!(
                    "setting {}: `renamed_from` needs `since` (the release of the rename)",
                    spec.name
                ));
            }
        }
        if spec.since.is_empty() && spec.defaults.is_empty() {
            return Err(format!(
                "setting {}: give `since` or `defaults` (an entry with neither says nothing)",
                spec.name
            ));
        }
        let since = ReleaseSet::parse(&spec.since, "field `since`")
            .map_err(|e| format!("setting {}: {e}", spec.name))?;
        let mut defaults = Vec::new();
        for d in &spec.defaults {
            let v = version(&d.from, "field `defaults.from`")?;
            if defaults
                .last()
                .is_some_and(|(p, _): &(Version, String)| *p >= v)
            {
                return Err(format!(
                    "setting {}: `defaults` must be in ascending release order ({} is not after the one before)",
                    spec.name, d.from
                ));
            }
            defaults.push((v, d.value.clone()));
        }
        Ok(SettingHistory {
            spec,
            since,
            defaults,
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The fact `key` (on this setting) under the setting's former name, if it was renamed.
    pub fn former_key(&self, key: &str) -> Option<String> {
        let old = self.spec.renamed_from.as_deref()?;
        let prefix = key.strip_suffix(self.spec.name.as_str())?;
        Some(format!("{prefix}{old}"))
    }

    /// Whether release `r` has the setting.
    pub fn present_in(&self, r: &Version) -> bool {
        self.since.contains(r)
    }

    /// "4.18.0.0", or "4.18.2.4 (on 4.18), 4.19.2.0 (on 4.19), 4.20.0.0" for backports.
    pub fn since_text(&self) -> String {
        self.since.text()
    }

    /// Whether the entry records default changes.
    pub fn has_defaults(&self) -> bool {
        !self.defaults.is_empty()
    }

    /// The newest recorded default.
    pub fn latest_default(&self) -> Option<&str> {
        self.defaults.last().map(|(_, d)| d.as_str())
    }

    /// The default in release `r`: `Err` when `r` is older than every recorded entry.
    pub fn default_in(&self, r: &Version) -> Result<(&Version, &str), String> {
        self.defaults
            .iter()
            .rev()
            .find(|(from, _)| from <= r)
            .map(|(v, d)| (v, d.as_str()))
            .ok_or_else(|| {
                format!(
                    "the default of {} before {} is not recorded",
                    self.spec.name,
                    self.defaults
                        .first()
                        .map_or(String::new(), |d| d.0.to_string())
                )
            })
    }

    /// Whether every recorded default is `d` (then the release does not matter).
    pub fn default_never_changed_from(&self, d: &str) -> bool {
        self.defaults.iter().all(|(_, x)| x == d)
    }
}

/// The setting a fact key is about: `cs.setting.<name>`, `cs.setting_info.<name>`,
/// `cs.setting_secret.<name>`, `cs.domain_override.<name>`, `cs.account_override.<name>`.
pub fn setting_of(key: &str) -> Option<&str> {
    const PREFIXES: [&str; 5] = [
        "cs.setting.",
        "cs.setting_info.",
        "cs.setting_secret.",
        "cs.domain_override.",
        "cs.account_override.",
    ];
    PREFIXES
        .iter()
        .find_map(|p| key.strip_prefix(p))
        .filter(|n| !n.is_empty())
}

/// The installed CloudStack release as the facts record it: the `cloud` database's
/// `version` table (`cs.version`), else the lowest version the packages and the jar
/// record (`vuln.cloudstack.version`). `Err` says why it is unknown.
pub fn installed_release(facts: &Facts) -> Result<(Version, String), String> {
    let mut why = Vec::new();
    for (key, field) in [
        ("cs.version", None),
        ("vuln.cloudstack.version", Some("version")),
    ] {
        match facts.get(key) {
            Some(f) => {
                let v = match (&f.value, field) {
                    (Some(v), Some(fl)) => v.get(fl).cloned(),
                    (Some(v), None) => Some(v.clone()),
                    _ => None,
                };
                match v.as_ref().and_then(Value::as_str) {
                    Some(s) => match Version::parse(s) {
                        Some(ver) => return Ok((ver, key.to_string())),
                        None => why.push(format!("{key}: {s:?} is not a release")),
                    },
                    None => why.push(match &f.missing {
                        Some(m) => format!("{key}: {m}"),
                        None => format!("{key}: no version"),
                    }),
                }
            }
            None => why.push(format!("{key}: not collected")),
        }
    }
    Err(why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(since: &[&str], defaults: &[(&str, &str)]) -> Result<SettingHistory, String> {
        SettingHistory::compile(SettingSpec {
            name: "x.y".into(),
            since: since.iter().map(|s| s.to_string()).collect(),
            defaults: defaults
                .iter()
                .map(|(f, v)| DefaultSpec {
                    from: f.to_string(),
                    value: v.to_string(),
                    note: None,
                })
                .collect(),
            renamed_from: None,
            note: None,
            references: vec![],
        })
    }
    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn presence_by_line_with_backports() {
        let s = h(&["4.18.2.4", "4.19.2.0", "4.20.0.0"], &[]).unwrap();
        for (r, has) in [
            ("4.11.3", false),
            ("4.18.2.3", false),
            ("4.18.2.4", true),
            ("4.19.1.0", false),
            ("4.19.2.0", true),
            ("4.20.0.0", true),
            ("4.22.0.0", true),
        ] {
            assert_eq!(s.present_in(&v(r)), has, "{r}");
        }
        assert_eq!(
            s.since_text(),
            "4.18.2.4 (on 4.18), 4.19.2.0 (on 4.19), 4.20.0.0"
        );
    }

    #[test]
    fn a_release_set_leaves_out_lines_without_an_entry() {
        let s = ReleaseSet::parse(&["4.11.0.0", "4.18.2.1", "4.19.0.2", "4.20.0.0"], "t").unwrap();
        for (r, inside) in [
            ("4.10.0.0", false),
            ("4.11.0.0", true),
            ("4.11.3", true),
            ("4.12.0.0", false),
            ("4.17.2.0", false),
            ("4.18.2.0", false),
            ("4.18.2.1", true),
            ("4.19.0.1", false),
            ("4.19.0.2", true),
            ("4.19.1", true),
            ("4.20.0.0", true),
            ("24.0.0", true),
        ] {
            assert_eq!(s.contains(&v(r)), inside, "{r}");
        }
        assert!(ReleaseSet::parse(&["4.19.1.0", "4.19.2.0"], "t").is_err());
        assert!(ReleaseSet::parse(&["4.19.x"], "t").is_err());
        assert!(ReleaseSet::parse(&["4.19.1"], "t")
            .unwrap()
            .contains(&v("4.19.1.0")));
    }

    #[test]
    fn default_by_release() {
        let s = h(
            &[],
            &[("4.11.0.0", "0"), ("4.12.0.0", "8096"), ("4.13.0.0", "0")],
        )
        .unwrap();
        assert_eq!(s.default_in(&v("4.11.3")).unwrap().1, "0");
        assert_eq!(s.default_in(&v("4.12.0.0")).unwrap().1, "8096");
        assert_eq!(s.default_in(&v("4.21.0.0")).unwrap().1, "0");
        assert!(s.default_in(&v("4.10.0.0")).is_err());
    }

    #[test]
    fn invalid_entries_are_refused() {
        assert!(h(&[], &[]).is_err());
        assert!(h(&["4.20.0.0", "4.19.2.0"], &[]).is_err());
        assert!(h(&["4.19.1.0", "4.19.2.0"], &[]).is_err());
        assert!(h(&["4.x"], &[]).is_err());
        assert!(h(&[], &[("4.13.0.0", "0"), ("4.12.0.0", "1")]).is_err());
    }

    #[test]
    fn setting_keys() {
        assert_eq!(setting_of("cs.setting.a.b"), Some("a.b"));
        assert_eq!(
            setting_of("cs.domain_override.enable.user.2fa"),
            Some("enable.user.2fa")
        );
        assert_eq!(setting_of("cs.version"), None);
    }
}
