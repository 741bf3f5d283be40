//! The `cloud` database, read-only, with the credentials the management server uses.
//!
//! Connection: `db.properties` (`db.cloud.host/port/name/username/password`, or
//! `db.cloud.uri` when set; TLS when `db.cloud.useSSL=true`), overridable with
//! `--db-url` (no password in it) and a password from an environment variable. `ENC()`
//! values are decrypted with the management-server key (see [`super::encryption`]).
//! Every step has a timeout; every failure becomes a namespace declared missing with a
//! reason that never holds a password (driver errors are reduced to their kind).
//!
//! Queries (a fixed number, whatever the number of domains, accounts or users): the
//! schema's columns from `information_schema`, `configuration`, two aggregates and two
//! samples over `domain_details`/`account_details`, admin users without 2FA, user 2,
//! `version`, and the server-side facts (`SHOW GRANTS`, `CURRENT_USER()`,
//! variables, `mysql.user`). Facts: see `docs/facts.md`.

use super::encryption::{self, MsKey, Plain, Version};
use super::properties::PropertiesData;
use super::settings::{self, SettingRow, ROOT_CA_CERT};
use crate::facts::{Fact, Facts, MissingReason, SourceStatus};
use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts, Value as MyValue};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Source id of this collector in the facts.
pub const SOURCE: &str = "db";

/// Settings whose per-domain / per-account overrides are collected.
pub const OVERRIDE_KEYS: &[&str] = &[
    "enable.user.2fa",
    "mandate.user.2fa",
    "api.allowed.source.cidr.list",
    "api.key.access",
    "api.source.cidr.checks.enabled",
    "user.2fa.default.provider",
    "password.policy.minimum.length",
    "password.policy.regex",
    "password.policy.allowPasswordToContainUsername",
    "user.allow.multiple.accounts",
];

/// Hidden/Secure rows whose value is fetched and decrypted in memory: the Root CA
/// certificate (public) and the settings that ship default credentials (H10).
fn fetched_secret_names() -> Vec<&'static str> {
    let mut v = vec![ROOT_CA_CERT];
    v.extend(
        settings::DEFAULT_CREDENTIAL_SETTINGS
            .iter()
            .map(|(n, _)| *n),
    );
    v
}

/// How to reach the database, as the operator asked.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// `--no-db`: do not connect.
    pub disabled: bool,
    /// `--db-url mysql://user@host:port/db[?ssl=true|false]` (no password).
    pub url: Option<String>,
    /// Password from the environment variable the operator named.
    pub password: Option<SecretString>,
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
    /// `--key-file`: the management-server key, overriding db.cloud.encryption.type.
    pub key_file: Option<std::path::PathBuf>,
    /// The auditor's `CLOUD_SECRET_KEY` (for `db.cloud.encryption.type=env`).
    pub cloud_secret_key: Option<SecretString>,
    /// `--settings-export FILE`: read settings from an export instead of the database.
    pub settings_export: Option<std::path::PathBuf>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            disabled: false,
            url: None,
            password: None,
            connect_timeout: Duration::from_secs(5),
            query_timeout: Duration::from_secs(5),
            key_file: None,
            cloud_secret_key: None,
            settings_export: None,
        }
    }
}

/// A secret string whose `Debug` does not show it.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: String) -> SecretString {
        SecretString(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(***)")
    }
}

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

/// The key material derived from db.properties, held in memory only.
pub struct Keys {
    pub ms_key: MsKey,
    /// The decrypted `db.cloud.encrypt.secret` (the DB key), or why not.
    pub db_key: Result<Plain, String>,
    pub pinned: Option<Version>,
    /// `db.cloud.encryption.type` is not `none`: Hidden/Secure values are encrypted.
    pub encrypted_at_rest: bool,
}

/// Why a step failed: a fact reason and a message without secrets.
#[derive(Debug, Clone)]
pub struct DbError {
    pub reason: MissingReason,
    pub detail: String,
}

impl DbError {
    fn new(reason: MissingReason, detail: impl Into<String>) -> DbError {
        DbError {
            reason,
            detail: detail.into(),
        }
    }
}

/// Reduces a driver error to something safe to print: the server's error code and
/// message (which names the user, never the password), or the I/O error kind.
fn classify(e: &mysql_async::Error, secrets: &[&str]) -> DbError {
    use mysql_async::{Error as E, IoError};
    let (reason, detail) = match e {
        E::Server(s) => {
            let reason = match s.code {
                1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 1698 => MissingReason::PermissionDenied,
                1049 | 1054 | 1146 => MissingReason::Unsupported,
                1969 | 3024 => MissingReason::Timeout,
                _ => MissingReason::Error,
            };
            (reason, format!("server error {}: {}", s.code, s.message))
        }
        E::Io(IoError::Io(io)) => (
            MissingReason::Error,
            format!("cannot reach the database: {}", io.kind()),
        ),
        E::Io(_) => (
            MissingReason::Error,
            "TLS with the database failed".to_string(),
        ),
        E::Driver(d) => (MissingReason::Error, format!("driver error: {d}")),
        E::Url(_) => (MissingReason::Error, "invalid database URL".to_string()),
        E::Other(_) => (MissingReason::Error, "database error".to_string()),
    };
    DbError::new(reason, sanitize(&detail, secrets))
}

