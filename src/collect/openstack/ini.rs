//! INI files as OpenStack services read them.
//!
//! Two dialects, both written here rather than taken from the `ini`/`rust-ini` crates:
//! those crates keep one value per key (a repeated key overwrites: no multi-valued
//! options), treat an indented line as a new key instead of a continuation, accept inline
//! `;`/`#` comments that oslo.config keeps as part of the value, and fold or keep case in
//! ways that match neither oslo.config nor Python's `configparser`.
//!
//! * [`parse_oslo`]: `oslo_config/iniparser.py` (`BaseParser.parse`) and
//!   `oslo_config/cfg.py` (`ConfigParser`, `_normalize_group_name`) at
//!   <https://opendev.org/openstack/oslo.config>. Lines are right-stripped; a blank line
//!   ends a multi-line value; a line starting with a space or tab continues the previous
//!   value (joined with `\n`); `#` or `;` *at the start of a line* is a comment (never
//!   inline); `[name]` opens a section (no trailing text allowed); `key = value` or
//!   `key: value` (whichever delimiter comes first); one pair of matching quotes around a
//!   single-line value is removed; a key before any section, an empty key, a line with
//!   neither delimiter, or a bad section line is a parse error (oslo.config then refuses
//!   the whole file). Every occurrence of a key is kept (multi-valued options); a
//!   single-valued option takes the last one. Group names are folded to lower case except
//!   `DEFAULT` written exactly so; option names keep their case.
//! * [`parse_paste`]: `configparser.ConfigParser` as PasteDeploy uses it for
//!   `api-paste.ini`: section names keep their case, option names are lower-cased, values
//!   in `[DEFAULT]` are inherited by every section, comments may be indented.

use std::collections::{BTreeMap, HashSet};

/// One `key = value` occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The section as normalised by the dialect.
    pub section: String,
    pub key: String,
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// A parsed INI file: every entry in file order, and the sections seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ini {
    pub entries: Vec<Entry>,
    pub sections: Vec<String>,
}

/// Why a file could not be parsed (oslo.config refuses the whole file).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// oslo.config's group-name folding: `DEFAULT` stays, everything else is lower-cased.
pub fn normalize_group(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

impl Ini {
    /// Every value of `key` in `section`, in file order (a multi-valued option).
    pub fn get_all(&self, section: &str, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.section == section && e.key == key)
            .map(|e| e.value.as_str())
            .collect()
    }

    /// The value a single-valued option takes: the last occurrence.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.section == section && e.key == key)
            .map(|e| e.value.as_str())
    }

    /// The value with `[DEFAULT]` as the fallback (PasteDeploy/configparser lookup).
    pub fn get_or_default(&self, section: &str, key: &str) -> Option<&str> {
        self.get(section, key).or_else(|| self.get("DEFAULT", key))
    }

    pub fn has_section(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }

    /// All single values as `section -> key -> last value` (for tests and diffs).
    pub fn effective(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut m: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for s in &self.sections {
            m.entry(s.clone()).or_default();
        }
        for e in &self.entries {
            m.entry(e.section.clone())
                .or_default()
                .insert(e.key.clone(), e.value.clone());
        }
        m
    }
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Python's `str.isspace` (what `strip()` removes): Rust's whitespace plus the
/// information separators U+001C..U+001F.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `iniparser.BaseParser._split_key_value`: the first of `=` / `:` splits.
fn split_key_value(line: &str, n: usize) -> Result<(String, String), ParseError> {
    let cut = match (line.find('='), line.find(':')) {
        (None, None) => return Err(err(n, "not a `key = value` line, section or comment")),
        (Some(e), None) => e,
        (None, Some(c)) => c,
        (Some(e), Some(c)) => e.min(c),
    };
    let key = line[..cut].trim_matches(py_space);
    let mut value = line[cut + 1..].trim_matches(py_space);
    if let (Some(f), Some(l)) = (value.chars().next(), value.chars().last()) {
        if (f == '"' || f == '\'') && f == l {
            // Python: value[1:-1] (a lone quote character becomes empty).
            value = if value.len() >= 2 {
                &value[1..value.len() - 1]
            } else {
                ""
            };
        }
    }
    if key.is_empty() {
        return Err(err(n, "empty key"));
    }
    Ok((key.to_string(), value.to_string()))
}

