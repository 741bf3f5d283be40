//! The advisory feed: pack data in `checks/<pack>/advisories.toml` (format:
//! `docs/advisories.md`), embedded at build time, replaced or extended by files given with
//! `--advisories FILE` or found in `--catalog DIR` (`DIR/checks/cloudstack/advisories.toml`).
//!
//! A feed holds the advisories (affected ranges, fixed releases, published date, source,
//! readable workarounds), the releases with their announcement dates, and the release
//! lines with their support status. Every date and fact names the page it comes from.

use super::version::{LineSpec, Range, Version};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The feed shipped with the CloudStack pack.
pub const BUILTIN_TOML: &str = include_str!("../../checks/cloudstack/advisories.toml");
/// Where the built-in feed comes from, as named in facts.
pub const BUILTIN_ORIGIN: &str = "builtin:checks/cloudstack/advisories.toml";
/// The largest feed file read.
pub const MAX_FEED_BYTES: u64 = 4 * 1024 * 1024;
/// The most advisories one feed may hold.
pub const MAX_ADVISORIES: usize = 20_000;

pub const SEVERITIES: &[&str] = &["low", "moderate", "important", "critical", "unrated"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Advisories, releases and lines of this file are added; same id/version/line
    /// replaces the earlier entry.
    #[default]
    Extend,
    /// This file replaces everything loaded before it.
    Replace,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedFile {
    feed: Header,
    #[serde(default)]
    line: Vec<LineRow>,
    #[serde(default)]
    release: Vec<ReleaseRow>,
    #[serde(default)]
    advisory: Vec<AdvisoryRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    date: String,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineRow {
    line: String,
    #[serde(rename = "type")]
    kind: String,
    status: String,
    #[serde(default)]
    full_until: Option<String>,
    #[serde(default)]
    security_until: Option<String>,
    #[serde(default)]
    note: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseRow {
    version: String,
    date: String,
    source: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvisoryRow {
    id: String,
    severity: String,
    affected: Vec<String>,
    #[serde(default)]
    fixed_in: Vec<String>,
    published: String,
    source: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    workaround: Vec<Workaround>,
}

/// One way to apply an advisory's documented workaround that leaves a trace the tool
/// reads; an advisory is mitigated when any of its workarounds is in force.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workaround {
    /// A global setting (`cs.setting.<name>`, the effective value).
    #[serde(default)]
    pub setting: Option<String>,
    /// The setting's value equals this (case-insensitive, trimmed).
    #[serde(default)]
    pub equals: Option<String>,
    /// The setting is a comma-separated list holding this item.
    #[serde(default)]
    pub has_item: Option<String>,
    /// These APIs are denied to every non-admin role (role permissions, with the dynamic
    /// role checker on).
    #[serde(default)]
    pub deny_non_admin: Option<Vec<String>>,
}

impl Workaround {
    fn validate(&self) -> Result<(), String> {
        match (&self.setting, &self.deny_non_admin) {
            (Some(_), None) => match (&self.equals, &self.has_item) {
                (Some(_), None) | (None, Some(_)) => Ok(()),
                _ => Err("a setting workaround needs exactly one of `equals`, `has_item`".into()),
            },
            (None, Some(apis)) if !apis.is_empty() && self.equals.is_none() && self.has_item.is_none() => {
                Ok(())
            }
            _ => Err("a workaround is either `setting` (+ `equals` or `has_item`) or a non-empty `deny_non_admin` list".into()),
        }
    }
}

/// One advisory.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub cve: String,
    pub severity: String,
    pub affected: Vec<Range>,
    pub fixed_in: Vec<Version>,
    /// The project's announcement date (YYYY-MM-DD).
    pub published: String,
    pub source: String,
    pub note: String,
    pub workarounds: Vec<Workaround>,
}

/// A release and the date the project announced it.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: Version,
    pub date: String,
    pub source: String,
    pub note: String,
}

/// A release line's support, as the feed records it.
#[derive(Debug, Clone)]
pub struct Line {
    pub spec: LineSpec,
    pub kind: String,
    /// Status on the feed's date: `supported`, `security-only` or `eol`.
    pub status: String,
    /// All fixes until this date, then security fixes only.
    pub full_until: Option<String>,
    /// No fixes at all after this date.
    pub security_until: Option<String>,
    pub note: String,
    pub source: String,
}

/// Where a loaded feed file came from.
#[derive(Debug, Clone)]
pub struct FeedFileInfo {
    pub origin: String,
    pub date: String,
    pub mode: Mode,
    pub advisories: usize,
    /// The pages the file says it was built from.
    pub sources: Vec<String>,
}

/// The feed in force: the built-in one, replaced or extended by files.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    pub advisories: Vec<Advisory>,
    /// By version (`Version` display form).
    pub releases: BTreeMap<String, Release>,
    pub lines: Vec<Line>,
    pub files: Vec<FeedFileInfo>,
}

fn date(what: &str, s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = s.len() == 10 && crate::evaluate::parse_rfc3339(s).is_some();
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{what}: {s:?} is not a date (YYYY-MM-DD)"))
    }
}

fn version(what: &str, s: &str) -> Result<Version, String> {
    Version::parse(s).ok_or_else(|| format!("{what}: bad version {s:?}"))
}