/// Removes every secret occurrence and URL credentials from a message.
pub fn sanitize(msg: &str, secrets: &[&str]) -> String {
    let mut m = msg.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 2) {
        m = m.replace(s, "***");
    }
    let m = crate::secrets::redact_inline(&m);
    m.chars().take(300).collect()
}

/// Builds the connection target from db.properties and the operator's overrides.
pub fn target(
    props: Option<&PropertiesData>,
    opts: &DbOptions,
    keys: Option<&Keys>,
) -> Result<Target, DbError> {
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
            .map_err(|_| DbError::new(MissingReason::Unsupported, "db.cloud.port is not a port"))?;
    }
    if let Some(uri) = get("db.cloud.uri") {
        // TransactionLegacy: when set, host/port/name/params are ignored.
        let u = parse_url(uri.trim_start_matches("jdbc:")).ok_or_else(|| {
            DbError::new(
                MissingReason::Unsupported,
                "db.cloud.uri is not a mysql URI",
            )
        })?;
        // CloudStack's URI carries no user (db.cloud.username still applies).
        t.apply(u, false);
    }
    if props.is_none() && opts.url.is_none() {
        return Err(DbError::new(
            MissingReason::NotCollected,
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
                                return Err(DbError::new(
                                    MissingReason::Error,
                                    format!("cannot decrypt db.cloud.password: {e}"),
                                ));
                            }
                        }
                    }
                } else if opts.password.is_none() {
                    let why = keys.map_or("no key".to_string(), |k| k.ms_key.origin.clone());
                    return Err(DbError::new(
                        MissingReason::NotCollected,
                        format!("db.cloud.password is ENC() and the management-server key is unavailable ({why}); give --key-file or a password variable"),
                    ));
                }
            }
        }
    }
    if let Some(url) = &opts.url {
        let u = parse_url(url).ok_or_else(|| {
            DbError::new(
                MissingReason::Error,
                "--db-url is not of the form mysql://user@host:port/db",
            )
        })?;
        if u.had_password {
            return Err(DbError::new(
                MissingReason::Error,
                "--db-url must not contain a password (use the password environment variable)",
            ));
        }
        t.apply(u, true);
    }
    if let Some(p) = &opts.password {
        t.password = Some(Plain::new(p.expose().to_string()));
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

/// Resolves the MS key and the DB key from db.properties.
pub fn keys(
    fs: &crate::rootfs::RootFs,
    props: &PropertiesData,
    key_file: Option<&std::path::Path>,
    env_key: Option<String>,
) -> Keys {
    let etype = props.get("db.cloud.encryption.type").map(str::trim);
    let ms_key = MsKey::resolve(fs, etype, key_file, env_key);
    let encrypted_at_rest = !matches!(etype.unwrap_or("none"), "none" | "");
    let pinned = Version::pinned(props.get("db.cloud.encryptor.version"));
    let db_key = match props.get("db.cloud.encrypt.secret").map(str::trim) {
        None | Some("") => Err("db.cloud.encrypt.secret is not set".to_string()),
        Some(raw) => match crate::secrets::enc_inner(raw) {
            None => Ok(Plain::new(raw.to_string())),
            Some(ct) => match ms_key.get() {
                Some(k) => encryption::decrypt(k, ct, None)
                    .map(|(p, _)| p)
                    .map_err(|e| format!("cannot decrypt db.cloud.encrypt.secret: {e}")),
                None => Err(format!(
                    "management-server key unavailable: {}",
                    ms_key.origin
                )),
            },
        },
    };
    Keys {
        ms_key,
        db_key,
        pinned: pinned.unwrap_or(None),
        encrypted_at_rest,
    }
}

/// Statistics of one collection, for the benchmark.
#[derive(Debug, Clone, Default)]
pub struct DbStats {
    pub queries: u32,
    pub elapsed: Duration,
    /// The slowest query and its time.
    pub slowest: String,
}

struct Session {
    conn: Conn,
    timeout: Duration,
    queries: u32,
    /// The slowest query (its first words) and its time, for the benchmark.
    slowest: (String, Duration),
    secrets: Vec<String>,
}

impl Session {
    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DbError> {
        self.queries += 1;
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        let t0 = Instant::now();
        let r = tokio::time::timeout(self.timeout, self.conn.query::<Row, _>(sql)).await;
        if t0.elapsed() > self.slowest.1 {
            self.slowest = (sql.chars().take(60).collect(), t0.elapsed());
        }
        match r {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => Err(classify(&e, &secrets)),
            Err(_) => Err(DbError::new(
                MissingReason::Timeout,
                format!("query did not answer within {:?}", self.timeout),
            )),
        }
    }
}

/// A cell as text (the text protocol gives every value as bytes).
fn cell(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        MyValue::NULL => None,
        MyValue::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        MyValue::Int(n) => Some(n.to_string()),
        MyValue::UInt(n) => Some(n.to_string()),
        MyValue::Float(f) => Some(f.to_string()),
        MyValue::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn cell_i64(row: &Row, i: usize) -> Option<i64> {
    cell(row, i).and_then(|s| s.trim().parse().ok())
}

fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Declares every DB namespace missing with one reason.
pub fn all_missing(facts: &mut Facts, location: &str, e: &DbError) {
    facts.source(
        SOURCE,
        SourceStatus::failed("database", location, e.reason, e.detail.clone()),
    );
    for p in ["cs.", "dbserver."] {
        facts.namespace_missing(p, SOURCE, e.reason, e.detail.clone());
    }
}

/// Connects and collects everything. Returns the statistics (also when it failed).
pub fn collect(
    target: &Target,
    opts: &DbOptions,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> DbStats {
    let start = Instant::now();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            all_missing(
                facts,
                &target.location(),
                &DbError::new(MissingReason::Error, format!("runtime: {}", e.kind())),
            );
            return DbStats::default();
        }
    };
    let mut stats = rt.block_on(async {
        let pw = target.password.as_ref().map(|p| p.expose().to_string());
        let mut secrets: Vec<String> = pw.iter().cloned().collect();
        if let Some(k) = keys {
            if let Some(m) = k.ms_key.get() {
                secrets.push(m.to_string());
            }
            if let Ok(d) = &k.db_key {
                secrets.push(d.expose().to_string());
            }
        }
        let mut b = OptsBuilder::default()
            .ip_or_hostname(target.host.clone())
            .tcp_port(target.port)
            .user(Some(target.user.clone()))
            .pass(pw)
            .db_name(Some(target.db.clone()))
            .prefer_socket(false);
        if target.tls {
            // Connector/J with useSSL=true does not verify the server certificate
            // unless told to; the auditor mirrors what the server does.
            b = b.ssl_opts(Some(
                SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ));
        }
        // A second connection lets the one full scan of account_details (no index on
        // `name` in CloudStack's DDL) run while the other queries run on the first.
        let second = b.clone();
        let conn = match tokio::time::timeout(opts.connect_timeout, Conn::new(b)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
                let err = classify(&e, &s);
                all_missing(facts, &target.location(), &err);
                return DbStats::default();
            }
            Err(_) => {
                all_missing(
                    facts,
                    &target.location(),
                    &DbError::new(
                        MissingReason::Timeout,
                        format!(
                            "no connection to {}:{} within {:?}",
                            target.host, target.port, opts.connect_timeout
                        ),
                    ),
                );
                return DbStats::default();
            }
        };
        let mut s = Session {
            conn,
            timeout: opts.query_timeout,
            queries: 0,
            slowest: (String::new(), Duration::ZERO),
            secrets,
        };
        let mut s2 = match tokio::time::timeout(opts.connect_timeout, Conn::new(second)).await {
            Ok(Ok(conn)) => Some(Session {
                conn,
                timeout: opts.query_timeout,
                queries: 0,
                slowest: (String::new(), Duration::ZERO),
                secrets: s.secrets.clone(),
            }),
            // Not fatal: everything then runs on the first connection.
            _ => None,
        };
        let ok = run(&mut s, s2.as_mut(), target, keys, fp_key, facts).await;
        let mut queries = s.queries;
        let mut slow = s.slowest.clone();
        if let Some(s2) = s2 {
            queries += s2.queries;
            if s2.slowest.1 > slow.1 {
                slow = s2.slowest.clone();
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), s2.conn.disconnect()).await;
        }
        let slowest = format!("{} ms: {}", slow.1.as_millis(), slow.0);
        let _ = tokio::time::timeout(Duration::from_secs(1), s.conn.disconnect()).await;
        if let Err(e) = ok {
            all_missing(facts, &target.location(), &e);
        }
        DbStats {
            queries,
            elapsed: Duration::ZERO,
            slowest,
        }
    });
    stats.elapsed = start.elapsed();
    if let Some(st) = facts.sources.get_mut(SOURCE) {
        if st.status == "ok" {
            st.detail = format!(
                "{} queries in {} ms (slowest {})",
                stats.queries,
                stats.elapsed.as_millis(),
                stats.slowest
            );
        }
    }
    stats
}

