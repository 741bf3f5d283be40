//! The check catalog and the profiles, as data.
//!
//! Checks live in `checks/**/*.toml` (arrays of `[[check]]`), profiles in
//! `profiles/*.toml`. Both are embedded in the binary at build time (see `build.rs`) and
//! can be extended or replaced with `--catalog DIR`. Loading validates everything up front
//! and reports the file, line and field of the first problem in each file.
//!
//! No check can run a command: a condition is a small declarative expression over facts.

mod condition;
pub mod markdown;
mod profile;

pub use condition::{parse_mode, Condition, Op, ParamValue};
pub use profile::{Profile, Selection};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The operator duties a check is scored under (see DESIGN.md and README).
pub const DUTIES: &[(&str, &str)] = &[
    (
        "data-exposure",
        "Do not share DB access, DB dumps or log files",
    ),
    (
        "dos-bruteforce",
        "Protect against DoS and brute-force attacks",
    ),
    ("monitoring", "Provide full-fledged monitoring"),
    (
        "resource-integrity",
        "Secure OS-level access to hosts, management servers, system VMs and routers",
    ),
    (
        "extension-safety",
        "Scripts and executables added as extensions are safe",
    ),
    ("transport", "TLS on the API and between components"),
    ("time", "Clocks in sync"),
];

pub fn duty_title(id: &str) -> &'static str {
    DUTIES
        .iter()
        .find(|(d, _)| *d == id)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Weight of a check of this severity in the score.
    pub fn weight(self) -> u32 {
        match self {
            Severity::Info => 0,
            Severity::Low => 1,
            Severity::Medium => 3,
            Severity::High => 6,
            Severity::Critical => 10,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a fact that is known to be absent means for a check (or a leaf condition).
/// A fact that could not be collected (permission denied, timeout, ...) is always
/// `unknown`, whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfAbsent {
    Fail,
    Pass,
    NotApplicable,
    Unknown,
    /// Evaluate the condition against the check's documented product `default`
    /// (for settings: a missing row means the code default applies).
    Default,
}

/// A check as written in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Stable id, e.g. `CS-API-001`.
    pub id: String,
    pub title: String,
    pub duty: String,
    pub severity: Severity,
    /// The fact the condition reads (leaves may name their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// A field inside the fact's value (dotted path), e.g. `mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub condition: Condition,
    /// Applicability: when this evaluates false the check is `not_applicable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    pub if_absent: IfAbsent,
    /// The product default of the setting or file property the check reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<toml::Value>,
    /// Where/when the default changed, e.g. "true on fresh installs since 4.10 (server-setup.sql)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_note: Option<String>,
    /// Named thresholds the condition refers to with `{ param = "name" }`; profiles may override.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, toml::Value>,
    pub rationale: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Catalog file (relative) and line where the check starts; filled by the loader.
    #[serde(skip_deserializing, default)]
    pub location: String,
}

/// A catalog item that was considered and deliberately not turned into a check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Omitted {
    pub item: String,
    pub reason: String,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    #[serde(default)]
    check: Vec<toml::Spanned<Check>>,
    #[serde(default)]
    omitted: Vec<Omitted>,
}

/// A catalog loading error: file, line and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for CatalogError {}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The loaded, validated catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub checks: Vec<Check>,
    pub omitted: Vec<Omitted>,
    pub profiles: Vec<Profile>,
}

/// Where to load the catalog from.
#[derive(Debug, Clone, Default)]
pub struct CatalogSource {
    /// Extra directories (`--catalog DIR`): their checks add to or replace (same id)
    /// the embedded ones; likewise profiles by name.
    pub dirs: Vec<PathBuf>,
    /// Skip the embedded catalog entirely.
    pub no_builtin: bool,
}

