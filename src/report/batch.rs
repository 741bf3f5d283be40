//! Many facts files in one `evaluate`: which files a list of paths and directories names,
//! and reading each within a bound.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A facts file larger than this is refused (the demo deployment's is 80 KB).
pub const MAX_FACTS_BYTES: u64 = 64 << 20;

/// The facts files named by `paths` (a directory stands for its `*.json` regular files,
/// sorted, not recursive), each with the name its reports get in `--output-dir` (the file
/// name without `.json`). Two files with the same name are refused: their reports would
/// overwrite each other.
pub fn facts_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?
                .filter_map(|d| d.ok())
                .filter(|d| d.file_type().is_ok_and(|t| t.is_file()))
                .map(|d| d.path())
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = BTreeSet::new();
    out.into_iter()
        .map(|p| {
            let name = name_of(&p);
            if !seen.insert(name.clone()) {
                return Err(format!(
                    "two facts files named {name:?} (their reports would overwrite each other)"
                ));
            }
            Ok((p, name))
        })
        .collect()
}

fn name_of(p: &Path) -> String {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "facts".into());
    n.strip_suffix(".json").map(str::to_string).unwrap_or(n)
}

/// Reads one facts file: a regular file only (never blocks on a FIFO or reads a device),
/// at most [`MAX_FACTS_BYTES`].
pub fn read_facts(p: &Path) -> Result<String, String> {
    // Regular files only (never blocks on a FIFO nor reads a device), capped.
    crate::opfiles::read_text_capped(p, MAX_FACTS_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", p.display()))
}

/// [`read_facts`] into `buf` (reused across a batch), as text.
pub fn read_facts_into<'a>(p: &Path, buf: &'a mut Vec<u8>) -> Result<&'a str, String> {
    crate::opfiles::read_capped_into(p, MAX_FACTS_BYTES, buf)
        .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    std::str::from_utf8(buf).map_err(|_| format!("cannot read {}: not valid UTF-8", p.display()))
}

/// Reads and parses one facts file.
pub fn load_facts(p: &Path) -> Result<crate::facts::Facts, String> {
    load_facts_with(p, &mut Vec::new())
}

/// [`load_facts`] reading through `buf` (reused across a batch).
pub fn load_facts_with(p: &Path, buf: &mut Vec<u8>) -> Result<crate::facts::Facts, String> {
    let f = crate::facts::Facts::from_json(read_facts_into(p, buf)?)
        .map_err(|e| format!("{}: {e}", p.display()))?;
    // The reference time of date conditions: an impossible date is refused, never read
    // as some other day.
    if let Some(t) = f.collected_at.as_deref() {
        if crate::dates::parse_rfc3339(t).is_none() {
            return Err(format!(
                "{}: collected_at {t:?} is not a real date",
                p.display()
            ));
        }
    }
    Ok(f)
}
