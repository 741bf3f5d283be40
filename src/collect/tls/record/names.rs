//! `tls.<label>.names`: whether an endpoint's certificate names what its clients really
//! connect to. Each endpoint has its own clients and so its own expected names:
//!
//! - `https` (8443, users, API clients, remote components): the host of an https://
//!   `endpoint.url` (the API address CloudStack hands out, ApiServiceConfiguration.java),
//!   else (on loopback, or http://) the management server's own host names
//!   (`--host`, else `/etc/hostname` under `--root`);
//! - `agent` (8250, agents and system VMs): one of the addresses in `host` (a CSV list:
//!   every management server of the zone, ApiServiceConfiguration.java);
//! - `cluster` (9090, the other management servers): `cluster.node.IP` of db.properties
//!   (127.0.0.1 when unset, ClusterManagerImpl.java);
//! - any endpoint given with `--endpoint`: the host given (the name the operator says its
//!   clients use), as well.
//!
//! Names on loopback (`localhost`, 127.0.0.0/8, ::1) are not names remote clients use and
//! are left out. Each group of names must be matched by at least one of its names (DNS
//! names against DNS SANs with single-label wildcards, IP literals against IP SANs, the CN
//! only when the certificate has no SAN). A name that comes from the database and could
//! not be read leaves the answer unknown, never "nothing to compare".

use super::super::cert::{self, CertInfo};
use super::super::targets::{LABEL_AGENT, LABEL_CLUSTER, LABEL_HTTPS};
use super::{Layers, Out};
use crate::facts::Missing;
use serde_json::{json, Value};

/// Names its clients use, from one source: matched when the certificate names any of them.
#[derive(Debug, Clone, PartialEq)]
pub(in super::super) struct Group {
    pub from: String,
    pub names: Vec<String>,
}

/// Defaults of the settings the names come from (CloudStack's code defaults).
const ENDPOINT_URL_DEFAULT: &str = "http://localhost:8080/client/api";
const HOST_DEFAULT: &str = "localhost";
const CLUSTER_NODE_IP_DEFAULT: &str = "127.0.0.1";

/// Whether `name` is only reachable from the server itself.
pub(in super::super) fn is_loopback(name: &str) -> bool {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = n.parse::<std::net::IpAddr>() {
        return ip.is_loopback() || ip.is_unspecified();
    }
    n == "localhost" || n.ends_with(".localhost") || n == "localhost.localdomain"
}

/// The host of a URL (`scheme://[user@]host[:port]/...`), `[v6]` unbracketed.
pub(in super::super) fn url_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?;
    let hp = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = if let Some(v6) = hp.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        hp.split(':').next()?
    };
    let host = host.trim();
    (!host.is_empty()).then(|| host.to_string())
}

/// A setting's value: the fact's text, its default when known absent, or why unknown.
fn setting(look: &Layers, key: &str, default: &str) -> Result<String, Missing> {
    match look.value(key) {
        Ok(Value::String(s)) => Ok(s),
        Ok(Value::Null) => Ok(default.to_string()),
        Ok(v) => Ok(v.to_string()),
        Err(m) if m.reason.is_known_absent() => Ok(default.to_string()),
        Err(m) => Err(m.context(&format!("{key} (the name clients use) is not known"))),
    }
}

/// `endpoint.url`, or on releases before 4.17 its former name `endpointe.url` (renamed by
/// engine/schema/src/main/resources/META-INF/db/schema-41610to41700.sql; see
/// checks/cloudstack/setting-history.toml): the former row is read only when the new one is
/// known absent.
fn endpoint_url(look: &Layers) -> Result<String, Missing> {
    const NEW: &str = "cs.setting.endpoint.url";
    match look.value(NEW) {
        Err(m) if m.reason.is_known_absent() => match look.value("cs.setting.endpointe.url") {
            Ok(Value::String(s)) => Ok(s),
            _ => Ok(ENDPOINT_URL_DEFAULT.to_string()),
        },
        _ => setting(look, NEW, ENDPOINT_URL_DEFAULT),
    }
}

fn group(from: &str, names: impl IntoIterator<Item = String>) -> Option<Group> {
    let mut names: Vec<String> = names
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && !is_loopback(n))
        .collect();
    names.dedup();
    (!names.is_empty()).then(|| Group {
        from: from.to_string(),
        names,
    })
}

/// The names the clients of an endpoint use: the groups known, and why another could not
/// be known (a setting from a database that could not be read).
#[derive(Debug, Clone, PartialEq)]
pub(in super::super) struct Expected {
    pub groups: Vec<Group>,
    pub unknown: Option<Missing>,
}