/// Tables the collector reads, with the columns it may use.
const TABLES: &[&str] = &[
    "configuration",
    "domain_details",
    "account_details",
    "user",
    "account",
    "domain",
    "version",
    "roles",
    "role_permissions",
];

async fn run(
    s: &mut Session,
    s2: Option<&mut Session>,
    target: &Target,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> Result<(), DbError> {
    let rows = s
        .query(&format!(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({})",
            sql_list(TABLES)
        ))
        .await?;
    let mut cols: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        if let (Some(t), Some(c)) = (cell(r, 0), cell(r, 1)) {
            cols.entry(t.to_ascii_lowercase())
                .or_default()
                .insert(c.to_ascii_lowercase());
        }
    }
    let conf = cols.get("configuration").cloned().unwrap_or_default();
    if !(conf.contains("name") && conf.contains("value")) {
        return Err(DbError::new(
            MissingReason::Unsupported,
            format!(
                "database {} has no configuration(name, value) table: not a CloudStack `cloud` schema",
                target.db
            ),
        ));
    }
    facts.source(SOURCE, SourceStatus::ok("database", target.location()));
    let src = format!("{SOURCE}:{}.configuration", target.db);
    settings_query(s, &conf, keys, fp_key, &src, facts).await?;
    let has = |t: &str, c: &str| cols.get(t).is_some_and(|s| s.contains(c));
    overrides(
        s,
        "domain",
        has("domain_details", "name"),
        has("domain", "path"),
        target,
        facts,
    )
    .await;
    let (acct_table, acct_names) = (
        has("account_details", "name"),
        has("account", "account_name"),
    );
    match s2 {
        // The account_details scan on the second connection, the rest meanwhile on the first.
        Some(s2) => {
            let mut acct = Facts::new();
            let rest = async {
                users(s, &cols, target, facts).await;
                version(s, has("version", "version"), target, facts).await;
                api_access(s, &cols, target, facts).await;
                dbserver(s, facts).await;
            };
            tokio::join!(
                overrides(s2, "account", acct_table, acct_names, target, &mut acct),
                rest
            );
            facts.merge(acct);
        }
        None => {
            overrides(s, "account", acct_table, acct_names, target, facts).await;
            users(s, &cols, target, facts).await;
            version(s, has("version", "version"), target, facts).await;
            api_access(s, &cols, target, facts).await;
            dbserver(s, facts).await;
        }
    }
    Ok(())
}