/// Parses text with oslo.config's rules (see the module docs).
pub fn parse_oslo(text: &str) -> Result<Ini, ParseError> {
    let mut ini = Ini::default();
    // Sections seen (a set: a hostile file with many sections stays linear).
    let mut seen: HashSet<String> = HashSet::new();
    let mut section: Option<String> = None;
    let mut pending: Option<(String, Vec<String>, usize)> = None;
    let flush = |ini: &mut Ini,
                 section: &Option<String>,
                 p: &mut Option<(String, Vec<String>, usize)>|
     -> Result<(), ParseError> {
        if let Some((key, vals, line)) = p.take() {
            let Some(s) = section else {
                return Err(err(line, "option before any section"));
            };
            ini.entries.push(Entry {
                section: s.clone(),
                key,
                value: vals.join("\n"),
                line,
            });
        }
        Ok(())
    };
    // Python iterates a text file by lines split on \n (universal newlines: \r\n, \r).
    for (i, raw) in split_lines(text).into_iter().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches(py_space);
        if line.is_empty() {
            flush(&mut ini, &section, &mut pending)?;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some((_, vals, _)) => vals.push(line.trim_start_matches(py_space).to_string()),
                None => return Err(err(n, "continuation line without a preceding option")),
            }
            continue;
        }
        flush(&mut ini, &section, &mut pending)?;
        if line.starts_with('[') {
            if !line.ends_with(']') {
                return Err(err(n, "section line does not end with `]`"));
            }
            if line.len() <= 2 {
                return Err(err(n, "empty section name"));
            }
            let name = normalize_group(&line[1..line.len() - 1]);
            if seen.insert(name.clone()) {
                ini.sections.push(name.clone());
            }
            section = Some(name);
        } else if line.starts_with(['#', ';']) {
            continue;
        } else {
            let (k, v) = split_key_value(line, n)?;
            if section.is_none() {
                return Err(err(n, "option before any section"));
            }
            pending = Some((k, vec![v], n));
        }
    }
    flush(&mut ini, &section, &mut pending)?;
    Ok(ini)
}

