//! Known vulnerabilities: the installed CloudStack version against the advisory table
//! shipped in `checks/cloudstack/advisories.tsv` (embedded at build time).
//!
//! The matching runs when facts are collected and its result is a fact, so checks stay
//! declarative (`op = "empty"` on the matched lists). The version comes from the
//! database (`cs.version`, the DB collector) when that fact has a value, else from the
//! package metadata under `--root` (`pkg.dpkg.cloudstack-management`, then the version in
//! the management jar's file name, `pkg.jar.cloudstack-management`).
//!
//! Facts: `vuln.cloudstack.version` `{version, source}`; `vuln.cloudstack.matched_high`
//! (critical, important or unrated), `vuln.cloudstack.matched_other` (moderate, low),
//! `vuln.cloudstack.matched_unfixed` (no fixed release named): lists of
//! `"CVE-… (<severity>; fixed in <release for this line>)"`; `vuln.cloudstack.upgrade_to`.

use crate::facts::{Fact, Facts, MissingReason};
use serde_json::{json, Value};
use std::cmp::Ordering;

/// The advisory table, as shipped.
pub const ADVISORIES_TSV: &str = include_str!("../checks/cloudstack/advisories.tsv");

/// A CloudStack version: 4.19.1.3, or the coming three-part scheme (24.0.0). Missing
/// trailing parts compare as 0.
#[derive(Debug, Clone)]
pub struct Version(pub Vec<u64>);

impl PartialEq for Version {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Version {}

impl Version {
    /// Parses the leading `N(.N)*` of a version string (`4.19.1.3-SNAPSHOT`,
    /// `4.19.1.3~focal`, `1:4.20.0.0-1` with a dpkg epoch). At least two parts.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = match s.split_once(':') {
            Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => s,
        };
        let head: String = s
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let parts: Vec<u64> = head
            .trim_end_matches('.')
            .split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        if parts.len() < 2 || parts.len() > 6 {
            return None;
        }
        Some(Version(parts))
    }
    fn part(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }
    /// The release line: `4.19` for the 4.x scheme, `24` from the three-part scheme on.
    pub fn line(&self) -> String {
        if self.part(0) >= 24 {
            self.part(0).to_string()
        } else {
            format!("{}.{}", self.part(0), self.part(1))
        }
    }
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        let n = self.0.len().max(o.0.len());
        (0..n)
            .map(|i| self.part(i).cmp(&o.part(i)))
            .find(|c| *c != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&s.join("."))
    }
}

/// One affected range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Version>,
    pub to: Option<Version>,
    /// `to` itself is affected.
    pub to_inclusive: bool,
}

impl Range {
    pub fn parse(s: &str) -> Option<Range> {
        let s = s.trim();
        let v = |x: &str| Version::parse(x);
        if let Some(rest) = s.strip_suffix('+') {
            return Some(Range {
                from: Some(v(rest)?),
                to: None,
                to_inclusive: false,
            });
        }
        if let Some(rest) = s.strip_prefix('<') {
            return Some(Range {
                from: None,
                to: Some(v(rest)?),
                to_inclusive: false,
            });
        }
        if let Some((a, b)) = s.split_once('<') {
            return Some(Range {
                from: Some(v(a)?),
                to: Some(v(b)?),
                to_inclusive: false,
            });
        }
        if let Some((a, b)) = s.split_once('-') {
            return Some(Range {
                from: Some(v(a)?),
                to: Some(v(b)?),
                to_inclusive: true,
            });
        }
        let one = v(s)?;
        Some(Range {
            from: Some(one.clone()),
            to: Some(one),
            to_inclusive: true,
        })
    }
    pub fn contains(&self, x: &Version) -> bool {
        if self.from.as_ref().is_some_and(|f| x < f) {
            return false;
        }
        match &self.to {
            None => true,
            Some(t) if self.to_inclusive => x <= t,
            Some(t) => x < t,
        }
    }
}

/// One advisory row.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub cve: String,
    pub severity: String,
    pub affected: Vec<Range>,
    pub fixed_in: Vec<Version>,
    pub note: String,
    /// The advisory's workaround as data: API names to deny to every non-admin role
    /// (column 6, `deny-non-admin:api1,api2`); empty when there is none.
    pub deny_non_admin: Vec<String>,
}

