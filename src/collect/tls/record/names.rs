//! `tls.<label>.names`: whether an endpoint's certificate names what its clients really
//! connect to. Each endpoint has its own clients and so its own expected names:
//!
//! - `https` (8443, users, API clients, remote components): the host of `endpoint.url`
//!   (the API address CloudStack hands out, ApiServiceConfiguration.java), else the
//!   management server's own host names (`/etc/hostname` under `--root`);
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

/// The names the clients of endpoint `label` use. `given`: the host of an `--endpoint`
/// with this label; `own`: the management server's own host names. `Ok(empty)`: no name
/// is known (all on loopback); `Err`: a source of the names could not be read.
pub(in super::super) fn expected(
    label: &str,
    given: Option<&str>,
    own: &[String],
    look: &Layers,
) -> Result<Vec<Group>, Missing> {
    let mut out = Vec::new();
    match label {
        LABEL_HTTPS => {
            let url = setting(look, "cs.setting.endpoint.url", ENDPOINT_URL_DEFAULT)?;
            let host = url_host(&url).ok_or_else(|| {
                Missing::error("cs.setting.endpoint.url has no host (not a URL)".to_string())
            })?;
            out.extend(group("host of endpoint.url", [host]));
        }
        LABEL_AGENT => {
            let hosts = setting(look, "cs.setting.host", HOST_DEFAULT)?;
            out.extend(group(
                "`host` setting",
                hosts.split(',').map(str::to_string),
            ));
        }
        LABEL_CLUSTER => {
            let ip = setting(look, "props.db.cluster.node.IP", CLUSTER_NODE_IP_DEFAULT)?;
            out.extend(group("cluster.node.IP in db.properties", [ip]));
        }
        _ => {}
    }
    out.extend(group("--endpoint", given.map(str::to_string)));
    if label == LABEL_HTTPS && out.is_empty() {
        out.extend(group("host name of the management server", own.to_vec()));
    }
    Ok(out)
}

/// Records `names` for an endpoint whose leaf is `leaf`: the groups, what the certificate
/// carries, and each group it does not name.
pub(in super::super) fn record(leaf: &Value, groups: Result<Vec<Group>, Missing>, o: &mut Out) {
    let groups = match groups {
        Ok(g) if g.is_empty() => {
            return o.missing(
                "names",
                Missing::absent(
                    "no name its clients use is known (the configured names are on loopback)",
                ),
            )
        }
        Ok(g) => g,
        Err(m) => return o.missing("names", m),
    };
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
    o.set(
        "names",
        json!({
            "expected": expected,
            "certificate": { "dns": info.san_dns, "ip": info.san_ip, "cn": cn },
            "matches": mismatches.is_empty(),
            "mismatches": mismatches,
        }),
    );
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
    fn expected_names_per_endpoint() {
        let mut f = Facts::new();
        f.namespace_complete("cs.setting.", "db");
        f.namespace_complete("props.db.", "file");
        let own = vec!["ms1.example.org".to_string()];
        let look = Layers(vec![&f]);
        // Defaults are on loopback: 8443 falls back to the host name, 8250/9090 expect nothing.
        let g = expected(LABEL_HTTPS, Some("127.0.0.1"), &own, &look).unwrap();
        assert_eq!(g[0].names, own);
        assert!(expected(LABEL_AGENT, None, &own, &look).unwrap().is_empty());
        assert!(expected(LABEL_CLUSTER, None, &own, &look)
            .unwrap()
            .is_empty());
        f.set(
            "cs.setting.endpoint.url",
            "db",
            "https://cloud.example.org/client/api",
        );
        f.set("cs.setting.host", "db", "10.0.0.10, 10.0.0.11");
        f.set("props.db.cluster.node.IP", "file", "10.0.0.10");
        let look = Layers(vec![&f]);
        let g = expected(LABEL_HTTPS, Some("ms.example.org"), &own, &look).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].names, vec!["cloud.example.org"]);
        assert_eq!(g[1].names, vec!["ms.example.org"]);
        let g = expected(LABEL_AGENT, None, &own, &look).unwrap();
        assert_eq!(g[0].names, vec!["10.0.0.10", "10.0.0.11"]);
        let g = expected(LABEL_CLUSTER, None, &own, &look).unwrap();
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
        let e = expected(LABEL_HTTPS, None, &own, &look).unwrap_err();
        assert!(!e.reason.is_known_absent() && e.detail.contains("endpoint.url"));
        assert!(expected(LABEL_AGENT, None, &own, &look).is_err());
    }
}