/// Python's universal-newline line split (`\n`, `\r\n`, `\r`).
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            out.push(&text[start..i]);
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// Parses an `api-paste.ini` as PasteDeploy's `configparser` does (see the module docs).
/// Duplicate options are an error there (`strict`), so they are here.
pub fn parse_paste(text: &str) -> Result<Ini, ParseError> {
    let mut ini = Ini::default();
    let mut sections: HashSet<String> = HashSet::new();
    let mut options: HashSet<(String, String)> = HashSet::new();
    let mut section: Option<String> = None;
    let mut last: Option<usize> = None; // index of the entry a continuation extends
    for (i, raw) in split_lines(text).into_iter().enumerate() {
        let n = i + 1;
        let stripped = raw.trim();
        if stripped.starts_with(['#', ';']) {
            continue;
        }
        if stripped.is_empty() {
            last = None;
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if let Some(ix) = last {
                let e = &mut ini.entries[ix];
                e.value.push('\n');
                e.value.push_str(stripped);
                continue;
            }
        }
        if let Some(rest) = stripped.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err(err(n, "section line does not end with `]`"));
            };
            let name = rest[..end].to_string();
            if !sections.insert(name.clone()) {
                return Err(err(n, format!("duplicate section {name:?}")));
            }
            ini.sections.push(name.clone());
            section = Some(name);
            last = None;
            continue;
        }
        let Some(s) = section.clone() else {
            return Err(err(n, "option before any section"));
        };
        let cut = match (stripped.find('='), stripped.find(':')) {
            (None, None) => return Err(err(n, "not a `key = value` line")),
            (Some(e), None) => e,
            (None, Some(c)) => c,
            (Some(e), Some(c)) => e.min(c),
        };
        let key = stripped[..cut].trim().to_lowercase();
        if !options.insert((s.clone(), key.clone())) {
            return Err(err(n, format!("duplicate option {key:?} in [{s}]")));
        }
        ini.entries.push(Entry {
            section: s,
            key,
            value: stripped[cut + 1..].trim().to_string(),
            line: n,
        });
        last = Some(ini.entries.len() - 1);
    }
    Ok(ini)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oslo_rules() {
        let t = "# c\n[DEFAULT]\ndebug = true\nx=1\nx = 2\n[Keystone_Authtoken]\n\
                 www_authenticate_uri = 'https://k:5000'\ninsecure: false # not a comment\n\
                 multi = a\n  b\n\tc\n\nafter = 1\n[default]\ndebug = false\n";
        let ini = parse_oslo(t).unwrap();
        assert_eq!(ini.get("DEFAULT", "debug"), Some("true"));
        assert_eq!(ini.get("default", "debug"), Some("false"));
        assert_eq!(ini.get_all("DEFAULT", "x"), vec!["1", "2"]);
        assert_eq!(ini.get("DEFAULT", "x"), Some("2"));
        assert_eq!(
            ini.get("keystone_authtoken", "www_authenticate_uri"),
            Some("https://k:5000")
        );
        assert_eq!(
            ini.get("keystone_authtoken", "insecure"),
            Some("false # not a comment")
        );
        assert_eq!(ini.get("keystone_authtoken", "multi"), Some("a\nb\nc"));
        assert_eq!(ini.get("keystone_authtoken", "after"), Some("1"));
    }

    #[test]
    fn oslo_errors() {
        for bad in [
            "x = 1\n",
            "[a\n",
            "[]\n",
            "[a] # c\n",
            "[a]\njunk\n",
            "[a]\n = 1\n",
            "  cont\n[a]\n",
        ] {
            assert!(parse_oslo(bad).is_err(), "{bad:?}");
        }
    }

    /// Hostile sizes stay linear: 2 MiB of sections, of keys and of continuations (a
    /// quadratic parser takes far longer than the generous bound, even in debug builds
    /// on a loaded machine).
    #[test]
    fn large_inputs_are_linear() {
        let t0 = std::time::Instant::now();
        let mut sections = String::new();
        let mut keys = String::from("[a]\n");
        let mut cont = String::from("[a]\nk = v\n");
        for i in 0..150_000 {
            sections.push_str(&format!("[s{i}]\n"));
            keys.push_str(&format!("k{i} = v\n"));
            cont.push_str(" x\n");
        }
        assert_eq!(parse_oslo(&sections).unwrap().sections.len(), 150_000);
        assert_eq!(parse_paste(&sections).unwrap().sections.len(), 150_000);
        assert_eq!(parse_oslo(&keys).unwrap().entries.len(), 150_000);
        assert_eq!(parse_paste(&keys).unwrap().entries.len(), 150_000);
        assert_eq!(parse_oslo(&cont).unwrap().entries.len(), 1);
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(120),
            "{:?}",
            t0.elapsed()
        );
    }

    #[test]
    fn paste_rules() {
        let t = "[DEFAULT]\nDebug = x\n[pipeline:main]\nPipeline = a b\n    c\n  # c\n[filter:admin_token_auth]\nuse = egg:x\n";
        let ini = parse_paste(t).unwrap();
        assert_eq!(ini.get("pipeline:main", "pipeline"), Some("a b\nc"));
        assert_eq!(ini.get_or_default("pipeline:main", "debug"), Some("x"));
        assert!(ini.has_section("filter:admin_token_auth"));
        assert!(parse_paste("[a]\nx=1\nx=2\n").is_err());
    }
}
