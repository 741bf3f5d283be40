//! Platform packs: a directory `checks/<pack>/` whose `pack.toml` names the platform, how
//! to recognise it in an audited tree and the operator duties its checks are scored
//! under:
//!
//! ```toml
//! [pack]
//! id = "cloudstack"
//! title = "Apache CloudStack"
//! # The pack applies to a tree when any of these paths exists under --root.
//! detect = ["/etc/cloudstack/management", "/usr/share/cloudstack-management"]
//! [[duty]]
//! id = "data-exposure"
//! title = "Do not share DB access, DB dumps or log files"
//! ```
//!
//! A `pack.toml` in a `--catalog` directory for a pack that already exists extends it:
//! its title and detection paths replace the old ones when given, a duty with a known id
//! gets the new title, a new duty is added.

use super::{line_of, CatalogError};
use crate::rootfs::RootFs;
use serde::{Deserialize, Serialize};

/// The pack a check file outside any pack directory belongs to (catalogs written
/// before packs existed were all CloudStack).
pub const DEFAULT_PACK: &str = "cloudstack";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pack {
    pub id: String,
    pub title: String,
    /// Host paths; the pack applies to a tree where any exists. Empty: always applies.
    pub detect: Vec<String>,
    pub duties: Vec<Duty>,
    /// The `pack.toml` it was (last) defined in.
    pub location: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackHeader {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detect: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: PackHeader,
    #[serde(default)]
    duty: Vec<toml::Spanned<Duty>>,
}

static PACK_ID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^[a-z][a-z0-9-]*$").expect("pack id pattern compiles")
});

impl Pack {
    /// The title of one of this pack's duties.
    pub fn duty(&self, id: &str) -> Option<&Duty> {
        self.duties.iter().find(|d| d.id == id)
    }

    /// Whether the pack applies to the tree at `fs` (any detection path exists).
    pub fn detected(&self, fs: &RootFs) -> bool {
        self.detect.is_empty()
            || self.detect.iter().any(|p| {
                fs.resolve(p, true)
                    .is_ok_and(|real| std::fs::symlink_metadata(real).is_ok())
            })
    }
}

/// Parses a `pack.toml` and merges it into `packs` (a new pack, or an extension of the
/// one with the same id). Returns the pack's id.
pub(super) fn merge(packs: &mut Vec<Pack>, file: &str, text: &str) -> Result<String, CatalogError> {
    let err = |line: usize, message: String| CatalogError {
        file: file.to_string(),
        line,
        message,
    };
    let pf: PackFile = toml::from_str(text).map_err(|e| {
        err(
            e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            e.message().trim().to_string(),
        )
    })?;
    let h = pf.pack;
    if !PACK_ID.is_match(&h.id) {
        return Err(err(
            line_of(text, text.find("id").unwrap_or(0)),
            format!(
                "field `pack.id`: {:?} is not a lower-case name like \"cloudstack\"",
                h.id
            ),
        ));
    }
    let i = match packs.iter().position(|p| p.id == h.id) {
        Some(i) => i,
        None => {
            let Some(title) = h.title.clone() else {
                return Err(err(
                    0,
                    format!("field `pack.title`: required for new pack {:?}", h.id),
                ));
            };
            packs.push(Pack {
                id: h.id.clone(),
                title,
                detect: Vec::new(),
                duties: Vec::new(),
                location: file.to_string(),
            });
            packs.len() - 1
        }
    };
    let pack = &mut packs[i];
    pack.location = file.to_string();
    if let Some(t) = h.title {
        pack.title = t;
    }
    if let Some(d) = h.detect {
        if let Some(bad) = d.iter().find(|p| !p.starts_with('/')) {
            return Err(err(
                0,
                format!("field `pack.detect`: {bad:?} is not an absolute path"),
            ));
        }
        pack.detect = d;
    }
    for s in pf.duty {
        let line = line_of(text, s.span().start);
        let d = s.into_inner();
        if !PACK_ID.is_match(&d.id) || d.title.trim().is_empty() {
            return Err(err(
                line,
                format!("field `duty`: {:?} needs a lower-case id and a title", d.id),
            ));
        }
        match pack.duties.iter_mut().find(|x| x.id == d.id) {
            Some(x) => x.title = d.title,
            None => pack.duties.push(d),
        }
    }
    Ok(h.id)
}

/// The packs that apply to the tree at `fs`, in catalog order.
pub fn detect<'a>(packs: &'a [Pack], fs: &RootFs) -> Vec<&'a str> {
    packs
        .iter()
        .filter(|p| p.detected(fs))
        .map(|p| p.id.as_str())
        .collect()
}