async fn settings_query(
    s: &mut Session,
    conf: &BTreeSet<String>,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    src: &str,
    facts: &mut Facts,
) -> Result<(), DbError> {
    let opt = |c: &str, expr: &str| {
        if conf.contains(c) {
            expr.to_string()
        } else {
            "NULL".to_string()
        }
    };
    let has_cat = conf.contains("category");
    // Hidden/Secure values never leave the server, except the few compared in memory.
    let value_expr = if has_cat {
        format!(
            "CASE WHEN category IN ('Hidden','Secure') AND name NOT IN ({}) THEN NULL ELSE value END",
            sql_list(&fetched_secret_names())
        )
    } else {
        "value".to_string()
    };
    let sql = format!(
        "SELECT name, {value_expr}, value IS NOT NULL, {}, {}, {}, {}, {}, {} FROM configuration",
        opt("default_value", "default_value"),
        opt("category", "category"),
        opt("scope", "CAST(scope AS CHAR)"),
        opt("is_dynamic", "is_dynamic"),
        opt("updated", "DATE_FORMAT(updated, '%Y-%m-%dT%H:%i:%sZ')"),
        opt("component", "component"),
    );
    let rows = s.query(&sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut ca_pem: Option<Result<String, String>> = None;
    for r in &rows {
        let Some(name) = cell(r, 0) else { continue };
        let mut row = SettingRow {
            name,
            value: cell(r, 1),
            value_set: cell_i64(r, 2) == Some(1),
            default_value: cell(r, 3),
            category: cell(r, 4),
            scope: settings::scope_value(cell(r, 5).as_deref()),
            is_dynamic: cell_i64(r, 6).map(|d| d != 0),
            updated: cell(r, 7),
            component: cell(r, 8),
            encrypted_at_rest: None,
            undecryptable: None,
        };
        if row.is_hidden_or_secure() {
            let enc = keys.map(|k| k.encrypted_at_rest);
            row.encrypted_at_rest = enc;
            if let Some(raw) = row.value.take() {
                match decrypt_db_value(keys, &raw) {
                    Ok(p) => row.value = Some(p.expose().to_string()),
                    Err(why) => row.undecryptable = Some(why),
                }
            }
            if row.name == ROOT_CA_CERT {
                ca_pem = Some(match (&row.value, &row.undecryptable) {
                    (Some(v), _) => Ok(v.clone()),
                    (None, Some(why)) => Err(why.clone()),
                    (None, None) => Err("not set".into()),
                });
                row.value = None;
            }
        }
        out.push(row);
    }
    settings::record(&out, src, fp_key, facts);
    // Drop the plaintexts now.
    drop(out);
    facts.namespace_complete("cs.root_ca.", src);
    match ca_pem {
        None => {}
        Some(Ok(pem)) => match certificate_pem(&pem) {
            Some(c) => facts.set("cs.root_ca.certificate_pem", src, c),
            None => facts.insert(
                "cs.root_ca.certificate_pem",
                Fact::missing(
                    src,
                    MissingReason::Unsupported,
                    "ca.plugin.root.ca.certificate is not a PEM certificate",
                ),
            ),
        },
        Some(Err(why)) if why == "not set" => {}
        Some(Err(why)) => facts.insert(
            "cs.root_ca.certificate_pem",
            Fact::missing(src, MissingReason::NotCollected, why),
        ),
    }
    Ok(())
}

/// Only the CERTIFICATE blocks of a PEM text (never anything that looks like a key).
fn certificate_pem(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l == "-----BEGIN CERTIFICATE-----" {
            inside = true;
        }
        if inside {
            out.push_str(l);
            out.push('\n');
        }
        if l == "-----END CERTIFICATE-----" {
            inside = false;
        }
    }
    (!out.is_empty() && !out.contains("PRIVATE")).then_some(out)
}

fn decrypt_db_value(keys: Option<&Keys>, raw: &str) -> Result<Plain, String> {
    let Some(k) = keys else {
        return Err("db.properties unavailable: encryption settings unknown".into());
    };
    if !k.encrypted_at_rest {
        return Ok(Plain::new(raw.to_string()));
    }
    match &k.db_key {
        Ok(dk) => encryption::decrypt(dk.expose(), raw, k.pinned)
            .map(|(p, _)| p)
            .map_err(|e| format!("cannot decrypt with the DB key: {e}")),
        Err(why) => Err(format!("DB key unavailable: {why}")),
    }
}

