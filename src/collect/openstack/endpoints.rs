//! The API endpoints an OpenStack host's configuration names, for the TLS collector:
//! keystone (`[keystone_authtoken] www_authenticate_uri` of every service) and glance
//! (`[glance] api_servers` of nova, `glance_api_servers` of cinder). Only `https://` URLs
//! are probed (a plain-HTTP URL already fails its configuration check); each distinct
//! host:port once, labelled `os-keystone`, `os-keystone-2`, ..., `os-glance`, ...
//! They are probed only when the deployment is (`--root /`, or `--probe-deployment yes`).

use crate::collect::tls::EndpointSpec;
use crate::facts::Facts;

/// (label base, fact keys holding URLs).
const SOURCES: &[(&str, &[&str])] = &[
    (
        "os-keystone",
        &[
            "os.ini.keystone_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.nova_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.cinder_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.glance_api_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.manila_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.neutron_conf.keystone_authtoken.www_authenticate_uri",
            "os.ini.barbican_conf.keystone_authtoken.www_authenticate_uri",
        ],
    ),
    (
        "os-glance",
        &[
            "os.ini.nova_conf.glance.api_servers",
            "os.ini.cinder_conf.DEFAULT.glance_api_servers",
        ],
    ),
];

/// At most this many endpoints per label base (a hostile file cannot fan out probes).
const MAX_PER_BASE: usize = 4;

/// `https://host[:port][/...]` -> (host, port); `None` for anything else.
pub fn https_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.trim();
    let rest = rest
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &rest[8..])?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6.split_once(']')?;
        (h, p.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?,
        None => 443,
    };
    (!host.is_empty() && host.len() <= 253 && !host.contains(char::is_whitespace))
        .then(|| (host.to_string(), port))
}

/// The endpoints to probe, from the facts collected so far.
pub fn tls_endpoints(facts: &Facts) -> Vec<EndpointSpec> {
    let mut out: Vec<EndpointSpec> = Vec::new();
    for (base, keys) in SOURCES {
        let mut n = 0;
        for k in *keys {
            let Some(v) = facts.get(k).and_then(|f| f.value.clone()) else {
                continue;
            };
            for url in v.as_str().unwrap_or_default().split(',') {
                let Some((host, port)) = https_host_port(url) else {
                    continue;
                };
                if out.iter().any(|e| e.host == host && e.port == port) || n >= MAX_PER_BASE {
                    continue;
                }
                n += 1;
                let label = if n == 1 {
                    base.to_string()
                } else {
                    format!("{base}-{n}")
                };
                out.push(EndpointSpec { label, host, port });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            https_host_port("https://keystone.example:5000/v3"),
            Some(("keystone.example".into(), 5000))
        );
        assert_eq!(https_host_port("HTTPS://k"), Some(("k".into(), 443)));
        assert_eq!(
            https_host_port("https://[::1]:5000"),
            Some(("::1".into(), 5000))
        );
        assert_eq!(https_host_port("https://u:p@k:1/x"), Some(("k".into(), 1)));
        assert_eq!(https_host_port("http://k:5000"), None);
        assert_eq!(https_host_port("https://k:0"), None);
        assert_eq!(https_host_port("https://k:99999"), None);
        assert_eq!(https_host_port("https://"), None);
    }
}