/// The names the clients of endpoint `label` use. `given`: the host of an `--endpoint`
/// with this label; `own`: the management server's own host names.
pub(in super::super) fn expected(
    label: &str,
    given: Option<&str>,
    own: &[String],
    look: &Layers,
) -> Expected {
    let mut groups = Vec::new();
    let source = match label {
        LABEL_HTTPS => {
            endpoint_url(look).and_then(|url| {
                let host = url_host(&url).ok_or_else(|| {
                    Missing::error("cs.setting.endpoint.url has no host (not a URL)")
                })?;
                // An http:// endpoint.url sends its clients to plain HTTP, not to this
                // port (CS-XS-001's finding): its host is not a name 8443's clients use.
                let tls = url.trim().to_ascii_lowercase().starts_with("https://");
                Ok(tls.then(|| group("host of endpoint.url", [host])).flatten())
            })
        }
        LABEL_AGENT => setting(look, "cs.setting.host", HOST_DEFAULT)
            .map(|h| group("`host` setting", h.split(',').map(str::to_string))),
        LABEL_CLUSTER => setting(look, "props.db.cluster.node.IP", CLUSTER_NODE_IP_DEFAULT)
            .map(|ip| group("cluster.node.IP in db.properties", [ip])),
        _ => Ok(None),
    };
    let unknown = match source {
        Ok(g) => {
            groups.extend(g);
            None
        }
        Err(m) => Some(m),
    };
    groups.extend(group("--endpoint", given.map(str::to_string)));
    // Only when endpoint.url is known to be on loopback: the server's own names.
    if label == LABEL_HTTPS && groups.is_empty() && unknown.is_none() {
        groups.extend(group("host name of the management server", own.to_vec()));
    }
    Expected { groups, unknown }
}