async fn overrides(
    s: &mut Session,
    kind: &str,
    table_ok: bool,
    names_ok: bool,
    target: &Target,
    facts: &mut Facts,
) {
    let prefix = format!("cs.{kind}_override.");
    let src = format!("{SOURCE}:{}.{kind}_details", target.db);
    if !table_ok {
        facts.namespace_missing(
            &prefix,
            &src,
            MissingReason::Unsupported,
            format!("no {kind}_details table in this schema"),
        );
        return;
    }
    let keys = sql_list(OVERRIDE_KEYS);
    // Two queries whatever the table size: one scan giving, per setting, the total,
    // the `true` count and the 20 most frequent values; and a sample naming who
    // overrides (in id order, so it stops early).
    let agg = s
        .query(&format!(
            "SELECT name, v, c, tot, tru FROM (SELECT name, v, c, \
               SUM(c) OVER (PARTITION BY name) AS tot, SUM(t) OVER (PARTITION BY name) AS tru, \
               ROW_NUMBER() OVER (PARTITION BY name ORDER BY c DESC, v) AS rn \
             FROM (SELECT name, LEFT(value, 128) AS v, COUNT(*) AS c, SUM(TRIM(value) = 'true') AS t \
                   FROM {kind}_details WHERE name IN ({keys}) GROUP BY name, LEFT(value, 128)) g) w \
             WHERE rn <= 20 ORDER BY name, rn"
        ))
        .await;
    let agg = match agg {
        Ok(r) => r,
        Err(e) => {
            facts.namespace_missing(&prefix, &src, e.reason, e.detail);
            return;
        }
    };
    let sample_sql = if kind == "domain" {
        format!(
            "SELECT x.name, x.domain_id, {}, x.value FROM domain_details x {} \
             WHERE x.name IN ({keys}) ORDER BY x.id LIMIT 200",
            if names_ok { "d.path" } else { "NULL" },
            if names_ok {
                "LEFT JOIN domain d ON d.id = x.domain_id"
            } else {
                ""
            }
        )
    } else {
        format!(
            "SELECT x.name, x.account_id, {}, x.value FROM account_details x {} \
             WHERE x.name IN ({keys}) ORDER BY x.id LIMIT 200",
            if names_ok { "a.account_name" } else { "NULL" },
            if names_ok {
                "LEFT JOIN account a ON a.id = x.account_id"
            } else {
                ""
            }
        )
    };
    let sample = s.query(&sample_sql).await.unwrap_or_default();
    facts.namespace_complete(&prefix, &src);
    let mut per: BTreeMap<String, Value> = BTreeMap::new();
    for r in &agg {
        let (Some(name), Some(c), Some(tot)) = (cell(r, 0), cell_i64(r, 2), cell_i64(r, 3)) else {
            continue;
        };
        // Boolean.parseBoolean: only "true" (any case) is true.
        let t = cell_i64(r, 4).unwrap_or(0);
        let e = per.entry(name).or_insert_with(|| {
            json!({"count": tot, "true_count": t, "false_count": tot - t, "values": {}, "sample": []})
        });
        if let Some(m) = e["values"].as_object_mut() {
            m.insert(cell(r, 1).unwrap_or_default(), Value::from(c));
        }
    }
    let id_key = format!("{kind}_id");
    for r in &sample {
        let Some(name) = cell(r, 0) else { continue };
        if let Some(e) = per.get_mut(&name) {
            if let Some(a) = e["sample"].as_array_mut() {
                if a.len() < 50 {
                    a.push(json!({
                        id_key.as_str(): cell_i64(r, 1),
                        kind: cell(r, 2),
                        "value": cell(r, 3),
                    }));
                }
            }
        }
    }
    for (name, v) in per {
        facts.set(format!("{prefix}{name}"), &src, v);
    }
}