impl Advisory {
    /// Critical, important, or no project rating (judged as serious until rated).
    pub fn is_high(&self) -> bool {
        matches!(self.severity.as_str(), "critical" | "important" | "unrated")
    }
    pub fn affects(&self, v: &Version) -> bool {
        self.affected.iter().any(|r| r.contains(v))
    }
    /// The fixed release named for `v`'s line, if any.
    pub fn fix_for(&self, v: &Version) -> Option<&Version> {
        self.fixed_in
            .iter()
            .find(|f| f.line() == v.line() && *f > v)
    }
}

/// Parses the advisory table; errors name the line.
pub fn parse_table(text: &str) -> Result<Vec<Advisory>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            return Err(format!(
                "advisories line {}: expected 4 to 6 tab-separated columns",
                n + 1
            ));
        }
        let sev = f[1].trim();
        if !["low", "moderate", "important", "critical", "unrated"].contains(&sev) {
            return Err(format!(
                "advisories line {}: unknown severity {sev:?}",
                n + 1
            ));
        }
        let affected = f[2]
            .split(';')
            .map(|r| {
                Range::parse(r).ok_or_else(|| format!("advisories line {}: bad range {r:?}", n + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fixed_in = if f[3].trim() == "none" {
            Vec::new()
        } else {
            f[3].split(',')
                .map(|x| {
                    Version::parse(x)
                        .ok_or_else(|| format!("advisories line {}: bad version {x:?}", n + 1))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        out.push(Advisory {
            cve: f[0].trim().to_string(),
            severity: sev.to_string(),
            affected,
            fixed_in,
            note: f.get(4).map(|s| s.trim().to_string()).unwrap_or_default(),
            deny_non_admin: match f.get(5).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Vec::new(),
                Some(w) => w
                    .strip_prefix("deny-non-admin:")
                    .ok_or_else(|| format!("advisories line {}: unknown workaround {w:?}", n + 1))?
                    .split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect(),
            },
        });
    }
    Ok(out)
}

/// The shipped table (validated by a unit test, so this cannot fail in a release build).
pub fn builtin() -> Vec<Advisory> {
    parse_table(ADVISORIES_TSV).unwrap_or_default()
}

/// Every API an advisory workaround denies to non-admin roles (what the DB collector
/// looks up in the role permissions).
pub fn workaround_apis() -> Vec<String> {
    let mut v: Vec<String> = builtin()
        .into_iter()
        .flat_map(|a| a.deny_non_admin)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// What applies to one version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    pub high: Vec<String>,
    pub other: Vec<String>,
    pub unfixed: Vec<String>,
    /// The lowest release on the version's own line that fixes every matched CVE with a
    /// fix, or a note that the line has none.
    pub upgrade_to: Option<String>,
}

pub fn match_version(table: &[Advisory], v: &Version) -> Matched {
    let mut m = Matched::default();
    let mut line_fix: Option<Version> = None;
    let mut off_line: Vec<&Version> = Vec::new();
    for a in table.iter().filter(|a| a.affects(v)) {
        if a.fixed_in.is_empty() {
            m.unfixed.push(format!(
                "{} ({}; no fixed release named)",
                a.cve, a.severity
            ));
            continue;
        }
        let text = match a.fix_for(v) {
            Some(f) => {
                if line_fix.as_ref().is_none_or(|l| f > l) {
                    line_fix = Some(f.clone());
                }
                format!("{} ({}; fixed in {f})", a.cve, a.severity)
            }
            None => {
                let newest = a.fixed_in.iter().max().expect("non-empty");
                off_line.push(newest);
                let all: Vec<String> = a.fixed_in.iter().map(Version::to_string).collect();
                format!(
                    "{} ({}; no fix on the {} line; fixed in {})",
                    a.cve,
                    a.severity,
                    v.line(),
                    all.join(", ")
                )
            }
        };
        if a.is_high() {
            m.high.push(text);
        } else {
            m.other.push(text);
        }
    }
    m.upgrade_to = match (line_fix, off_line.iter().max()) {
        (Some(f), None) => Some(f.to_string()),
        (lf, Some(o)) => Some(format!(
            "no {} release fixes every advisory{}; move to a line with fixes (e.g. {o} or later)",
            v.line(),
            lf.map(|f| format!(" ({f} fixes those with a fix on this line)"))
                .unwrap_or_default()
        )),
        (None, None) => None,
    };
    m
}

/// The installed version and where it came from: `cs.version` (DB) first, then dpkg, then
/// the management jar's name.
pub fn installed_version(facts: &Facts) -> Option<(Version, String)> {
    for (key, field) in [
        ("cs.version", None),
        ("pkg.dpkg.cloudstack-management", Some("version")),
        ("pkg.jar.cloudstack-management", Some("version")),
    ] {
        let Some(f) = facts.facts.get(key) else {
            continue;
        };
        let Some(v) = &f.value else { continue };
        let s = match (v, field) {
            (Value::String(s), _) => Some(s.as_str()),
            (Value::Object(o), Some(fl)) => o.get(fl).and_then(Value::as_str),
            (Value::Object(o), None) => o.get("version").and_then(Value::as_str),
            _ => None,
        };
        if let Some(ver) = s.and_then(Version::parse) {
            return Some((ver, key.to_string()));
        }
    }
    None
}

/// Records the `vuln.cloudstack.*` facts. Run after every collector that may provide the
/// version (the DB collector's `cs.version`, the package collector).
pub fn annotate(facts: &mut Facts) {
    let table = builtin();
    let Some((v, from)) = installed_version(facts) else {
        facts.namespace_missing(
            "vuln.cloudstack.",
            "vuln",
            MissingReason::NotCollected,
            "installed CloudStack version unknown: no cs.version from the database, no cloudstack-management in dpkg status, no cloudstack-<version>.jar under --root",
        );
        return;
    };
    let src = format!("vuln:advisories.tsv+{from}");
    let mut m = match_version(&table, &v);
    let mitigated = mitigate(&table, &v, facts, &mut m.unfixed);
    facts.set(
        "vuln.cloudstack.version",
        &src,
        json!({"version": v.to_string(), "source": from, "line": v.line(), "advisories": table.len()}),
    );
    facts.set("vuln.cloudstack.matched_high", &src, json!(m.high));
    facts.set("vuln.cloudstack.matched_other", &src, json!(m.other));
    facts.set("vuln.cloudstack.matched_unfixed", &src, json!(m.unfixed));
    facts.set("vuln.cloudstack.mitigated", &src, json!(mitigated));
    match m.upgrade_to {
        Some(u) => facts.set("vuln.cloudstack.upgrade_to", &src, u),
        None => facts.insert(
            "vuln.cloudstack.upgrade_to",
            Fact::absent(&src, "no advisory with a fixed release applies"),
        ),
    }
}

/// Moves the advisories without a fixed release whose workaround is in force out of
/// `unfixed`: every API it names is denied to every non-admin role
/// (`cs.api_access.denied_to_non_admin`, from the role permissions) and the dynamic role
/// checker that enforces role permissions is on (`dynamic.apichecker.enabled`; a fresh
/// install sets it true, reference §3.1). Returns the mitigated entries.
fn mitigate(
    table: &[Advisory],
    v: &Version,
    facts: &Facts,
    unfixed: &mut Vec<String>,
) -> Vec<String> {
    let value = |k: &str| facts.facts.get(k).and_then(|f| f.value.as_ref());
    let dynamic_checker = value("cs.setting.dynamic.apichecker.enabled")
        .and_then(Value::as_str)
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"));
    let denied = value("cs.api_access.denied_to_non_admin");
    let mut out = Vec::new();
    if !dynamic_checker {
        return out;
    }
    for a in table
        .iter()
        .filter(|a| a.affects(v) && a.fixed_in.is_empty())
    {
        let applied = !a.deny_non_admin.is_empty()
            && a.deny_non_admin
                .iter()
                .all(|api| denied.and_then(|d| d.get(api)).and_then(Value::as_bool) == Some(true));
        if applied {
            let prefix = format!("{} (", a.cve);
            unfixed.retain(|u| !u.starts_with(&prefix));
            out.push(format!(
                "{} ({}; workaround in force: {} denied to every non-admin role)",
                a.cve,
                a.severity,
                a.deny_non_admin.join(", ")
            ));
        }
    }
    out
}
