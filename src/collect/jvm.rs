//! JVM settings of the management and usage servers, read from files under `--root`:
//! remote debugging (JDWP) and the heap-dump directory from
//! `/etc/default/cloudstack-{management,usage}` (`jvm.management`, `jvm.usage`), and the
//! TLS protocols `java.security.ciphers` disables (`jvm.tls.*`). Run by the files
//! collector, which also lists the heap-dump directories found here.

use super::files::{read_text, src};
use crate::facts::{Fact, Facts, MissingReason};
use crate::rootfs::RootFs;
use serde_json::{json, Map, Value};

/// Records the `jvm.*` facts; returns the heap-dump directories other than `log_dir`.
pub fn collect(fs: &RootFs, facts: &mut Facts, log_dir: &str) -> Vec<String> {
    let dirs = collect_options(fs, facts, log_dir);
    collect_ciphers(fs, facts);
    dirs
}

/// JVM options (JDWP, heap-dump directory) of both services; returns the heap-dump
/// directories outside the log directory.
fn collect_options(fs: &RootFs, facts: &mut Facts, log_dir: &str) -> Vec<String> {
    let mut dump_dirs = Vec::new();
    for (svc, path) in [
        ("management", "/etc/default/cloudstack-management"),
        ("usage", "/etc/default/cloudstack-usage"),
    ] {
        match read_text(fs, path) {
            Ok(t) => {
                let v = jvm_options(&t);
                if let Some(d) = v["heap_dump_path"].as_str() {
                    let d = d.trim_end_matches('/');
                    if d.starts_with('/') && d != log_dir && !dump_dirs.iter().any(|x| x == d) {
                        dump_dirs.push(d.to_string());
                    }
                }
                facts.set(format!("jvm.{svc}"), &src(path), v);
            }
            Err(f) => facts.insert(format!("jvm.{svc}"), f),
        }
    }
    dump_dirs
}

/// `jdk.tls.disabledAlgorithms` of java.security.ciphers.
fn collect_ciphers(fs: &RootFs, facts: &mut Facts) {
    let ciphers = "/etc/cloudstack/management/java.security.ciphers";
    let found = read_text(fs, ciphers).and_then(|t| {
        let props = super::properties::parse(t.as_bytes()).map_err(|e| {
            Fact::missing(
                src(ciphers),
                MissingReason::Unsupported,
                format!("{ciphers}: {e}"),
            )
        })?;
        let last = props.iter().rev();
        match last
            .into_iter()
            .find(|p| p.key == "jdk.tls.disabledAlgorithms")
        {
            Some(p) => Ok((p.value.clone(), p.line)),
            // The file overrides java.security but sets no disabled list: the JDK's own
            // default list applies (which disables TLSv1/1.1 on current JDKs); not
            // decided here.
            None => Err(Fact::absent(
                src(ciphers),
                "java.security.ciphers sets no jdk.tls.disabledAlgorithms",
            )),
        }
    });
    let (disabled, legacy) = match found {
        Ok((val, line)) => {
            let s = format!("{}:{line}", src(ciphers));
            let list: Vec<Value> = val
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| json!(x))
                .collect();
            (
                Fact::value(&s, list),
                Fact::value(&s, json!(legacy_tls_allowed(&val))),
            )
        }
        Err(f) => (f.clone(), f),
    };
    facts.insert("jvm.tls.disabled_algorithms", disabled);
    facts.insert("jvm.tls.legacy_protocols_enabled", legacy);
}

/// A shell-style `KEY="value"` file as systemd's `EnvironmentFile=` reads it (last
/// assignment wins, `#` comments, optional quotes, optional `export`).
pub fn parse_env_file(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string(), n + 1));
    }
    out
}