async fn users(
    s: &mut Session,
    cols: &BTreeMap<String, BTreeSet<String>>,
    target: &Target,
    facts: &mut Facts,
) {
    let src = format!("{SOURCE}:{}.user", target.db);
    let ucols = cols.get("user").cloned().unwrap_or_default();
    let acc_ok = cols.get("account").is_some_and(|c| c.contains("type"));
    let fact_2fa = "cs.admin_users_without_2fa";
    if !ucols.contains("is_user_2fa_enabled") || !acc_ok {
        facts.insert(
            fact_2fa,
            Fact::missing(
                &src,
                MissingReason::Unsupported,
                "this schema has no user 2FA columns (added in 4.18)",
            ),
        );
    } else {
        let dom = cols.get("domain").is_some_and(|c| c.contains("path"));
        let sql = format!(
            "SELECT u.id, u.username, a.type, {}, COUNT(*) OVER () FROM user u \
             JOIN account a ON a.id = u.account_id {} \
             WHERE u.removed IS NULL AND a.removed IS NULL AND a.type IN (1, 2) AND a.id <> 1 \
             AND u.state = 'enabled' AND u.is_user_2fa_enabled = 0 ORDER BY u.id LIMIT 100",
            if dom { "d.path" } else { "NULL" },
            if dom {
                "LEFT JOIN domain d ON d.id = a.domain_id"
            } else {
                ""
            }
        );
        match s.query(&sql).await {
            Ok(rows) => {
                let count = rows.first().and_then(|r| cell_i64(r, 4)).unwrap_or(0);
                let list: Vec<Value> = rows
                    .iter()
                    .map(|r| {
                        json!({
                            "id": cell_i64(r, 0),
                            "username": cell(r, 1),
                            "role": if cell_i64(r, 2) == Some(1) { "root_admin" } else { "domain_admin" },
                            "domain": cell(r, 3),
                        })
                    })
                    .collect();
                facts.set(fact_2fa, &src, json!({"count": count, "users": list}));
            }
            Err(e) => facts.insert(fact_2fa, Fact::missing(&src, e.reason, e.detail)),
        }
    }
    // User 2 (`admin`): H1 re-enables it with password `password` at every start
    // when it is disabled.
    facts.namespace_complete("cs.user2.", &src);
    if !ucols.contains("state") {
        facts.namespace_missing(
            "cs.user2.",
            &src,
            MissingReason::Unsupported,
            "no user.state column",
        );
        return;
    }
    // The password hash is read only to be compared in memory with the hash of the
    // default `password` (H1); it is never kept.
    let pw_col = if ucols.contains("password") {
        "password"
    } else {
        "NULL"
    };
    match s
        .query(&format!(
            "SELECT state, username, removed IS NOT NULL, {pw_col} FROM user WHERE id = 2"
        ))
        .await
    {
        Ok(rows) => {
            if let Some(r) = rows.first() {
                if cell_i64(r, 2) == Some(1) {
                    facts.set("cs.user2.state", &src, "removed");
                } else if let Some(st) = cell(r, 0) {
                    facts.set("cs.user2.state", &src, st);
                }
                if let Some(u) = cell(r, 1) {
                    facts.set("cs.user2.username", &src, u);
                }
                let key = "cs.user2.default_password";
                match cell(r, 3)
                    .map(|h| super::userpass::matches(&h, super::userpass::DEFAULT_ADMIN_PASSWORD))
                {
                    Some(Some(m)) => facts.set(key, &src, m),
                    Some(None) => facts.insert(
                        key,
                        Fact::missing(
                            &src,
                            MissingReason::Unsupported,
                            "the stored password is in no format this auditor knows",
                        ),
                    ),
                    None => facts.insert(
                        key,
                        Fact::missing(&src, MissingReason::Unsupported, "no user.password column"),
                    ),
                }
            }
        }
        Err(e) => facts.namespace_missing("cs.user2.", &src, e.reason, e.detail),
    }
}

async fn version(s: &mut Session, ok: bool, target: &Target, facts: &mut Facts) {
    let src = format!("{SOURCE}:{}.version", target.db);
    if !ok {
        facts.insert(
            "cs.version",
            Fact::missing(&src, MissingReason::Unsupported, "no version table"),
        );
        return;
    }
    match s
        .query("SELECT version FROM version ORDER BY id DESC LIMIT 1")
        .await
    {
        Ok(rows) => match rows.first().and_then(|r| cell(r, 0)) {
            Some(v) => facts.set("cs.version", &src, v.trim().to_string()),
            None => facts.insert(
                "cs.version",
                Fact::absent(&src, "the version table is empty"),
            ),
        },
        Err(e) => facts.insert("cs.version", Fact::missing(&src, e.reason, e.detail)),
    }
}

/// Most role-permission rows read; more is reported as not fully inspected.
const MAX_ROLE_RULES: usize = 50_000;

