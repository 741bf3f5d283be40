//! Where to connect: db.properties (`db.cloud.host/port/name/username/password`, or
//! `db.cloud.uri`, TLS when `db.cloud.useSSL=true`) with the operator's overrides, and
//! the driver options built from it.

use super::options::{DbOptions, Keys};
use crate::collect::encryption::{self, Plain};
use crate::collect::properties::PropertiesData;
use crate::facts::Missing;
use mysql_async::{OptsBuilder, SslOpts};

/// Where and how to connect. Never printed with the password.
pub struct Target {
    pub host: String,
    pub port: u16,
    pub db: String,
    pub user: String,
    password: Option<Plain>,
    pub tls: bool,
}

impl Target {
    /// Takes host, port, database, TLS (and the user, when `with_user`) from a parsed URL.
    fn apply(&mut self, u: ParsedUrl, with_user: bool) {
        self.host = u.host;
        self.port = u.port.unwrap_or(3306);
        if let Some(d) = u.db {
            self.db = d;
        }
        if let (true, Some(user)) = (with_user, u.user) {
            self.user = user;
        }
        if let Some(s) = u.ssl {
            self.tls = s;
        }
    }

    /// The password, for the driver and for removing it from messages.
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.expose())
    }

    /// Driver options. TLS: with `--db-ca` the server's certificate must chain to that CA
    /// and name the host (authenticated); otherwise, like Connector/J with `useSSL=true`
    /// and no trust store, the channel is encrypted but the server is not authenticated.
    pub fn driver_opts(&self, opts: &DbOptions) -> OptsBuilder {
        let mut b = OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password().map(str::to_string))
            .db_name(Some(self.db.clone()))
            .prefer_socket(false)
            .allow_public_key_retrieval(opts.allow_public_key_retrieval);
        if self.tls {
            let ssl = match &opts.ca_file {
                Some(ca) => SslOpts::default().with_root_certs(vec![ca.clone().into()]),
                None => SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            };
            b = b.ssl_opts(Some(ssl));
        }
        b
    }

    /// `mysql://user@host:port/db` — what facts and messages may show.
    pub fn location(&self) -> String {
        format!(
            "mysql://{}@{}:{}/{}{}",
            self.user,
            self.host,
            self.port,
            self.db,
            if self.tls { "?tls" } else { "" }
        )
    }
}

/// Builds the connection target from db.properties and the operator's overrides.
pub fn target(
    props: Option<&PropertiesData>,
    opts: &DbOptions,
    keys: Option<&Keys>,
) -> Result<Target, Missing> {
    let get = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let mut t = Target {
        host: get("db.cloud.host").unwrap_or("localhost").to_string(),
        port: 3306,
        db: get("db.cloud.name").unwrap_or("cloud").to_string(),
        user: get("db.cloud.username").unwrap_or("cloud").to_string(),
        password: None,
        tls: get("db.cloud.useSSL").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    };
    if let Some(p) = get("db.cloud.port") {
        t.port = p
            .parse()
            .map_err(|_| Missing::unsupported("db.cloud.port is not a port"))?;
    }
    if let Some(uri) = get("db.cloud.uri") {
        // TransactionLegacy: when set, host/port/name/params are ignored.
        let u = parse_url(uri.trim_start_matches("jdbc:"))
            .ok_or_else(|| Missing::unsupported("db.cloud.uri is not a mysql URI"))?;
        // CloudStack's URI carries no user (db.cloud.username still applies).
        t.apply(u, false);
    }
    if props.is_none() && opts.url.is_none() {
        return Err(Missing::not_collected(
            "no db.properties under --root and no --db-url",
        ));
    }
    if let Some(raw) = get("db.cloud.password") {
        match crate::secrets::enc_inner(raw) {
            None => t.password = Some(Plain::new(raw.to_string())),
            Some(ct) => {
                let key = keys.and_then(|k| k.ms_key.get());
                if let Some(k) = key {
                    match encryption::decrypt(k, ct, None) {
                        Ok((p, _)) => t.password = Some(p),
                        Err(e) => {
                            if opts.password.is_none() {
                                return Err(Missing::error(format!(
                                    "cannot decrypt db.cloud.password: {e}"
                                )));
                            }
                        }
                    }
                } else if opts.password.is_none() {
                    let why = keys.map_or("no key".to_string(), |k| k.ms_key.origin.clone());
                    return Err(Missing::not_collected(format!("db.cloud.password is ENC() and the management-server key is unavailable ({why}); give --key-file or a password variable"),
                    ));
                }
            }
        }
    }
    if let Some(url) = &opts.url {
        let u = parse_url(url).ok_or_else(|| {
            Missing::error("--db-url is not of the form mysql://user@host:port/db")
        })?;
        if u.had_password {
            return Err(Missing::error(
                "--db-url must not contain a password (use the password environment variable)",
            ));
        }
        t.apply(u, true);
    }
    if let Some(p) = &opts.password {
        t.password = Some(Plain::new(p.expose().to_string()));
    }
    if opts.ca_file.is_some() {
        t.tls = true;
    }
    Ok(t)
}

struct ParsedUrl {
    user: Option<String>,
    had_password: bool,
    host: String,
    port: Option<u16>,
    db: Option<String>,
    ssl: Option<bool>,
}

/// `mysql://[user[:pw]@]host[:port][,host2...][/db][?k=v&...]`.
fn parse_url(s: &str) -> Option<ParsedUrl> {
    let rest = s
        .strip_prefix("mysql://")
        .or_else(|| s.strip_prefix("mariadb://"))?;
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (auth_host, db) = match main.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (main, None),
    };
    let (auth, hosts) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, auth_host),
    };
    let (user, had_password) = match auth {
        Some(a) => match a.split_once(':') {
            Some((u, _)) => (Some(u.to_string()), true),
            None => (Some(a.to_string()), false),
        },
        None => (None, false),
    };
    let first = hosts.split(',').next()?.trim();
    let (host, port) = if let Some(h) = first.strip_prefix('[') {
        let (h, p) = h.split_once(']')?;
        (
            h.to_string(),
            p.strip_prefix(':')
                .map(|p| p.parse().ok())
                .unwrap_or(Some(3306)),
        )
    } else {
        match first.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
            None => (first.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let mut ssl = None;
    for kv in query.unwrap_or("").split('&') {
        if let Some((k, v)) = kv.split_once('=') {
            let on = v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("required");
            match k.to_ascii_lowercase().as_str() {
                "usessl" | "ssl" | "tls" | "require_ssl" => ssl = Some(on),
                "sslmode" => ssl = Some(!v.eq_ignore_ascii_case("disabled")),
                _ => {}
            }
        }
    }
    Some(ParsedUrl {
        user: user.filter(|u| !u.is_empty()),
        had_password,
        host,
        port,
        db: db.map(str::to_string).filter(|d| !d.is_empty()),
        ssl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("mysql://cloud@db.example:3307/cloud?useSSL=true").unwrap();
        assert_eq!(
            (
                u.user.as_deref(),
                u.host.as_str(),
                u.port,
                u.db.as_deref(),
                u.ssl,
                u.had_password
            ),
            (
                Some("cloud"),
                "db.example",
                Some(3307),
                Some("cloud"),
                Some(true),
                false
            )
        );
        assert!(parse_url("mysql://cloud:pw@h/cloud").unwrap().had_password);
        let j = parse_url("mysql://h1:3306,h2:3306/cloud?prepStmtCacheSize=517").unwrap();
        assert_eq!((j.host.as_str(), j.port), ("h1", Some(3306)));
        assert!(parse_url("postgres://x").is_none());
    }
}
