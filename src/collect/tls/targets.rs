//! Target discovery: the endpoints given with `--endpoint`, and the deployment's own
//! endpoints from the facts collected so far (`props.server.*`, `cs.setting.port`,
//! `props.db.cluster.*`).

use super::record::Layers;

/// Labels the deployment's endpoints get; `--endpoint LABEL=...` may override them.
pub const LABEL_HTTPS: &str = "https";
pub const LABEL_AGENT: &str = "agent";
pub const LABEL_CLUSTER: &str = "cluster";
pub const LABEL_HTTP: &str = "http";
const RESERVED: &[&str] = &["summary", "root_ca"];

/// One endpoint given on the command line: `[LABEL=]HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    pub label: String,
    pub host: String,
    pub port: u16,
}

impl EndpointSpec {
    /// Parses `[LABEL=]HOST:PORT` (`[v6]:port` for IPv6). The default label is
    /// `ep-<host>-<port>` with every character outside `[a-z0-9]` turned into `-`.
    pub fn parse(s: &str) -> Result<EndpointSpec, String> {
        let (label, hp) = match s.split_once('=') {
            Some((l, r)) => (Some(l.trim()), r.trim()),
            None => (None, s.trim()),
        };
        let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
            let (h, p) = rest
                .split_once("]:")
                .ok_or_else(|| format!("{s:?}: expected [IPv6]:PORT"))?;
            (h.to_string(), p)
        } else {
            let (h, p) = hp
                .rsplit_once(':')
                .ok_or_else(|| format!("{s:?}: expected HOST:PORT"))?;
            (h.to_string(), p)
        };
        if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace()) {
            return Err(format!("{s:?}: bad host"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{s:?}: bad port"))?;
        let label = match label {
            Some(l) => {
                if l.is_empty()
                    || l.len() > 40
                    || !l.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    })
                    || RESERVED.contains(&l)
                {
                    return Err(format!(
                        "{s:?}: the label must be [a-z0-9_-]{{1,40}} and not summary/root_ca"
                    ));
                }
                l.to_string()
            }
            None => {
                let h: String = host
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                format!("ep-{h}-{port}")
            }
        };
        Ok(EndpointSpec { label, host, port })
    }
}

/// An endpoint to probe.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub label: String,
    pub host: String,
    pub port: u16,
    /// Plain HTTP (the `http` label) instead of TLS.
    pub plain: bool,
    /// Where the endpoint came from (for the source record).
    pub origin: String,
}

impl Target {
    /// `host:port`, with brackets around an IPv6 literal.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn port_fact(known: &Layers, key: &str, default: u16) -> (u16, String) {
    match known.text(key) {
        Some(s) => match s.parse::<u16>() {
            Ok(p) if p > 0 => (p, key.to_string()),
            _ => (default, format!("default {default} ({key} is not a port)")),
        },
        None => (default, format!("default {default}")),
    }
}

fn is_wildcard(h: &str) -> bool {
    matches!(h, "" | "0.0.0.0" | "::" | "[::]" | "*")
}

/// The endpoints of the deployment, from the facts collected so far.
pub(super) fn deployment_targets(known: &Layers) -> Vec<Target> {
    let bind = known
        .text("props.server.bind.interface")
        .filter(|h| !is_wildcard(h))
        .unwrap_or_else(|| "127.0.0.1".into());
    let mut out = Vec::new();
    let (p, o) = port_fact(known, "props.server.https.port", 8443);
    out.push(Target {
        label: LABEL_HTTPS.into(),
        host: bind.clone(),
        port: p,
        plain: false,
        origin: o,
    });
    let (p, o) = port_fact(known, "props.server.http.port", 8080);
    out.push(Target {
        label: LABEL_HTTP.into(),
        host: bind,
        port: p,
        plain: true,
        origin: o,
    });
    let (p, o) = port_fact(known, "cs.setting.port", 8250);
    out.push(Target {
        label: LABEL_AGENT.into(),
        host: "127.0.0.1".into(),
        port: p,
        plain: false,
        origin: o,
    });
    let (p, o) = port_fact(known, "props.db.cluster.servlet.port", 9090);
    let node = known
        .text("props.db.cluster.node.IP")
        .filter(|h| !is_wildcard(h))
        .unwrap_or_else(|| "127.0.0.1".into());
    out.push(Target {
        label: LABEL_CLUSTER.into(),
        host: node,
        port: p,
        plain: false,
        origin: o,
    });
    out
}

/// The endpoints given with `--endpoint`. Their host is one of the names the certificate
/// must carry (`record/names.rs`, in the deployment step, with the database facts).
pub(super) fn explicit_targets(endpoints: &[EndpointSpec]) -> Vec<Target> {
    endpoints
        .iter()
        .map(|e| Target {
            label: e.label.clone(),
            host: e.host.clone(),
            port: e.port,
            plain: e.label == LABEL_HTTP,
            origin: "--endpoint".into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;

    #[test]
    fn endpoint_specs() {
        let e = EndpointSpec::parse("127.0.0.1:8443").unwrap();
        assert_eq!(e.label, "ep-127-0-0-1-8443");
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 8443));
        let e = EndpointSpec::parse("agent=ms.example.org:8250").unwrap();
        assert_eq!(
            (e.label.as_str(), e.host.as_str()),
            ("agent", "ms.example.org")
        );
        let e = EndpointSpec::parse("[::1]:9090").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9090));
        for bad in [
            "",
            "host",
            "host:0",
            "host:99999",
            "summary=h:1",
            "A B=h:1",
            ":80",
            "[::1]80",
        ] {
            assert!(EndpointSpec::parse(bad).is_err(), "{bad}");
        }
        let t = explicit_targets(&[
            EndpointSpec::parse("http=10.0.0.1:80").unwrap(),
            EndpointSpec::parse("ms.example.org:8443").unwrap(),
        ]);
        assert!(t[0].plain && !t[1].plain);
        assert_eq!(t[1].endpoint(), "ms.example.org:8443");
    }

    #[test]
    fn deployment_endpoints_follow_the_configuration() {
        let mut f = Facts::new();
        f.set("props.server.https.port", "t", "9443");
        f.set("props.server.bind.interface", "t", "10.0.0.5");
        f.set("cs.setting.port", "t", "18250");
        f.namespace_complete("props.db.", "t");
        let t = deployment_targets(&Layers(vec![&f]));
        let by = |l: &str| t.iter().find(|x| x.label == l).unwrap();
        assert_eq!(
            (by("https").host.as_str(), by("https").port),
            ("10.0.0.5", 9443)
        );
        assert_eq!(by("http").port, 8080);
        assert_eq!(by("agent").port, 18250);
        assert_eq!(
            (by("cluster").host.as_str(), by("cluster").port),
            ("127.0.0.1", 9090)
        );
        f.set("props.server.bind.interface", "t", "::");
        assert_eq!(deployment_targets(&Layers(vec![&f]))[0].host, "127.0.0.1");
    }
}