/// Whether a role-permission rule (`api/.../acl/Rule.java`: API name or `*` wildcards,
/// case-insensitive, whole-name match) matches an API name.
pub fn rule_matches(rule: &str, api: &str) -> bool {
    let (rule, api) = (rule.to_ascii_lowercase(), api.to_ascii_lowercase());
    let parts: Vec<&str> = rule.split('*').collect();
    if parts.len() == 1 {
        return rule == api;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !api.starts_with(first) || api.len() < first.len() + last.len() || !api.ends_with(last) {
        return false;
    }
    let mut rest = &api[first.len()..api.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `cs.api_access.denied_to_non_admin`: for each API an advisory workaround names
/// (`vuln::workaround_apis`), whether every live role whose type is not `Admin` denies it,
/// i.e. its first matching rule in `sort_order` is not ALLOW (an API no rule matches falls
/// back to the command's annotation, which allows it:
/// `DynamicRoleBasedAPIAccessChecker.checkApiPermissionByRole`).
async fn api_access(
    s: &mut Session,
    cols: &BTreeMap<String, BTreeSet<String>>,
    target: &Target,
    facts: &mut Facts,
) {
    let key = "cs.api_access.denied_to_non_admin";
    let src = format!("{SOURCE}:{}.role_permissions", target.db);
    let apis = crate::vuln::workaround_apis();
    let has = |t: &str, c: &str| cols.get(t).is_some_and(|x| x.contains(c));
    if apis.is_empty() {
        facts.insert(
            key,
            Fact::absent(&src, "no advisory workaround names an API"),
        );
        return;
    }
    if !(has("roles", "role_type")
        && has("role_permissions", "rule")
        && has("role_permissions", "permission"))
    {
        facts.insert(
            key,
            Fact::missing(
                &src,
                MissingReason::Unsupported,
                "no roles/role_permissions tables (dynamic roles came in 4.9)",
            ),
        );
        return;
    }
    let removed = if has("roles", "removed") {
        "r.removed IS NULL AND "
    } else {
        ""
    };
    let order = if has("role_permissions", "sort_order") {
        "p.sort_order, p.id"
    } else {
        "p.id"
    };
    let sql = format!(
        "SELECT r.id, p.rule, p.permission FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id \
         WHERE {removed}r.role_type <> 'Admin' ORDER BY r.id, {order} LIMIT {}",
        MAX_ROLE_RULES + 1
    );
    let rows = match s.query(&sql).await {
        Ok(r) => r,
        Err(e) => {
            facts.insert(key, Fact::missing(&src, e.reason, e.detail));
            return;
        }
    };
    if rows.len() > MAX_ROLE_RULES {
        facts.insert(
            key,
            Fact::missing(
                &src,
                MissingReason::Unsupported,
                format!("more than {MAX_ROLE_RULES} role permissions; not inspected"),
            ),
        );
        return;
    }
    // Per role, the decision of its first matching rule for each API (None: no rule).
    let mut per_role: BTreeMap<i64, BTreeMap<&str, bool>> = BTreeMap::new();
    for r in &rows {
        let Some(id) = cell_i64(r, 0) else { continue };
        let decided = per_role.entry(id).or_default();
        let (Some(rule), Some(perm)) = (cell(r, 1), cell(r, 2)) else {
            continue;
        };
        for api in &apis {
            if !decided.contains_key(api.as_str()) && rule_matches(&rule, api) {
                decided.insert(api.as_str(), !perm.trim().eq_ignore_ascii_case("ALLOW"));
            }
        }
    }
    let mut out = serde_json::Map::new();
    for api in &apis {
        let denied = !per_role.is_empty()
            && per_role
                .values()
                .all(|d| d.get(api.as_str()).copied().unwrap_or(false));
        out.insert(api.clone(), Value::Bool(denied));
    }
    facts.set(key, &src, Value::Object(out));
}

/// Server-side facts: grants of the connecting account, TLS, bind address.
async fn dbserver(s: &mut Session, facts: &mut Facts) {
    let src = "db:server";
    facts.namespace_complete("dbserver.", src);
    match s.query("SELECT CURRENT_USER()").await {
        Ok(rows) => {
            if let Some(cu) = rows.first().and_then(|r| cell(r, 0)) {
                let (u, h) = cu.rsplit_once('@').unwrap_or((cu.as_str(), ""));
                facts.set("dbserver.current_user", src, json!({"user": u, "host": h}));
                let user_esc = u.replace('\\', "\\\\").replace('\'', "''");
                match s
                    .query(&format!(
                        "SELECT Host FROM mysql.user WHERE User = '{user_esc}'"
                    ))
                    .await
                {
                    Ok(rows) => {
                        let hosts: Vec<String> = rows.iter().filter_map(|r| cell(r, 0)).collect();
                        facts.set(
                            "dbserver.user_any_host",
                            src,
                            hosts.iter().any(|h| h == "%"),
                        );
                        facts.set("dbserver.user_hosts", src, hosts);
                    }
                    Err(e) => {
                        facts.insert(
                            "dbserver.user_hosts",
                            Fact::missing(src, e.reason, e.detail.clone()),
                        );
                        // The server itself matched this login to the `'%'` account: that
                        // account exists, whatever mysql.user would say (H11, the
                        // installer's cloud@'%').
                        if h == "%" {
                            facts.set("dbserver.user_any_host", "db:server:CURRENT_USER()", true);
                        } else {
                            facts.insert(
                                "dbserver.user_any_host",
                                Fact::missing(src, e.reason, e.detail),
                            );
                        }
                    }
                }
            }
        }
        Err(e) => facts.insert(
            "dbserver.current_user",
            Fact::missing(src, e.reason, e.detail),
        ),
    }
    match s.query("SHOW GRANTS").await {
        Ok(rows) => {
            let lines: Vec<String> = rows.iter().filter_map(|r| cell(r, 0)).collect();
            let g = parse_grants(&lines);
            facts.set("dbserver.grants", src, g);
        }
        Err(e) => facts.insert("dbserver.grants", Fact::missing(src, e.reason, e.detail)),
    }
    match s
        .query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
             ('have_ssl','require_secure_transport','bind_address','version')",
        )
        .await
    {
        Ok(rows) => {
            for r in &rows {
                if let (Some(k), Some(v)) = (cell(r, 0), cell(r, 1)) {
                    facts.set(format!("dbserver.{}", k.to_ascii_lowercase()), src, v);
                }
            }
        }
        Err(e) => {
            for k in [
                "have_ssl",
                "require_secure_transport",
                "bind_address",
                "version",
            ] {
                facts.insert(
                    format!("dbserver.{k}"),
                    Fact::missing(src, e.reason, e.detail.clone()),
                );
            }
        }
    }
}

/// Summarises `SHOW GRANTS` lines without keeping them (older servers print password
/// hashes in them): privileges per object, and whether any grant has GRANT OPTION.
pub fn parse_grants(lines: &[String]) -> Value {
    let mut all_on: Vec<String> = Vec::new();
    let mut global: Vec<String> = Vec::new();
    let mut grant_option = false;
    let mut roles = 0;
    for l in lines {
        let up = l.to_ascii_uppercase();
        if up.contains("WITH GRANT OPTION") {
            grant_option = true;
        }
        let Some(rest) = up.strip_prefix("GRANT ") else {
            continue;
        };
        let Some((privs, tail)) = rest.split_once(" ON ") else {
            roles += 1;
            continue;
        };
        let object = tail
            .split(" TO ")
            .next()
            .unwrap_or("")
            .replace('`', "")
            .trim()
            .to_ascii_lowercase();
        let privs = privs.trim();
        if object == "*.*" {
            global.extend(
                privs
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty() && p != "USAGE"),
            );
        }
        if privs.starts_with("ALL") {
            all_on.push(object);
        }
    }
    json!({
        "all_privileges_on": all_on,
        "global_privileges": global,
        "with_grant_option": grant_option,
        "all_on_everything": all_on.iter().any(|o| o == "*.*"),
        "role_grants": roles,
    })
}

/// Re-describes the `secret.<file>.*` facts of one properties file now that `ENC()`
/// values can be decrypted (in memory, compared, dropped).
fn redescribe_secrets(
    name: &str,
    props: &PropertiesData,
    ms_key: &MsKey,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) {
    for key in props.keys() {
        if !crate::secrets::is_secret_key(key) {
            continue;
        }
        let raw = props.get(key).unwrap_or_default();
        let Some(ct) = crate::secrets::enc_inner(raw) else {
            continue;
        };
        let line = props.line(key).unwrap_or(0);
        let src = format!("{name}.properties:{line}");
        let v = match ms_key.get() {
            Some(k) => match encryption::decrypt(k, ct, None) {
                Ok((p, ver)) => {
                    let mut v =
                        crate::secrets::SecretFacts::describe(key, raw, Some(p.expose()), fp_key)
                            .to_json();
                    v["decrypted"] = Value::from(ver.as_str());
                    v
                }
                Err(e) => {
                    let mut v =
                        crate::secrets::SecretFacts::describe(key, raw, None, fp_key).to_json();
                    v["not_decrypted"] = Value::from(format!("{e} (key from {})", ms_key.origin));
                    v
                }
            },
            None => {
                let mut v = crate::secrets::SecretFacts::describe(key, raw, None, fp_key).to_json();
                v["not_decrypted"] = Value::from(ms_key.origin.clone());
                v
            }
        };
        facts.set(format!("secret.{name}.{key}"), &src, v);
    }
}

/// Entry point from `collect::collect`: decrypts ENC() metadata, then reads settings
/// from the export or the database. Returns the DB statistics when it connected.
pub fn run_all(
    fs: &crate::rootfs::RootFs,
    opts: &DbOptions,
    db_props: Option<&PropertiesData>,
    server_props: Option<&PropertiesData>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> Option<DbStats> {
    let env_key = || {
        opts.cloud_secret_key
            .as_ref()
            .map(|s| s.expose().to_string())
    };
    let keys = db_props.map(|p| keys(fs, p, opts.key_file.as_deref(), env_key()));
    if let (Some(p), Some(k)) = (db_props, &keys) {
        redescribe_secrets("db", p, &k.ms_key, fp_key, facts);
    }
    if let Some(p) = server_props {
        let t = p.get("password.encryption.type").map(str::trim);
        let k = MsKey::resolve(fs, t, opts.key_file.as_deref(), env_key());
        redescribe_secrets("server", p, &k, fp_key, facts);
    }
    if let Some(path) = &opts.settings_export {
        super::export::collect(path, fp_key, facts);
        let why =
            "settings were read from an offline export (--settings-export); no database connection";
        for p in ["cs.", "dbserver."] {
            facts.namespace_missing(p, SOURCE, MissingReason::NotCollected, why);
        }
        return None;
    }
    if opts.disabled {
        let e = DbError::new(
            MissingReason::NotCollected,
            "database collection disabled (--no-db)",
        );
        all_missing(facts, "-", &e);
        return None;
    }
    match target(db_props, opts, keys.as_ref()) {
        Ok(t) => Some(collect(&t, opts, keys.as_ref(), fp_key, facts)),
        Err(e) => {
            all_missing(facts, "db.properties", &e);
            None
        }
    }
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

    #[test]
    fn role_rules_match_like_cloudstack() {
        assert!(rule_matches("listAnnotations", "listannotations"));
        assert!(rule_matches("list*", "listAnnotations"));
        assert!(rule_matches("*", "addAnnotation"));
        assert!(rule_matches("*Annotation*", "addAnnotation"));
        assert!(rule_matches("l*t*s", "listAnnotations"));
        assert!(!rule_matches("list*", "addAnnotation"));
        assert!(!rule_matches("listAnnotation", "listAnnotations"));
        assert!(!rule_matches("*s", "addAnnotation"));
    }

    #[test]
    fn grants_summary_drops_hashes() {
        let g = parse_grants(&[
            "GRANT PROCESS ON *.* TO `cloud`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'".into(),
            "GRANT ALL PRIVILEGES ON `cloud`.* TO `cloud`@`%` WITH GRANT OPTION".into(),
        ]);
        assert!(!g.to_string().contains("ABCDEF"));
        assert_eq!(g["all_privileges_on"], json!(["cloud.*"]));
        assert_eq!(g["global_privileges"], json!(["PROCESS"]));
        assert_eq!(g["with_grant_option"], json!(true));
    }

    #[test]
    fn sanitize_removes_password() {
        let m = sanitize(
            "mysql://cloud:hunter22@h/x failed for hunter22",
            &["hunter22"],
        );
        assert!(!m.contains("hunter22"), "{m}");
    }

    #[test]
    fn pem_only_certificates() {
        let t = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n";
        let c = certificate_pem(t).unwrap();
        assert!(c.contains("AAA") && !c.contains("BBB"));
    }
}