impl Catalog {
    /// The embedded catalog only.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::load(&CatalogSource::default())
    }

    pub fn load(src: &CatalogSource) -> Result<Catalog, CatalogError> {
        let mut check_files: Vec<(String, String)> = Vec::new();
        let mut profile_files: Vec<(String, String)> = Vec::new();
        if !src.no_builtin {
            for (n, t) in CHECK_FILES {
                check_files.push((n.to_string(), t.to_string()));
            }
            for (n, t) in PROFILE_FILES {
                profile_files.push((n.to_string(), t.to_string()));
            }
        }
        for dir in &src.dirs {
            read_dir_files(dir, &mut check_files, &mut profile_files)?;
        }
        let mut cat = Catalog::default();
        // id -> (index, loaded from the embedded catalog)
        let mut by_id: BTreeMap<String, (usize, bool)> = BTreeMap::new();
        for (i, (name, text)) in check_files.iter().enumerate() {
            // A pack's own data (checks/<pack>/pack.toml) is not a check file.
            if name == "pack.toml" || name.ends_with("/pack.toml") {
                continue;
            }
            let builtin = !src.no_builtin && i < CHECK_FILES.len();
            let file: CheckFile = toml::from_str(text).map_err(|e| CatalogError {
                file: name.clone(),
                line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
                message: e.message().trim().to_string(),
            })?;
            for spanned in file.check {
                let line = line_of(text, spanned.span().start);
                let mut check = spanned.into_inner();
                check.location = format!("{name}:{line}");
                validate_check(&check).map_err(|m| CatalogError {
                    file: name.clone(),
                    line,
                    message: format!("check {}: {m}", check.id),
                })?;
                match by_id.get(&check.id).copied() {
                    // A check from a --catalog directory replaces an embedded one.
                    Some((j, true)) if !builtin => {
                        by_id.insert(check.id.clone(), (j, false));
                        cat.checks[j] = check;
                    }
                    Some((j, _)) => {
                        return Err(CatalogError {
                            file: name.clone(),
                            line,
                            message: format!(
                                "duplicate check id {} (first defined at {})",
                                check.id, cat.checks[j].location
                            ),
                        });
                    }
                    None => {
                        by_id.insert(check.id.clone(), (cat.checks.len(), builtin));
                        cat.checks.push(check);
                    }
                }
            }
            cat.omitted.extend(file.omitted);
        }
        cat.checks.sort_by(|a, b| a.id.cmp(&b.id));
        let ids: BTreeSet<&str> = cat.checks.iter().map(|c| c.id.as_str()).collect();
        for (name, text) in &profile_files {
            let p = Profile::parse(name, text, &ids)?;
            if let Some(i) = cat.profiles.iter().position(|q| q.name == p.name) {
                cat.profiles[i] = p;
            } else {
                cat.profiles.push(p);
            }
        }
        cat.profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cat)
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile used when none is named: the one marked `default = true`.
    pub fn default_profile(&self) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.default)
    }
}

fn read_dir_files(
    dir: &Path,
    checks: &mut Vec<(String, String)>,
    profiles: &mut Vec<(String, String)>,
) -> Result<(), CatalogError> {
    let err = |m: String| CatalogError {
        file: dir.display().to_string(),
        line: 0,
        message: m,
    };
    if !dir.is_dir() {
        return Err(err("catalog directory does not exist".into()));
    }
    let mut files = Vec::new();
    walk(dir, &mut files, 0).map_err(|e| err(e.to_string()))?;
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| CatalogError {
            file: f.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        let name = f.display().to_string();
        // A file under a `profiles` directory is a profile; anything else is checks.
        let is_profile = f
            .strip_prefix(dir)
            .ok()
            .and_then(|r| r.components().next())
            .is_some_and(|c| c.as_os_str() == "profiles")
            || dir.file_name().is_some_and(|n| n == "profiles");
        if is_profile {
            profiles.push((name, text));
        } else {
            checks.push((name, text));
        }
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 8 {
        return Ok(());
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        let p = e.path();
        if ft.is_dir() {
            walk(&p, out, depth + 1)?;
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

static ID_RE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$").unwrap());

fn validate_check(c: &Check) -> Result<(), String> {
    if !ID_RE.is_match(&c.id) {
        return Err(format!(
            "field `id`: {:?} is not of the form PREFIX-AREA-NNN",
            c.id
        ));
    }
    if !DUTIES.iter().any(|(d, _)| *d == c.duty) {
        let names: Vec<&str> = DUTIES.iter().map(|(d, _)| *d).collect();
        return Err(format!(
            "field `duty`: unknown duty {:?} (one of {})",
            c.duty,
            names.join(", ")
        ));
    }
    for (field, text) in [
        ("title", &c.title),
        ("rationale", &c.rationale),
        ("remediation", &c.remediation),
    ] {
        if text.trim().is_empty() {
            return Err(format!("field `{field}`: must not be empty"));
        }
    }
    if c.references.is_empty() {
        return Err("field `references`: at least one reference is required".into());
    }
    if c.if_absent == IfAbsent::Default && c.default.is_none() {
        return Err("field `default`: required when if_absent = \"default\"".into());
    }
    let has_fact = c.fact.is_some();
    c.condition
        .validate("condition", has_fact, &c.params)
        .map_err(|m| m.to_string())?;
    if let Some(w) = &c.when {
        w.validate("when", has_fact, &c.params)
            .map_err(|m| m.to_string())?;
    }
    Ok(())
}