/// Records `names` for an endpoint whose leaf is `leaf`: the groups, what the certificate
/// carries, and each group it does not name. A group not named is decisive even when
/// another could not be known; otherwise an unknown group leaves `names` unknown.
pub(in super::super) fn record(leaf: &Value, exp: Expected, o: &mut Out) {
    let Expected { groups, unknown } = exp;
    if groups.is_empty() {
        let m = unknown.unwrap_or_else(|| {
            Missing::absent(
                "no name its clients use is known (the configured names are on loopback)",
            )
        });
        return o.missing("names", m);
    }
    let Ok(info) = serde_json::from_value::<CertInfo>(leaf.clone()) else {
        return o.missing("names", Missing::error("the leaf could not be read back"));
    };
    let cn: Vec<&str> = info
        .subject
        .split(',')
        .filter_map(|p| p.trim().strip_prefix("CN="))
        .collect();
    let mut expected = Vec::new();
    let mut mismatches = Vec::new();
    for g in &groups {
        let matched: Vec<&String> = g
            .names
            .iter()
            .filter(|n| cert::name_matches(&info, n))
            .collect();
        if matched.is_empty() {
            mismatches.push(format!("{} ({})", g.names.join(" or "), g.from));
        }
        expected.push(json!({ "from": g.from, "names": g.names, "matched": matched }));
    }
    if let (true, Some(m)) = (mismatches.is_empty(), &unknown) {
        return o.missing("names", m.clone());
    }
    let mut v = json!({
        "expected": expected,
        "certificate": { "dns": info.san_dns, "ip": info.san_ip, "cn": cn },
        "matches": mismatches.is_empty(),
        "mismatches": mismatches,
    });
    if let Some(m) = unknown {
        // A mismatch was found anyway; say which names could not be compared.
        v["not_compared"] = json!(m.detail);
    }
    o.set("names", v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://cloud.example.org:8443/client/api").as_deref(),
            Some("cloud.example.org")
        );
        assert_eq!(
            url_host("http://u:p@10.0.0.1/x").as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            url_host("https://[2001:db8::1]:8443/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(url_host("cloud.example.org"), None);
        assert_eq!(url_host("https:///x"), None);
        for l in ["localhost", "127.0.0.2", "::1", "LOCALHOST.", "0.0.0.0"] {
            assert!(is_loopback(l), "{l}");
        }
        assert!(!is_loopback("10.0.0.1") && !is_loopback("ms.example.org"));
    }

    #[test]
    fn the_former_name_endpointe_url_is_read_before_4_17() {
        let mut f = Facts::new();
        f.namespace_complete("cs.setting.", "db");
        f.set(
            "cs.setting.endpointe.url",
            "db",
            "https://api.example.net:8443/client/api",
        );
        let look = Layers(vec![&f]);
        let g = expected(LABEL_HTTPS, None, &[], &look).groups;
        assert_eq!(g[0].names, vec!["api.example.net".to_string()]);
        // Both rows: the current name wins.
        f.set(
            "cs.setting.endpoint.url",
            "db",
            "https://new.example.net/client/api",
        );
        let look = Layers(vec![&f]);
        let g = expected(LABEL_HTTPS, None, &[], &look).groups;
        assert_eq!(g[0].names, vec!["new.example.net".to_string()]);
    }

    #[test]
    fn expected_names_per_endpoint() {
        let mut f = Facts::new();
        f.namespace_complete("cs.setting.", "db");
        f.namespace_complete("props.db.", "file");
        let own = vec!["ms1.example.org".to_string()];
        let look = Layers(vec![&f]);
        // Defaults are on loopback: 8443 falls back to the host name, 8250/9090 expect nothing.
        let g = expected(LABEL_HTTPS, Some("127.0.0.1"), &own, &look).groups;
        assert_eq!(g[0].names, own);
        assert!(expected(LABEL_AGENT, None, &own, &look).groups.is_empty());
        assert!(expected(LABEL_CLUSTER, None, &own, &look).groups.is_empty());
        // Plain HTTP: its clients never reach 8443, so the host name is compared.
        f.set(
            "cs.setting.endpoint.url",
            "db",
            "http://10.0.0.10:8080/client/api",
        );
        let g = expected(LABEL_HTTPS, None, &own, &Layers(vec![&f])).groups;
        assert_eq!(g[0].names, own);
        f.set(
            "cs.setting.endpoint.url",
            "db",
            "https://cloud.example.org/client/api",
        );
        f.set("cs.setting.host", "db", "10.0.0.10, 10.0.0.11");
        f.set("props.db.cluster.node.IP", "file", "10.0.0.10");
        let look = Layers(vec![&f]);
        let g = expected(LABEL_HTTPS, Some("ms.example.org"), &own, &look).groups;
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].names, vec!["cloud.example.org"]);
        assert_eq!(g[1].names, vec!["ms.example.org"]);
        let g = expected(LABEL_AGENT, None, &own, &look).groups;
        assert_eq!(g[0].names, vec!["10.0.0.10", "10.0.0.11"]);
        let g = expected(LABEL_CLUSTER, None, &own, &look).groups;
        assert_eq!(g[0].names, vec!["10.0.0.10"]);
        // Not read from the database: unknown, not "nothing to compare".
        let mut u = Facts::new();
        u.namespace_missing(
            "cs.",
            "db",
            crate::facts::MissingReason::Error,
            "connection refused",
        );
        let look = Layers(vec![&u]);
        let e = expected(LABEL_HTTPS, None, &own, &look);
        assert!(e.groups.is_empty(), "no fallback to the host name: {e:?}");
        let m = e.unknown.unwrap();
        assert!(!m.reason.is_known_absent() && m.detail.contains("endpoint.url"));
        assert!(expected(LABEL_AGENT, None, &own, &look).unknown.is_some());
        // The --endpoint name is still compared (a mismatch with it is decisive).
        let e = expected(LABEL_HTTPS, Some("cloud.example.org"), &own, &look);
        assert_eq!(e.groups[0].names, vec!["cloud.example.org"]);
        assert!(e.unknown.is_some());
    }

    #[test]
    fn a_mismatch_is_decisive_even_with_a_name_not_known() {
        let info = CertInfo {
            subject: "CN=ms1.example.org".into(),
            issuer: "CN=ca".into(),
            serial: "01".into(),
            not_before: 0,
            not_after: 1,
            days_left: 0,
            expired: false,
            not_yet_valid: false,
            key_type: "EC".into(),
            key_bits: 256,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            weak_signature: false,
            self_signed: false,
            is_ca: false,
            path_len: None,
            key_usage: vec![],
            ext_key_usage: vec![],
            san_dns: vec!["ms1.example.org".into()],
            san_ip: vec!["10.0.0.10".into()],
            sha256: String::new(),
        };
        let leaf = serde_json::to_value(&info).unwrap();
        let g = |n: &str| Group {
            from: "--endpoint".into(),
            names: vec![n.into()],
        };
        let unknown = Some(Missing::error("endpoint.url: DB unreachable"));
        let run = |groups: Vec<Group>| {
            let mut facts = Facts::new();
            let mut o = Out {
                prefix: "tls.https.".into(),
                src: "t".into(),
                facts: &mut facts,
            };
            record(
                &leaf,
                Expected {
                    groups,
                    unknown: unknown.clone(),
                },
                &mut o,
            );
            facts.get("tls.https.names").unwrap().into_owned()
        };
        let f = run(vec![g("cloud.example.org")]);
        let v = f.value.expect("a mismatch is a value");
        assert_eq!(v["matches"], false);
        assert_eq!(v["mismatches"][0], "cloud.example.org (--endpoint)");
        assert_eq!(v["not_compared"], "endpoint.url: DB unreachable");
        // Every known name matched, one could not be known: unknown, not a pass.
        let f = run(vec![g("10.0.0.10")]);
        assert_eq!(f.missing.unwrap().detail, "endpoint.url: DB unreachable");
    }
}