/// What `/etc/default/cloudstack-{management,usage}` says about remote debugging (JDWP)
/// and heap dumps. `JAVA_DEBUG` (and `JAVA_OPTS`) reach the java command line through the
/// systemd units (`packaging/systemd/cloudstack-*.service`).
pub fn jvm_options(text: &str) -> Value {
    let vars = parse_env_file(text);
    let last = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _, _)| k == name)
            .map(|(_, v, l)| (v.clone(), *l))
    };
    let mut jdwp: Option<(String, usize, &str)> = None;
    for var in ["JAVA_DEBUG", "JAVA_OPTS"] {
        if let Some((v, l)) = last(var) {
            if let Some(opt) = v
                .split_whitespace()
                .find(|o| o.starts_with("-agentlib:jdwp") || o.starts_with("-Xrunjdwp"))
            {
                jdwp.get_or_insert((opt.to_string(), l, var));
            }
        }
    }
    let heap_dump_path = last("JAVA_OPTS").and_then(|(v, _)| {
        v.split_whitespace()
            .find_map(|o| o.strip_prefix("-XX:HeapDumpPath=").map(str::to_string))
    });
    let mut m = Map::new();
    m.insert("debug_enabled".into(), json!(jdwp.is_some()));
    if let Some((opt, line, var)) = jdwp {
        let address = opt
            .split([':', ','])
            .find_map(|p| p.strip_prefix("address="))
            .map(str::to_string);
        // `address=8000` or `address=*:8000`: the port is after the last colon.
        let addr_full = opt
            .split(',')
            .find_map(|p| p.split_once("address=").map(|(_, a)| a.to_string()))
            .or(address);
        m.insert("debug_option".into(), json!(opt));
        m.insert("debug_variable".into(), json!(var));
        m.insert("debug_line".into(), json!(line));
        m.insert("debug_address".into(), json!(addr_full));
    }
    m.insert("heap_dump_path".into(), json!(heap_dump_path));
    Value::Object(m)
}

/// Which of TLSv1 and TLSv1.1 a `jdk.tls.disabledAlgorithms` value leaves enabled.
pub fn legacy_tls_allowed(disabled: &str) -> Vec<String> {
    let items: Vec<String> = disabled
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    ["TLSv1", "TLSv1.1"]
        .iter()
        .filter(|p| !items.iter().any(|i| *i == p.to_ascii_lowercase()))
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdwp_from_the_shipped_default_file() {
        let shipped = "JAVA_OPTS=\"-Djava.awt.headless=true -XX:HeapDumpPath=/var/log/cloudstack/management/\"\n#JAVA_DEBUG=\"-agentlib:jdwp=transport=dt_socket,address=*:8000,server=y,suspend=n\"\n";
        let v = jvm_options(shipped);
        assert_eq!(v["debug_enabled"], json!(false));
        assert_eq!(
            v["heap_dump_path"],
            json!("/var/log/cloudstack/management/")
        );
        let on = format!("{shipped}JAVA_DEBUG=\"-agentlib:jdwp=transport=dt_socket,address=*:8000,server=y,suspend=n\"\n");
        let v = jvm_options(&on);
        assert_eq!(v["debug_enabled"], json!(true));
        assert_eq!(v["debug_address"], json!("*:8000"));
        assert_eq!(v["debug_line"], json!(3));
        let old =
            "export JAVA_DEBUG='-Xrunjdwp:transport=dt_socket,address=8000,server=y,suspend=n'\n";
        assert_eq!(jvm_options(old)["debug_address"], json!("8000"));
    }

    #[test]
    fn shipped_cipher_list_leaves_tls10_and_11_on() {
        // CloudStack's client/conf/java.security.ciphers.in (at 3d6cafe)
        let shipped = "SSLv2Hello, SSLv3, DH keySize < 128, RSA keySize < 128, DES keySize < 128, SHA1 keySize < 128, MD5 keySize < 128, RC4";
        assert_eq!(legacy_tls_allowed(shipped), vec!["TLSv1", "TLSv1.1"]);
        assert!(legacy_tls_allowed("SSLv3, TLSv1, tlsv1.1, RC4").is_empty());
        assert_eq!(legacy_tls_allowed("SSLv3, TLSv1"), vec!["TLSv1.1"]);
    }
}
