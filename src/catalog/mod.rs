//! The check catalog, the platform packs and the profiles, as data.
//!
//! Checks live in `checks/<pack>/*.toml` (arrays of `[[check]]`) next to the pack's
//! `pack.toml` (its duties and detection, see [`pack`]), profiles in `profiles/*.toml`.
//! All are embedded in the binary at build time (see `build.rs`) and can be extended or
//! replaced with `--catalog DIR`. Loading validates everything up front, reports the
//! file, line and field of the first problem, and compiles every condition into a typed
//! expression ([`Expr`]): nothing is re-parsed while evaluating. The embedded catalog is
//! loaded once per process.
//!
//! No check can run a command: a condition is a small declarative expression over facts.

pub mod compliance;
mod expr;
pub mod history;
mod keys;
mod load;
pub mod markdown;
mod ops;
pub mod pack;
mod profile;
mod spec;
pub mod value;

pub use compliance::{Control, Controls, Framework};
pub use expr::{Absent, Expr, Leaf};
pub use keys::{covers, nearest};
pub use ops::{Env, Params, Test};
pub use pack::{Duty, Pack, DEFAULT_PACK};
pub use profile::{Profile, Selection};
pub use spec::{CheckSpec, ConditionSpec, Omitted, Op, ParamValue};
pub use value::parse_mode;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

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
        Severity::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s))
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

/// A validated check: its catalog text ([`CheckSpec`], reachable through `Deref`) and its
/// compiled conditions. Serialises as it was written.
#[derive(Debug, Clone)]
pub struct Check {
    pub spec: CheckSpec,
    /// The pack (platform) the check belongs to.
    pub pack: String,
    /// The catalog file and the line where the check starts.
    pub file: String,
    pub line: usize,
    pub condition: Expr,
    /// Applicability: when this evaluates false the check is `not_applicable`.
    pub when: Option<Expr>,
    /// The compliance controls the check implements (from the pack's `compliance.toml`):
    /// framework id -> control ids.
    pub controls: Controls,
    /// [`Check::expected`] depends only on the profile's parameter overrides for this
    /// check: the last one computed, by those overrides (a batch evaluates every file
    /// under one profile).
    pub(crate) expected_cache: std::sync::OnceLock<(Option<ParamOverrides>, String)>,
}

type ParamOverrides = std::collections::BTreeMap<String, toml::Value>;

impl std::ops::Deref for Check {
    type Target = CheckSpec;
    fn deref(&self) -> &CheckSpec {
        &self.spec
    }
}

/// A check as listed: as written, plus its compliance controls (when it has any).
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    spec: &'a CheckSpec,
    #[serde(skip_serializing_if = "Controls::is_empty")]
    controls: &'a Controls,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Listed {
            spec: &self.spec,
            controls: &self.controls,
        }
        .serialize(s)
    }
}

impl Check {
    /// Every fact key the check reads (condition, then applicability), each once.
    pub fn facts(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.condition.facts(&mut out);
        if let Some(w) = &self.when {
            w.facts(&mut out);
        }
        out
    }

    /// Every leaf of the condition and of the applicability condition.
    pub fn leaves(&self) -> impl Iterator<Item = &Leaf> {
        self.condition
            .leaves()
            .into_iter()
            .chain(self.when.iter().flat_map(Expr::leaves))
    }

    /// What the check expects, under a profile's parameters.
    pub fn expected(&self, profile: &Profile) -> String {
        let overrides = profile.params.get(&self.spec.id);
        if let Some((key, text)) = self.expected_cache.get() {
            if key.as_ref() == overrides {
                return text.clone();
            }
        }
        let text = self.describe_expected(profile);
        let _ = self.expected_cache.set((overrides.cloned(), text.clone()));
        text
    }

    fn describe_expected(&self, profile: &Profile) -> String {
        let params = self.params_under(profile);
        let cond = self.condition.describe(&params);
        match &self.when {
            Some(w) => format!("{cond} (applies when {})", w.describe(&params)),
            None => cond,
        }
    }

    /// The check's parameters with the profile's overrides.
    pub fn params_under<'a>(&'a self, profile: &'a Profile) -> Params<'a> {
        Params {
            profile,
            check_id: &self.spec.id,
            defaults: &self.spec.params,
        }
    }
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
    pub packs: Vec<Pack>,
    pub checks: Vec<Check>,
    pub omitted: Vec<Omitted>,
    pub profiles: Vec<Profile>,
    /// Settings by release, by name (`[[setting]]` entries).
    pub settings: std::collections::BTreeMap<String, std::sync::Arc<history::SettingHistory>>,
    /// The compliance frameworks and their controls (`checks/frameworks.toml`).
    pub frameworks: Vec<Framework>,
}

/// Where to load the catalog from.
#[derive(Debug, Clone, Default)]
pub struct CatalogSource {
    /// Extra directories (`--catalog DIR`): their checks add to or replace (same id)
    /// the embedded ones; likewise profiles by name and packs (duties) by id.
    pub dirs: Vec<PathBuf>,
    /// Skip the embedded checks and profiles (the embedded packs, their duties and
    /// detection, stay as the vocabulary the directories build on).
    pub no_builtin: bool,
}

impl Catalog {
    /// The embedded catalog (a copy of [`Catalog::shared_builtin`]).
    pub fn builtin() -> Result<Catalog, CatalogError> {
        load::builtin().cloned()
    }

    /// The embedded catalog, loaded and compiled once per process.
    pub fn shared_builtin() -> Result<&'static Catalog, CatalogError> {
        load::builtin()
    }

    pub fn load(src: &CatalogSource) -> Result<Catalog, CatalogError> {
        load::load(src)
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

    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// The title of a duty (the first pack defining it), or "".
    pub fn duty_title(&self, duty: &str) -> &str {
        self.packs
            .iter()
            .find_map(|p| p.duty(duty))
            .map_or("", |d| d.title.as_str())
    }

    /// Every duty id with its title, pack by pack, each id once.
    pub fn duty_titles(&self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for d in self.packs.iter().flat_map(|p| &p.duties) {
            out.entry(d.id.clone()).or_insert_with(|| d.title.clone());
        }
        out
    }

    /// Fails on the first check whose fact key no collector pattern covers (exact keys,
    /// or prefixes ending in `.`, as `collect::registry::owned_patterns()` lists them).
    pub fn validate_fact_keys<S: AsRef<str>>(&self, owned: &[S]) -> Result<(), CatalogError> {
        keys::validate(self, owned)
    }
}
