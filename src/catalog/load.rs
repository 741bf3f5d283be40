//! Reading the catalog: the embedded files and `--catalog` directories, sorted into pack
//! manifests, check files and profiles by where they sit, then validated and compiled.
//!
//! Where a file sits decides what it is (paths relative to the catalog root):
//! - `.../pack.toml`: a pack manifest for its directory;
//! - a file under a `profiles` directory: a profile (under a pack's directory, a profile
//!   of that pack: it selects only that pack's checks unless it says otherwise);
//! - `advisories.*`: the pack's advisory feed, read by `vuln`, not here;
//! - any other `*.toml`: checks of the nearest enclosing pack directory; else of the pack
//!   its parent directory is named after; else of [`DEFAULT_PACK`].

use super::compliance::{self, Mapping, FRAMEWORKS_FILE, MAPPING_FILE};
use super::history;
use super::spec::CheckFile;
use super::{
    expr, line_of, pack, Catalog, CatalogError, CatalogSource, Check, CheckSpec, IfAbsent, Pack,
    Profile, DEFAULT_PACK,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Directories nested deeper than this under a `--catalog` directory are an error.
pub const MAX_DEPTH: usize = 8;

/// One catalog file: its name for messages, its path relative to the catalog root.
struct SourceFile {
    name: String,
    rel: Vec<String>,
    text: String,
}

impl SourceFile {
    fn dir(&self) -> &[String] {
        &self.rel[..self.rel.len().saturating_sub(1)]
    }
    fn file_name(&self) -> &str {
        self.rel.last().map_or("", String::as_str)
    }
}

/// A set of files from one root (the embedded catalog, or one directory).
struct Tree {
    files: Vec<SourceFile>,
    /// Directory (relative, joined with `/`) -> the id of the pack defined there.
    pack_dirs: BTreeMap<String, String>,
}

fn embedded_files() -> Vec<SourceFile> {
    CHECK_FILES
        .iter()
        .chain(PROFILE_FILES)
        .map(|(n, t)| SourceFile {
            name: n.to_string(),
            rel: n.split('/').map(str::to_string).collect(),
            text: t.to_string(),
        })
        .collect()
}

static EMBEDDED_PACKS: OnceLock<Result<Vec<Pack>, CatalogError>> = OnceLock::new();
static EMBEDDED_FRAMEWORKS: OnceLock<Result<Vec<super::Framework>, CatalogError>> = OnceLock::new();
static BUILTIN: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();

fn embedded_packs() -> Result<&'static [Pack], CatalogError> {
    EMBEDDED_PACKS
        .get_or_init(|| {
            let mut packs = Vec::new();
            read_packs(&mut packs, embedded_files())?;
            Ok(packs)
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The embedded framework catalog: like the packs, the vocabulary a `--catalog`
/// directory builds on even with `--no-builtin-catalog`.
fn embedded_frameworks() -> Result<&'static [super::Framework], CatalogError> {
    EMBEDDED_FRAMEWORKS
        .get_or_init(|| {
            let mut fws = Vec::new();
            for f in embedded_files().iter().filter(|f| is_frameworks(f)) {
                compliance::merge_frameworks(&mut fws, &f.name, &f.text)?;
            }
            Ok(fws)
        })
        .as_deref()
        .map_err(Clone::clone)
}

fn is_frameworks(f: &SourceFile) -> bool {
    f.file_name() == FRAMEWORKS_FILE && !in_profiles(f)
}

fn is_mapping(f: &SourceFile) -> bool {
    f.file_name() == MAPPING_FILE && !in_profiles(f)
}

pub(super) fn builtin() -> Result<&'static Catalog, CatalogError> {
    BUILTIN
        .get_or_init(|| {
            let mut b = Builder::new(embedded_packs()?.to_vec())?;
            b.add(embedded_tree(), true)?;
            b.finish()
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn embedded_tree() -> Tree {
    let files = embedded_files();
    let pack_dirs = files
        .iter()
        .filter(|f| f.file_name() == "pack.toml")
        .filter_map(|f| Some((f.dir().join("/"), manifest_id(&f.text)?)))
        .collect();
    Tree { files, pack_dirs }
}

/// Merges the pack manifests of `files` into `packs`.
fn read_packs(packs: &mut Vec<Pack>, files: Vec<SourceFile>) -> Result<(), CatalogError> {
    for f in files.iter().filter(|f| is_manifest(f)) {
        pack::merge(packs, &f.name, &f.text)?;
    }
    Ok(())
}

/// The `[pack] id` of a manifest, if it has one.
fn manifest_id(text: &str) -> Option<String> {
    let t: toml::Table = toml::from_str(text).ok()?;
    Some(t.get("pack")?.get("id")?.as_str()?.to_string())
}

fn is_manifest(f: &SourceFile) -> bool {
    f.file_name() == "pack.toml" && !in_profiles(f)
}

fn in_profiles(f: &SourceFile) -> bool {
    f.dir().iter().any(|c| c == "profiles")
}

pub(super) fn load(src: &CatalogSource) -> Result<Catalog, CatalogError> {
    if src.dirs.is_empty() && !src.no_builtin {
        return builtin().cloned();
    }
    let mut b = if src.no_builtin {
        Builder::new(embedded_packs()?.to_vec())?
    } else {
        Builder::from(builtin()?.clone())
    };
    let mut trees = Vec::new();
    for dir in &src.dirs {
        let tree = read_dir_tree(dir)?;
        for f in tree.files.iter().filter(|f| is_manifest(f)) {
            pack::merge(&mut b.cat.packs, &f.name, &f.text)?;
        }
        trees.push(tree);
    }
    b.add_all(trees)?;
    b.finish()
}

/// Accumulates checks and profiles over the catalog's sources.
struct Builder {
    cat: Catalog,
    /// Check id -> (index, loaded from the embedded catalog).
    by_id: BTreeMap<String, (usize, bool)>,
    /// Profile files (name, text, implied pack), parsed once every check is known.
    profiles: Vec<(String, String, Option<String>)>,
    /// `[[setting]]` names seen, with whether from the embedded catalog.
    setting_names: BTreeSet<(String, bool)>,
    /// Compliance mapping files (name, text, pack), parsed once every framework is known.
    mappings: Vec<(String, String, String)>,
    /// The mapping so far (from the catalog this one extends).
    mapping: Mapping,
}

impl From<Catalog> for Builder {
    fn from(cat: Catalog) -> Builder {
        let by_id = cat
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), (i, true)))
            .collect();
        let mapping = cat
            .checks
            .iter()
            .filter(|c| !c.controls.is_empty())
            .map(|c| (c.id.clone(), (c.location.clone(), 0, c.controls.clone())))
            .collect();
        Builder {
            cat,
            by_id,
            profiles: Vec::new(),
            setting_names: BTreeSet::new(),
            mappings: Vec::new(),
            mapping,
        }
    }
}

impl Builder {
    fn new(packs: Vec<Pack>) -> Result<Builder, CatalogError> {
        Ok(Builder::from(Catalog {
            packs,
            frameworks: embedded_frameworks()?.to_vec(),
            ..Catalog::default()
        }))
    }

    fn add_all(&mut self, trees: Vec<Tree>) -> Result<(), CatalogError> {
        for t in trees {
            self.add(t, false)?;
        }
        Ok(())
    }

    fn add(&mut self, tree: Tree, builtin: bool) -> Result<(), CatalogError> {
        for f in tree.files {
            if is_manifest(&f) || f.file_name().starts_with("advisories.") {
                continue;
            }
            if is_frameworks(&f) {
                // The embedded frameworks are already there (`Builder::new`).
                if !builtin {
                    compliance::merge_frameworks(&mut self.cat.frameworks, &f.name, &f.text)?;
                }
                continue;
            }
            let pack = self.pack_of(&tree.pack_dirs, &f);
            if is_mapping(&f) {
                let pack = pack.unwrap_or_else(|| DEFAULT_PACK.to_string());
                self.mappings.push((f.name, f.text, pack));
            } else if in_profiles(&f) {
                self.profiles.push((f.name, f.text, pack));
            } else {
                let pack = pack.unwrap_or_else(|| DEFAULT_PACK.to_string());
                self.add_checks(&f, &pack, builtin)?;
            }
        }
        Ok(())
    }

    /// The pack of a file: the nearest enclosing pack directory, else a parent directory
    /// named after a known pack; `None` for neither.
    fn pack_of(&self, pack_dirs: &BTreeMap<String, String>, f: &SourceFile) -> Option<String> {
        let dir = f.dir();
        let dir = match dir.iter().position(|c| c == "profiles") {
            Some(i) => &dir[..i],
            None => dir,
        };
        (0..=dir.len())
            .rev()
            .find_map(|n| pack_dirs.get(&dir[..n].join("/")).cloned())
            .or_else(|| dir.last().filter(|d| self.cat.pack(d).is_some()).cloned())
    }

    fn add_checks(
        &mut self,
        f: &SourceFile,
        pack: &str,
        builtin: bool,
    ) -> Result<(), CatalogError> {
        let (name, text) = (&f.name, &f.text);
        let file: CheckFile = toml::from_str(text).map_err(|e| CatalogError {
            file: name.clone(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            message: e.message().trim().to_string(),
        })?;
        let Some(pk) = self.cat.pack(pack).cloned() else {
            return Err(CatalogError {
                file: name.clone(),
                line: 0,
                message: format!("no pack {pack:?} (a pack.toml defines it)"),
            });
        };
        for spanned in file.check {
            let line = line_of(text, spanned.span().start);
            let check = compile_check(spanned.into_inner(), &pk, name, line, text)?;
            self.insert(check, builtin)?;
        }
        self.cat.omitted.extend(file.omitted);
        for spanned in file.setting {
            let line = line_of(text, spanned.span().start);
            let err = |message: String| CatalogError {
                file: name.clone(),
                line,
                message,
            };
            let h = history::SettingHistory::compile(spanned.into_inner()).map_err(err)?;
            let n = h.name().to_string();
            // A `--catalog` directory replaces an embedded entry; a repeat within one
            // source is an error.
            if !self.setting_names.insert((n.clone(), builtin)) {
                return Err(err(format!("setting {n}: a second [[setting]] entry")));
            }
            self.cat.settings.insert(n, std::sync::Arc::new(h));
        }
        Ok(())
    }

    fn insert(&mut self, check: Check, builtin: bool) -> Result<(), CatalogError> {
        match self.by_id.get(&check.id).copied() {
            // A check from a --catalog directory replaces an embedded one.
            Some((j, true)) if !builtin => {
                self.by_id.insert(check.id.clone(), (j, false));
                self.cat.checks[j] = check;
            }
            Some((j, _)) => {
                return Err(CatalogError {
                    file: check.file.clone(),
                    line: check.line,
                    message: format!(
                        "duplicate check id {} (first defined at {})",
                        check.id, self.cat.checks[j].location
                    ),
                });
            }
            None => {
                self.by_id
                    .insert(check.id.clone(), (self.cat.checks.len(), builtin));
                self.cat.checks.push(check);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Catalog, CatalogError> {
        let cat = &mut self.cat;
        cat.checks.sort_by(|a, b| a.id.cmp(&b.id));
        let mut file_packs = BTreeMap::new();
        for (name, text, pack) in &self.mappings {
            compliance::merge_mapping(&mut self.mapping, &cat.frameworks, name, text)?;
            file_packs.insert(name.clone(), pack.clone());
        }
        compliance::apply(&mut cat.checks, &self.mapping, &file_packs)?;
        attach_history(cat)?;
        let ids: BTreeSet<&str> = cat.checks.iter().map(|c| c.id.as_str()).collect();
        let mut parsed: Vec<Profile> = Vec::new();
        for (name, text, pack) in &self.profiles {
            let p = Profile::parse(name, text, &ids, &cat.checks, &cat.packs, pack.as_deref())?;
            parsed.push(p);
        }
        for p in parsed {
            match cat.profiles.iter().position(|q| q.name == p.name) {
                Some(i) => cat.profiles[i] = p,
                None => cat.profiles.push(p),
            }
        }
        cat.profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(self.cat)
    }
}

/// Gives every leaf on a setting the setting's history, and checks that a check's
/// `default` is the newest default the history records.
fn attach_history(cat: &mut Catalog) -> Result<(), CatalogError> {
    for c in &mut cat.checks {
        let default = c.spec.default.as_ref().map(super::value::toml_to_json);
        let (file, line, id) = (c.file.clone(), c.line, c.id.clone());
        let leaves = c
            .condition
            .leaves_mut()
            .into_iter()
            .chain(c.when.iter_mut().flat_map(super::Expr::leaves_mut));
        for l in leaves {
            let Some(h) = history::setting_of(&l.fact).and_then(|n| cat.settings.get(n)) else {
                continue;
            };
            if let (Some(latest), Some(d), super::Absent::Default(_)) =
                (h.latest_default(), &default, &l.if_absent)
            {
                let d = d.as_str().map_or_else(|| d.to_string(), str::to_string);
                if d != latest {
                    return Err(CatalogError {
                        file,
                        line,
                        message: format!(
                            "check {id}: `default` {d:?} is not the newest default of {} in its [[setting]] entry ({latest:?})",
                            h.name()
                        ),
                    });
                }
            }
            l.former_fact = h.former_key(&l.fact);
            l.history = Some(h.clone());
        }
    }
    Ok(())
}

static ID_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$").expect("check id pattern compiles")
});

/// Validates a check as written and compiles its conditions.
fn compile_check(
    mut spec: CheckSpec,
    pack: &Pack,
    file: &str,
    line: usize,
    text: &str,
) -> Result<Check, CatalogError> {
    spec.location = format!("{file}:{line}");
    let err = |m: String| CatalogError {
        file: file.to_string(),
        line,
        message: format!("check {}: {m}", spec.id),
    };
    validate_text(&spec, pack).map_err(err)?;
    let condition = expr::compile(&spec, &spec.condition, "condition", text).map_err(err)?;
    let when = match &spec.when {
        Some(w) => Some(expr::compile(&spec, w, "when", text).map_err(err)?),
        None => None,
    };
    Ok(Check {
        pack: pack.id.clone(),
        file: file.to_string(),
        line,
        condition,
        when,
        spec,
        controls: Default::default(),
        expected_cache: Default::default(),
    })
}

fn validate_text(c: &CheckSpec, pack: &Pack) -> Result<(), String> {
    if !ID_RE.is_match(&c.id) {
        return Err(format!(
            "field `id`: {:?} is not of the form PREFIX-AREA-NNN",
            c.id
        ));
    }
    if pack.duty(&c.duty).is_none() {
        let names: Vec<&str> = pack.duties.iter().map(|d| d.id.as_str()).collect();
        return Err(format!(
            "field `duty`: unknown duty {:?} in pack {} (one of {})",
            c.duty,
            pack.id,
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
    Ok(())
}

fn read_dir_tree(dir: &Path) -> Result<Tree, CatalogError> {
    let err = |m: String| CatalogError {
        file: dir.display().to_string(),
        line: 0,
        message: m,
    };
    if !dir.is_dir() {
        return Err(err("catalog directory does not exist".into()));
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths, 0)?;
    paths.sort();
    let mut files = Vec::new();
    let mut pack_dirs = BTreeMap::new();
    // A directory named `profiles` given directly holds profiles.
    let base: Vec<String> = match dir.file_name() {
        Some(n) if n == "profiles" => vec!["profiles".into()],
        _ => Vec::new(),
    };
    for p in paths {
        let text = read_capped(&p).map_err(|message| CatalogError {
            file: p.display().to_string(),
            line: 0,
            message,
        })?;
        let mut rel = base.clone();
        rel.extend(
            p.strip_prefix(dir)
                .unwrap_or(&p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
        let f = SourceFile {
            name: p.display().to_string(),
            rel,
            text,
        };
        if is_manifest(&f) {
            // A manifest without a readable id is reported when it is merged.
            if let Some(id) = manifest_id(&f.text) {
                pack_dirs.insert(f.dir().join("/"), id);
            }
        }
        files.push(f);
    }
    Ok(Tree { files, pack_dirs })
}

/// A catalog file larger than this is refused (the whole embedded catalog is about 200 KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn read_capped(p: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    std::fs::File::open(p)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf))
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "not UTF-8 text".into())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), CatalogError> {
    let err = |p: &Path, m: String| CatalogError {
        file: p.display().to_string(),
        line: 0,
        message: m,
    };
    if depth > MAX_DEPTH {
        return Err(err(
            dir,
            format!("catalog directories nest deeper than {MAX_DEPTH} levels"),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
    for e in entries {
        let e = e.map_err(|e| err(dir, e.to_string()))?;
        let ft = e.file_type().map_err(|x| err(&e.path(), x.to_string()))?;
        let p = e.path();
        if ft.is_dir() {
            walk(&p, out, depth + 1)?;
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}
