//! Java `.properties` files (`db.properties`, `server.properties`) with the semantics of
//! `java.util.Properties.load(InputStream)`: ISO-8859-1, `=`/`:`/white-space separators,
//! `\` line continuations, `\uXXXX` escapes, `#`/`!` comments, last duplicate wins.
//!
//! Facts: `props.<file>.<key>` for ordinary keys (credentials inside URLs redacted) and
//! `secret.<file>.<key>` for secrets — metadata only, never the value.

use crate::facts::{Facts, MissingReason, SourceStatus};
use crate::rootfs::RootFs;
use crate::secrets::{is_secret_key, redact_inline, SecretFacts};
use java_properties::{LineContent, PropertiesIter};
use std::collections::BTreeMap;

/// One `key=value` as read, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A parse error: the line only (the line's text may hold a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: Option<usize>,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "malformed properties syntax at line {l}"),
            None => f.write_str("malformed properties syntax"),
        }
    }
}

/// Parses bytes the way `Properties.load(InputStream)` does (ISO-8859-1).
pub fn parse(bytes: &[u8]) -> Result<Vec<Prop>, ParseError> {
    // ISO-8859-1 maps every byte to the code point of the same value.
    let mut text: String = bytes.iter().map(|&b| char::from(b)).collect();
    // Java ends a continuation at end of input; the parser we use drops such a final
    // line, so give it the newline it expects (no effect on any other input).
    if !text.is_empty() && !text.ends_with('\n') && !text.ends_with('\r') {
        text.push('\n');
    }
    let mut out = Vec::new();
    for line in PropertiesIter::new_with_encoding(text.as_bytes(), encoding_rs::UTF_8) {
        let line = line.map_err(|e| ParseError {
            line: e.line_number(),
        })?;
        let n = line.line_number();
        if let LineContent::KVPair(key, value) = line.consume_content() {
            out.push(Prop {
                key,
                value,
                line: n,
            });
        }
    }
    Ok(out)
}

/// A properties file held in memory for collectors that need the real values (the DB
/// connection needs the password). Never serialised.
#[derive(Clone, Default)]
pub struct PropertiesData {
    pub path: String,
    map: BTreeMap<String, (String, usize)>,
}

impl std::fmt::Debug for PropertiesData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys only: values may be secrets.
        f.debug_struct("PropertiesData")
            .field("path", &self.path)
            .field("keys", &self.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PropertiesData {
    pub fn from_props(path: &str, props: Vec<Prop>) -> PropertiesData {
        let mut map = BTreeMap::new();
        for p in props {
            map.insert(p.key, (p.value, p.line));
        }
        PropertiesData {
            path: path.to_string(),
            map,
        }
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|(v, _)| v.as_str())
    }
    pub fn line(&self, key: &str) -> Option<usize> {
        self.map.get(key).map(|(_, l)| *l)
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

/// The properties files the auditor reads, with their fact prefix names.
pub const FILES: &[(&str, &str)] = &[
    ("db", "/etc/cloudstack/management/db.properties"),
    ("server", "/etc/cloudstack/management/server.properties"),
];

/// Reads one properties file under the root and records its facts. Returns the data
/// for other collectors, or `None` when it could not be read.
pub fn collect_file(
    fs: &RootFs,
    name: &str,
    path: &str,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> Option<PropertiesData> {
    let source = format!("{name}.properties");
    let (props_ns, secret_ns) = (format!("props.{name}."), format!("secret.{name}."));
    let fail = |facts: &mut Facts, reason: MissingReason, detail: String| {
        facts.source(
            &source,
            SourceStatus::failed("properties", path, reason, detail.clone()),
        );
        let d = format!("{path}: {detail}");
        facts.namespace_missing(&props_ns, &source, reason, d.clone());
        facts.namespace_missing(&secret_ns, &source, reason, d);
    };
    let bytes = match fs.read_capped(path, crate::rootfs::DEFAULT_READ_CAP) {
        Ok(b) => b,
        Err(e) => {
            // A missing file means its keys are unknown, not absent: the checks that read
            // them cannot be decided (a separate check reports the missing file).
            let reason = match e.reason() {
                MissingReason::Absent => MissingReason::NotCollected,
                r => r,
            };
            fail(facts, reason, e.to_string());
            return None;
        }
    };
    let props = match parse(&bytes) {
        Ok(p) => p,
        Err(e) => {
            fail(facts, MissingReason::Unsupported, e.to_string());
            return None;
        }
    };
    let data = PropertiesData::from_props(path, props);
    facts.source(&source, SourceStatus::ok("properties", path));
    facts.namespace_complete(&props_ns, &source);
    facts.namespace_complete(&secret_ns, &source);
    for key in data.keys() {
        let value = data.get(key).unwrap_or_default();
        let line = data.line(key).unwrap_or(0);
        let src = format!("{source}:{line}");
        if is_secret_key(key) {
            let s = SecretFacts::describe(key, value, None, fp_key);
            facts.set(format!("{secret_ns}{key}"), &src, s.to_json());
        } else {
            facts.set(format!("{props_ns}{key}"), &src, redact_inline(value));
        }
    }
    Some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_semantics_basics() {
        let p = parse(
            b"a=1\nb : 2\nc 3\n# x=y\n! z\nd=multi\\\n    line\ne=\\u00e9\nf\\=g=h\na=last\n",
        )
        .unwrap();
        let m = PropertiesData::from_props("t", p);
        assert_eq!(m.get("a"), Some("last"));
        assert_eq!(m.get("b"), Some("2"));
        assert_eq!(m.get("c"), Some("3"));
        assert_eq!(m.get("d"), Some("multiline"));
        assert_eq!(m.get("e"), Some("\u{e9}"));
        assert_eq!(m.get("f=g"), Some("h"));
        assert_eq!(m.get("x"), None);
        assert_eq!(m.line("d"), Some(6));
    }

    #[test]
    fn latin1_bytes() {
        let p = parse(b"k=caf\xe9\n").unwrap();
        assert_eq!(p[0].value, "caf\u{e9}");
    }

    #[test]
    fn malformed_escape_names_line_not_value() {
        let e = parse(b"ok=1\ndb.cloud.password=S3cr3t\\uZZZZ\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(!e.to_string().contains("S3cr3t"));
    }
}
