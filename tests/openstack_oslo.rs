//! Differential test of the oslo.config INI reader (src/collect/openstack/ini.rs) against
//! Python's oslo.config (PyPI `oslo.config`, installed by .ci/run) on the same files.
//!
//! Compared: what `oslo_config.cfg.ConfigParser` parses (normalised group names, every
//! value of every key, or a parse error), and what `ConfigOpts` returns for a few
//! registered options (no `[DEFAULT]` fallback for group options, case-sensitive
//! option names, last value wins). Known differences (also in docs/openstack.md):
//! * `$name` / `${group.name}` substitution: oslo.config expands it at lookup; the
//!   collector does not and reports such an option as unknown (not compared here).
//! * Files oslo.config cannot decode (not UTF-8 under the locale): a decode error there,
//!   `unsupported` here (not compared).

mod common;

use serde_json::{json, Map, Value};
use stackposture::collect::openstack::ini;
use std::process::Command;

/// Tricky inputs: (name, text).
const CASES: &[(&str, &str)] = &[
    ("basic", "[DEFAULT]\ndebug = true\n[database]\nconnection = sqlite://\n"),
    ("repeated", "[DEFAULT]\nx = 1\nx = 2\n[a]\nx = 3\n[DEFAULT]\nx = 4\n"),
    ("continuation", "[a]\nk = one\n  two\n\tthree\n\nafter = 1\nm = x\n    \ny = 2\n"),
    ("comments", "# top\n; semi\n[a]\n# c\nk = v # not a comment\nj = v ; nor this\n"),
    ("indented-comment", "[a]\nk = v\n  # continues the value\n"),
    ("quotes", "[a]\nd = \"double\"\ns = 'single'\nm = \"mixed'\nq = \"\nin = a \"b\" c\ne = ''\n"),
    ("delimiters", "[a]\nk: v = w\nj = v: w\nurl = http://h:5000/v3\nc:d\n"),
    ("case", "[Keystone_AuthToken]\nInsecure = True\ninsecure = false\n[default]\nx = 1\n[DEFAULT]\nx = 2\n[DeFault]\nx = 3\n"),
    ("crlf", "[a]\r\nk = v\r\nm = 1\r\n  2\r\n"),
    ("cr-only", "[a]\rk = v\rj = w\r"),
    ("unicode-space", "[a]\nk =\u{a0}v\u{a0}\nj = w\u{1c}\n\u{2003}x = 1\n"),
    ("spaced-section", "[ Spaced ]\nk = v\n"),
    ("empty-values", "[a]\nk =\nj=\nl = \"\"\n"),
    ("reopened", "[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\n"),
    ("trailing-ws", "[a]   \nk = v   \t\n"),
    ("no-trailing-newline", "[a]\nk = v"),
    ("err-key-before-section", "k = v\n[a]\n"),
    ("err-stray-line", "[a]\nthis is not an option\n"),
    ("err-section-comment", "[a] # c\nk = v\n"),
    ("err-empty-section", "[]\nk = v\n"),
    ("err-empty-key", "[a]\n= v\n"),
    ("err-orphan-continuation", "[a]\n\n  orphan\n"),
    ("err-unclosed-section", "[a\nk = v\n"),
    ("err-bom", "\u{feff}[DEFAULT]\nk = v\n"),
    ("nul-and-controls", "[a]\nk = v\u{0}w\nj = \u{7}\n"),
    ("many-equals", "[a]\nk = a=b=c\nurl=https://h/?x=1&y=2\n"),
];

const PY: &str = r#"
import json, sys
from oslo_config import cfg
out = {}
for path in sys.argv[1:]:
    sections, normalized = {}, {}
    p = cfg.ConfigParser(path, sections)
    p._add_normalized(normalized)
    try:
        p.parse()
        out[path] = {"ok": normalized}
    except Exception as e:
        out[path] = {"error": type(e).__name__}
print(json.dumps(out))
"#;