fn advisory(r: AdvisoryRow) -> Result<Advisory, String> {
    let what = format!("advisory {}", r.id);
    if r.id.trim().is_empty() {
        return Err("an advisory has an empty id".into());
    }
    if !SEVERITIES.contains(&r.severity.as_str()) {
        return Err(format!(
            "{what}: unknown severity {:?} (one of {})",
            r.severity,
            SEVERITIES.join(", ")
        ));
    }
    if r.affected.is_empty() {
        return Err(format!("{what}: no affected range"));
    }
    let affected = r
        .affected
        .iter()
        .map(|s| Range::parse(s).ok_or_else(|| format!("{what}: bad range {s:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let fixed_in = r
        .fixed_in
        .iter()
        .map(|s| version(&what, s))
        .collect::<Result<Vec<_>, _>>()?;
    for w in &r.workaround {
        w.validate().map_err(|e| format!("{what}: {e}"))?;
    }
    Ok(Advisory {
        published: date(&format!("{what} published"), &r.published)?,
        cve: r.id.trim().to_string(),
        severity: r.severity,
        affected,
        fixed_in,
        source: r.source,
        note: r.note,
        workarounds: r.workaround,
    })
}

fn line(r: LineRow) -> Result<Line, String> {
    let what = format!("line {}", r.line);
    let spec = LineSpec::parse(&r.line).ok_or_else(|| format!("{what}: bad line"))?;
    if !["lts", "regular", "unknown"].contains(&r.kind.as_str()) {
        return Err(format!("{what}: type must be lts, regular or unknown"));
    }
    if !["supported", "security-only", "eol"].contains(&r.status.as_str()) {
        return Err(format!(
            "{what}: status must be supported, security-only or eol"
        ));
    }
    let opt = |f: &str, v: &Option<String>| -> Result<Option<String>, String> {
        v.as_deref()
            .map(|d| date(&format!("{what} {f}"), d))
            .transpose()
    };
    Ok(Line {
        full_until: opt("full_until", &r.full_until)?,
        security_until: opt("security_until", &r.security_until)?,
        spec,
        kind: r.kind,
        status: r.status,
        note: r.note,
        source: r.source,
    })
}

impl Feed {
    /// Parses one feed file and applies it (replace or extend) to this feed.
    pub fn apply(&mut self, origin: &str, text: &str) -> Result<(), String> {
        let err = |e: String| format!("{origin}: {e}");
        let f: FeedFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if f.advisory.len() > MAX_ADVISORIES {
            return Err(err(format!("more than {MAX_ADVISORIES} advisories")));
        }
        let feed_date = date("feed date", &f.feed.date).map_err(err)?;
        let mut adv = Vec::new();
        for r in f.advisory {
            adv.push(advisory(r).map_err(err)?);
        }
        let mut ids: Vec<&str> = adv.iter().map(|a| a.cve.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(err(format!("advisory {} appears twice", w[0])));
        }
        let mut rel = Vec::new();
        for r in f.release {
            let what = format!("release {}", r.version);
            rel.push(Release {
                version: version(&what, &r.version).map_err(err)?,
                date: date(&what, &r.date).map_err(err)?,
                source: r.source,
                note: r.note,
            });
        }
        let lines = f
            .line
            .into_iter()
            .map(line)
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        if f.feed.mode == Mode::Replace {
            // Nothing loaded before stays in force, its date included.
            *self = Feed::default();
        }
        self.files.push(FeedFileInfo {
            origin: origin.to_string(),
            date: feed_date,
            mode: f.feed.mode,
            advisories: adv.len(),
            sources: f.feed.sources,
        });
        for a in adv {
            match self.advisories.iter_mut().find(|x| x.cve == a.cve) {
                Some(x) => *x = a,
                None => self.advisories.push(a),
            }
        }
        for r in rel {
            self.releases.insert(r.version.to_string(), r);
        }
        for l in lines {
            match self.lines.iter_mut().find(|x| x.spec == l.spec) {
                Some(x) => *x = l,
                None => self.lines.push(l),
            }
        }
        Ok(())
    }

    /// The feed shipped with the binary.
    pub fn builtin() -> Feed {
        let mut f = Feed::default();
        // Validated by a unit test, so this cannot fail in a release build.
        if f.apply(BUILTIN_ORIGIN, BUILTIN_TOML).is_err() {
            return Feed::default();
        }
        f
    }

    /// The built-in feed (unless `no_builtin`), then every file in order.
    pub fn load(no_builtin: bool, files: &[PathBuf]) -> Result<Feed, String> {
        let mut f = if no_builtin {
            Feed::default()
        } else {
            Feed::builtin()
        };
        for p in files {
            let text = read_feed(p)?;
            f.apply(&p.display().to_string(), &text)?;
        }
        Ok(f)
    }

    /// The feed's date: the newest date of the files in force (a file's date says every
    /// advisory published up to that day is in the feed).
    pub fn date(&self) -> Option<&str> {
        self.files.iter().map(|f| f.date.as_str()).max()
    }

    /// The release announcement, if the feed has it.
    pub fn release(&self, v: &Version) -> Option<&Release> {
        self.releases.get(&v.to_string())
    }

    /// The support row of the version's line: an exact line row first, else a range of
    /// lines holding it.
    pub fn line_of(&self, v: &Version) -> Option<&Line> {
        let mut hits = self.lines.iter().filter(|l| l.spec.contains(v));
        let all: Vec<&Line> = hits.by_ref().collect();
        all.iter()
            .find(|l| l.spec.from == l.spec.to)
            .or_else(|| all.first())
            .copied()
    }
}

/// Reads a feed file, bounded.
fn read_feed(p: &Path) -> Result<String, String> {
    let md = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !md.is_file() {
        return Err(format!("{}: not a regular file", p.display()));
    }
    if md.len() > MAX_FEED_BYTES {
        return Err(format!(
            "{}: larger than {MAX_FEED_BYTES} bytes",
            p.display()
        ));
    }
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// The advisory feeds of `--catalog` directories: `DIR/checks/cloudstack/advisories.toml`
/// where it exists.
pub fn catalog_feeds(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter()
        .map(|d| d.join("checks/cloudstack/advisories.toml"))
        .filter(|p| p.is_file())
        .collect()
}
