//! Differential test: our `.properties` parser against `java.util.Properties.load`
//! (the JDK on the machine is the oracle) on tricky inputs.

mod common;

use stackposture::collect::properties::{parse, PropertiesData};
use std::collections::BTreeMap;
use std::process::Command;

const CASES: &[&[u8]] = &[
    b"a=1\nb:2\nc 3\nd\t4\ne = 5 \nf\\\n   continued\n",
    b"# comment\n! bang comment\n   # indented comment\nkey=value\n",
    b"path=C:\\\\dir\\\\file\nx\\=y=z\nk\\:q:w\nsp\\ ace=v\n",
    b"u=\\u00e9\\u2713\\u0041\ntab=a\\tb\\nc\\rd\\fe\n",
    b"dup=first\ndup=second\n",
    b"[section]\nafter=1\n",
    b"trailing=ends with backslash\\\\\nnext=ok\n",
    b"cont=one\\\n\\\n  two\nempty=\nnovalue\n",
    b"db.cloud.url.params=prepStmtCacheSize=517&cachePrepStmts=true&sessionVariables=sql_mode='STRICT_TRANS_TABLES'\n",
    b"latin1=caf\xe9 cr\xe8me\nwin=\xa3\xff\n",
    b"crlf=1\r\nother=2\r\ncont=a\\\r\n  b\r\n",
    b"   leading.ws = v\n\tkey2\t=\tv2\t\n",
    b"odd\\\\\\\n  x=1\n",
    b"colon:=value\neq=:value\nws   =   value  \n",
    b"last=no newline at end",
    b"k=v\\",
    b"x\\u0020y=1\nz=\\q\\w\n",
    b"https.keystore.password=ENC(abc\\=\\=)\ndb.cloud.password=ENC(Zm9v+/==)\n",
];

/// Runs the Java oracle once over all inputs (one JVM start).
fn java_parse_all(
    java: &str,
    dir: &std::path::Path,
    inputs: &[&[u8]],
) -> Vec<BTreeMap<String, String>> {
    let files: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let f = dir.join(format!("in{i}.properties"));
            std::fs::write(&f, input).unwrap();
            f
        })
        .collect();
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/oracles/PropsOracle.java"
    );
    let out = Command::new(java)
        .arg(src)
        .args(&files)
        .output()
        .expect("run java");
    assert!(
        out.status.success(),
        "java failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unhex = |h: &str| -> String {
        if h == "-" {
            return String::new();
        }
        let bytes: Vec<u8> = (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect();
        String::from_utf8(bytes).unwrap()
    };
    let mut all: Vec<BTreeMap<String, String>> = Vec::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        if l.starts_with("== ") {
            all.push(BTreeMap::new());
        } else {
            let (k, v) = l.split_once(' ').unwrap();
            all.last_mut().unwrap().insert(unhex(k), unhex(v));
        }
    }
    assert_eq!(all.len(), inputs.len());
    all
}

#[test]
fn parser_matches_java_util_properties() {
    let Some(java) = common::tool("java") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    let java_results = java_parse_all(&java, dir.path(), CASES);
    for (i, (case, want)) in CASES.iter().zip(java_results).enumerate() {
        let got: BTreeMap<String, String> = match parse(case) {
            Ok(props) => {
                let d = PropertiesData::from_props("t", props);
                d.keys()
                    .map(|k| (k.to_string(), d.get(k).unwrap().to_string()))
                    .collect()
            }
            Err(e) => {
                mismatches.push(format!("case {i}: we failed ({e}), java gave {want:?}"));
                continue;
            }
        };
        if got != want {
            mismatches.push(format!("case {i}:\n  java: {want:?}\n  ours: {got:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
