//! Compliance mapping as data: the framework catalog (`checks/frameworks.toml`: each
//! framework, where its official catalog is, and every control id a mapping may use with
//! its title) and one mapping file per pack (`checks/<pack>/compliance.toml`: check id ->
//! framework id -> control ids).
//!
//! ```toml
//! # checks/frameworks.toml
//! [[framework]]
//! id = "nist-800-53"
//! title = "NIST SP 800-53 Rev. 5"
//! source = "https://github.com/usnistgov/oscal-content/..."
//! [[framework.control]]
//! id = "IA-2(1)"
//! title = "Multi-factor Authentication to Privileged Accounts"
//!
//! # checks/cloudstack/compliance.toml
//! [CS-SET-005]
//! nist-800-53 = ["IA-2(1)", "IA-2(2)"]
//! ```
//!
//! Validated when the catalog is loaded: an unknown check, framework or control id is a
//! [`CatalogError`] with file and line. A `frameworks.toml` in a `--catalog` directory
//! adds frameworks or controls (a known control id gets the new title); a mapping entry
//! for a check replaces that check's whole mapping.

use super::{line_of, CatalogError, Check};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The file names the loader reads as framework catalog and as mappings.
pub const FRAMEWORKS_FILE: &str = "frameworks.toml";
pub const MAPPING_FILE: &str = "compliance.toml";

/// Framework id -> control ids, for one check (or one result).
pub type Controls = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub title: String,
    /// Where the official catalog of the framework is published.
    pub source: String,
    /// How the titles were verified (or why they could not be).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, rename = "control")]
    pub controls: Vec<Control>,
}

impl Framework {
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworksFile {
    #[serde(default)]
    framework: Vec<toml::Spanned<Framework>>,
}

static FW_ID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^[a-z][a-z0-9-]*$").expect("framework id pattern compiles")
});

fn parse_err(file: &str, text: &str, e: toml::de::Error) -> CatalogError {
    CatalogError {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
        message: e.message().trim().to_string(),
    }
}

/// Parses a `frameworks.toml` and merges it into `frameworks`.
pub(super) fn merge_frameworks(
    frameworks: &mut Vec<Framework>,
    file: &str,
    text: &str,
) -> Result<(), CatalogError> {
    let parsed: FrameworksFile = toml::from_str(text).map_err(|e| parse_err(file, text, e))?;
    for s in parsed.framework {
        let line = line_of(text, s.span().start);
        let f = s.into_inner();
        let err = |m: String| CatalogError {
            file: file.to_string(),
            line,
            message: format!("framework {:?}: {m}", f.id),
        };
        if !FW_ID.is_match(&f.id) {
            return Err(err("the id is not a lower-case name like \"cis-v8\"".into()));
        }
        if f.title.trim().is_empty() || !f.source.starts_with("https://") {
            return Err(err("needs a title and an https:// source".into()));
        }
        if let Some(c) = f
            .controls
            .iter()
            .find(|c| c.id.trim().is_empty() || c.title.trim().is_empty())
        {
            return Err(err(format!("control {:?} needs an id and a title", c.id)));
        }
        match frameworks.iter_mut().find(|x| x.id == f.id) {
            None => frameworks.push(f),
            Some(x) => {
                x.title = f.title;
                x.source = f.source;
                if !f.note.is_empty() {
                    x.note = f.note;
                }
                for c in f.controls {
                    match x.controls.iter_mut().find(|y| y.id == c.id) {
                        Some(y) => y.title = c.title,
                        None => x.controls.push(c),
                    }
                }
            }
        }
    }
    Ok(())
}

/// One mapping file, parsed: check id -> (line, controls).
pub(super) type Mapping = BTreeMap<String, (String, usize, Controls)>;

/// Parses a `compliance.toml` of `pack` into `mapping` (an entry replaces an earlier one
/// for the same check), validating framework and control ids against `frameworks`.
pub(super) fn merge_mapping(
    mapping: &mut Mapping,
    frameworks: &[Framework],
    file: &str,
    text: &str,
) -> Result<(), CatalogError> {
    let parsed: BTreeMap<String, toml::Spanned<Controls>> =
        toml::from_str(text).map_err(|e| parse_err(file, text, e))?;
    for (check, s) in parsed {
        let line = line_of(text, s.span().start);
        let err = |m: String| CatalogError {
            file: file.to_string(),
            line,
            message: format!("compliance of check {check}: {m}"),
        };
        let mut controls = s.into_inner();
        for (fw, ids) in controls.iter_mut() {
            let Some(f) = frameworks.iter().find(|f| &f.id == fw) else {
                let names: Vec<&str> = frameworks.iter().map(|f| f.id.as_str()).collect();
                return Err(err(format!(
                    "unknown framework {fw:?} (one of {})",
                    names.join(", ")
                )));
            };
            if let Some(bad) = ids.iter().find(|id| f.control(id).is_none()) {
                return Err(err(format!(
                    "control {bad:?} is not in the {fw} catalog (checks/{FRAMEWORKS_FILE})"
                )));
            }
            // Catalog order, each once.
            let mut ordered: Vec<String> = f
                .controls
                .iter()
                .filter(|c| ids.contains(&c.id))
                .map(|c| c.id.clone())
                .collect();
            ordered.dedup();
            *ids = ordered;
        }
        controls.retain(|_, ids| !ids.is_empty());
        mapping.insert(check, (file.to_string(), line, controls));
    }
    Ok(())
}

/// Attaches the mapping to the checks; a mapped check id that does not exist, or that
/// belongs to another pack than the mapping file's, is an error.
pub(super) fn apply(
    checks: &mut [Check],
    mapping: &Mapping,
    pack_of_file: &BTreeMap<String, String>,
) -> Result<(), CatalogError> {
    for (id, (file, line, _)) in mapping {
        let err = |m: String| CatalogError {
            file: file.clone(),
            line: *line,
            message: format!("compliance of check {id}: {m}"),
        };
        let Some(c) = checks.iter().find(|c| &c.spec.id == id) else {
            return Err(err("no such check".into()));
        };
        if let Some(p) = pack_of_file.get(file).filter(|p| **p != c.pack) {
            return Err(err(format!(
                "the check is in pack {}, the mapping file in pack {p}",
                c.pack
            )));
        }
    }
    for c in checks.iter_mut() {
        c.controls = mapping
            .get(&c.spec.id)
            .map(|(_, _, m)| m.clone())
            .unwrap_or_default();
    }
    Ok(())
}

/// `--framework` names: each must be a known framework id (case-insensitive); returns
/// them in catalog order, each once, or an error naming the valid ones.
pub fn select(frameworks: &[Framework], names: &[String]) -> Result<Vec<String>, String> {
    for n in names {
        if !frameworks
            .iter()
            .any(|f| f.id.eq_ignore_ascii_case(n.trim()))
        {
            let valid: Vec<&str> = frameworks.iter().map(|f| f.id.as_str()).collect();
            return Err(format!("no framework {n:?} (valid: {})", valid.join(", ")));
        }
    }
    Ok(frameworks
        .iter()
        .filter(|f| names.iter().any(|n| f.id.eq_ignore_ascii_case(n.trim())))
        .map(|f| f.id.clone())
        .collect())
}