/// What our reader gives, shaped like oslo.config's `normalized` dict.
fn ours(text: &str) -> Value {
    match ini::parse_oslo(text) {
        Err(_) => json!({"error": true}),
        Ok(i) => {
            let mut m = Map::new();
            for s in &i.sections {
                m.insert(s.clone(), json!({}));
            }
            for e in &i.entries {
                let sect = m.entry(e.section.clone()).or_insert(json!({}));
                let list = sect
                    .as_object_mut()
                    .unwrap()
                    .entry(e.key.clone())
                    .or_insert(json!([]));
                list.as_array_mut().unwrap().push(json!(e.value));
            }
            json!({ "ok": m })
        }
    }
}

#[test]
fn parser_agrees_with_oslo_config() {
    let Some(py) = common::python_with("oslo_config") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in CASES {
        let p = dir.path().join(format!("{name}.conf"));
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let o = Command::new(&py)
        .arg("-c")
        .arg(PY)
        .args(&paths)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut diffs = Vec::new();
    for ((name, text), p) in CASES.iter().zip(&paths) {
        let t = &theirs[p.to_str().unwrap()];
        let u = ours(text);
        let same = match (t.get("ok"), u.get("ok")) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        if !same {
            diffs.push(format!("{name}: oslo.config {t}\n  ours {u}"));
        }
        // Every error case is an error for both (the list is not vacuous).
        if name.starts_with("err-") {
            assert!(u.get("error").is_some(), "{name} should be refused");
        }
    }
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
}

const LOOKUP_PY: &str = r#"
import json, sys
from oslo_config import cfg
c = cfg.ConfigOpts()
c.register_opts([cfg.StrOpt('insecure'), cfg.StrOpt('www_authenticate_uri')], group='keystone_authtoken')
c.register_opts([cfg.StrOpt('debug'), cfg.StrOpt('auth_strategy'), cfg.StrOpt('insecure')])
c.register_opts([cfg.StrOpt('auth_strategy')], group='api')
c([], default_config_files=[sys.argv[1]])
print(json.dumps({
  "keystone_authtoken.insecure": c.keystone_authtoken.insecure,
  "keystone_authtoken.www_authenticate_uri": c.keystone_authtoken.www_authenticate_uri,
  "DEFAULT.debug": c.debug,
  "DEFAULT.auth_strategy": c.auth_strategy,
  "api.auth_strategy": c.api.auth_strategy,
}))
"#;

/// Option lookup: no [DEFAULT] fallback for a group option, option names are
/// case-sensitive (`Debug` is not `debug`, `auth-strategy` is not `auth_strategy`), group
/// names fold to lower case except `DEFAULT`, the last value wins.
#[test]
fn lookup_agrees_with_oslo_config() {
    let Some(py) = common::python_with("oslo_config") else {
        return;
    };
    let text = "[DEFAULT]\ninsecure = true\nDebug = true\nauth-strategy = noauth\n\
                [default]\nauth_strategy = noauth2\n[KEYSTONE_AUTHTOKEN]\n\
                www_authenticate_uri = http://a\nwww_authenticate_uri = https://b\n[API]\nauth_strategy = keystone\n";
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.conf");
    std::fs::write(&p, text).unwrap();
    let o = Command::new(&py)
        .arg("-c")
        .arg(LOOKUP_PY)
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Value = serde_json::from_slice(&o.stdout).unwrap();
    let i = ini::parse_oslo(text).unwrap();
    for (k, v) in theirs.as_object().unwrap() {
        let (s, opt) = k.split_once('.').unwrap();
        assert_eq!(
            i.get(s, opt).map(str::to_string),
            v.as_str().map(str::to_string),
            "{k}"
        );
    }
    assert_eq!(theirs["keystone_authtoken.insecure"], Value::Null);
    assert_eq!(
        theirs["keystone_authtoken.www_authenticate_uri"],
        "https://b"
    );
}
