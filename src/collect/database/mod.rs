//! The `cloud` database, read-only, with the credentials the management server uses.
//!
//! Connection ([`target`], [`options`], [`session`]): `db.properties`
//! (`db.cloud.host/port/name/username/password`, or `db.cloud.uri` when set; TLS when
//! `db.cloud.useSSL=true`), overridable with `--db-url` (no password in it) and a password
//! from an environment variable. `ENC()` values are decrypted with the management-server
//! key (see [`super::encryption`]). Every step has a timeout and every reply a bound; a
//! failure mid-query drops the connection, so no fact is ever read from another query's
//! reply ([`session`]). Every failure becomes a fact or namespace declared missing with a
//! reason that never holds a password (driver errors are reduced to their kind), and a
//! panic inside the driver (hostile server) is contained and reported the same way.
//!
//! Queries (a fixed number, whatever the number of domains, accounts or users): the
//! schema's columns from `information_schema`, `configuration` ([`settings`], which also
//! classifies the Hidden/Secure ciphertexts V1/V2), two aggregates and two name lists over
//! `domain_details`/`account_details` ([`accounts`], compared with the global values in
//! [`scoped`]), admin users without 2FA, user 2, `version`, role permissions, `mshost`, and
//! the server-side facts (`SHOW GRANTS FOR CURRENT_USER()` parsed by [`grants`],
//! `CURRENT_USER()`, variables, `mysql.user`) ([`dbserver`]). Counts come with the names
//! of what they count (`names.<field>`, see [`crate::outcome::Named`]).
//! Facts: see `docs/facts.md`.

pub mod accounts;
pub mod dbserver;
pub mod grants;
pub mod options;
pub mod scoped;
pub mod session;
pub mod settings;
pub mod target;

pub use options::{DbOptions, Keys, SecretString};
pub use target::Target;

use super::encryption::{self, MsKey};
use super::properties::PropertiesData;
use crate::facts::{Facts, Missing, SourceStatus};
use serde_json::Value;
use session::{cell, sql_list, Session};
use std::collections::{BTreeMap, BTreeSet};

/// Source id of this collector in the facts.
pub const SOURCE: &str = "db";

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
    "mshost",
];

/// The columns of the tables this schema has (lower case).
#[derive(Default)]
pub struct Columns(BTreeMap<String, BTreeSet<String>>);

impl Columns {
    pub fn has(&self, table: &str, column: &str) -> bool {
        self.0.get(table).is_some_and(|c| c.contains(column))
    }
}

/// Declares every DB namespace missing with one reason.
pub fn all_missing(facts: &mut Facts, location: &str, m: &Missing) {
    facts.source(
        SOURCE,
        SourceStatus::failed("database", location, m.reason, m.detail.clone()),
    );
    for p in ["cs.", "dbserver."] {
        facts.namespace_missing(p, SOURCE, m.reason, m.detail.clone());
    }
}

/// Connects and collects everything. A panic in the driver (a hostile server) is
/// contained: the source is an error and what was not read is missing.
pub fn collect(
    target: &Target,
    opts: &DbOptions,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let m = Missing::error(format!("runtime: {}", e.kind()));
            all_missing(facts, &target.location(), &m);
            return;
        }
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(connect_and_run(target, opts, keys, fp_key, facts))
    }));
    // Drop the runtime (and any connection task) before going on.
    drop(rt);
    let failure = match r {
        Ok(Ok(())) => return,
        Ok(Err(m)) => m,
        Err(_) => Missing::error(
            "the database driver panicked (malformed reply from the server); \
             facts not read before it are unknown",
        ),
    };
    all_missing(facts, &target.location(), &failure);
}

async fn connect_and_run(
    target: &Target,
    opts: &DbOptions,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> Result<(), Missing> {
    let mut secrets: Vec<String> = target.password().map(str::to_string).into_iter().collect();
    if let Some(k) = keys {
        secrets.extend(k.ms_key.get().map(str::to_string));
        if let Ok(d) = &k.db_key {
            secrets.push(d.expose().to_string());
        }
    }
    let b = target.driver_opts(opts);
    let mut s = Session::connect(b, opts.connect_timeout, opts.query_timeout, secrets).await?;
    // A second connection lets the one full scan of account_details (no index on `name`
    // in CloudStack's DDL) run while the other queries run on the first. Not fatal when
    // it fails: everything then runs on the first connection.
    let s2 = s.another().await.ok();
    let r = run(&mut s, s2, target, keys, fp_key, facts).await;
    let queries = s.queries;
    s.close().await;
    r?;
    if let Some(st) = facts.sources.get_mut(SOURCE) {
        st.detail = format!("{queries} queries on the main connection");
    }
    Ok(())
}

async fn columns(s: &mut Session) -> Result<Columns, Missing> {
    let rows = s
        .query(
            &format!(
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({}) LIMIT 10000",
                sql_list(TABLES)
            ),
            2,
        )
        .await?;
    let mut cols = Columns::default();
    for r in &rows {
        if let (Some(t), Some(c)) = (cell(r, 0), cell(r, 1)) {
            cols.0
                .entry(t.to_ascii_lowercase())
                .or_default()
                .insert(c.to_ascii_lowercase());
        }
    }
    Ok(cols)
}

async fn run(
    s: &mut Session,
    s2: Option<Session>,
    target: &Target,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) -> Result<(), Missing> {
    let cols = columns(s).await?;
    if !(cols.has("configuration", "name") && cols.has("configuration", "value")) {
        return Err(Missing::unsupported(format!(
            "database {} has no configuration(name, value) table: not a CloudStack `cloud` schema",
            target.db
        )));
    }
    facts.source(SOURCE, SourceStatus::ok("database", target.location()));
    let db = target.db.as_str();
    let src = format!("{SOURCE}:{db}.configuration");
    settings::collect(s, &cols.0["configuration"], keys, fp_key, &src, facts).await?;
    let globals = global_values(facts);
    accounts::overrides(s, "domain", &cols, db, &globals, facts).await;
    match s2 {
        // The account_details scan on the second connection, the rest meanwhile on the first.
        Some(mut s2) => {
            let mut acct = Facts::new();
            tokio::join!(
                accounts::overrides(&mut s2, "account", &cols, db, &globals, &mut acct),
                rest(s, &cols, db, facts)
            );
            s2.close().await;
            facts.merge(acct);
        }
        None => {
            accounts::overrides(s, "account", &cols, db, &globals, facts).await;
            rest(s, &cols, db, facts).await;
        }
    }
    Ok(())
}

/// The global value of each setting whose overrides are compared with it
/// ([`scoped::GLOBAL_DEFAULTS`]): the `configuration` value, else the code default.
fn global_values(facts: &Facts) -> BTreeMap<String, String> {
    scoped::GLOBAL_DEFAULTS
        .iter()
        .map(|(name, default)| {
            let v = facts
                .get(&format!("cs.setting.{name}"))
                .and_then(|f| {
                    f.value
                        .as_ref()
                        .and_then(|v| v.as_str().map(str::to_string))
                })
                .unwrap_or_else(|| default.to_string());
            (name.to_string(), v)
        })
        .collect()
}

/// The queries after the settings and the domain overrides, in order.
async fn rest(s: &mut Session, cols: &Columns, db: &str, facts: &mut Facts) {
    accounts::users(s, cols, db, facts).await;
    accounts::version(s, cols, db, facts).await;
    accounts::api_access(s, cols, db, facts).await;
    dbserver::mshost(s, cols, db, facts).await;
    dbserver::collect(s, facts).await;
}

pub use options::keys;

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

/// `secret.ms_key`: whether the management-server key is the installer default
/// `password` (H2: `cloudstack-setup-databases -m` defaults to it). Compared in constant
/// time; the key itself never leaves this function.
fn record_ms_key(ms_key: &MsKey, facts: &mut Facts) {
    let key = "secret.ms_key";
    let src = format!("key:{}", ms_key.origin);
    match ms_key.get() {
        Some(k) => facts.set(
            key,
            &src,
            serde_json::json!({
                "present": true,
                "known_default": encryption::key_equals(k, "password"),
                "origin": ms_key.origin,
            }),
        ),
        None => facts.insert(
            key,
            crate::facts::Fact::from_missing(
                "key",
                Missing::not_collected(format!("management-server key: {}", ms_key.origin)),
            ),
        ),
    }
}

/// Entry point from `collect::collect`: decrypts ENC() metadata, then reads settings
/// from the export or the database.
pub fn run_all(
    fs: &crate::rootfs::RootFs,
    opts: &DbOptions,
    db_props: Option<&PropertiesData>,
    server_props: Option<&PropertiesData>,
    fp_key: Option<&[u8]>,
    facts: &mut Facts,
) {
    let env_key = || {
        opts.cloud_secret_key
            .as_ref()
            .map(|s| s.expose().to_string())
    };
    let keys = db_props.map(|p| keys(fs, p, opts.key_file.as_deref(), env_key()));
    if let Some(k) = &keys {
        record_ms_key(&k.ms_key, facts);
    }
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
        facts.skipped_by_choice(SOURCE, &["cs.", "dbserver."], why);
        return;
    }
    if opts.disabled {
        let m = Missing::not_collected("database collection disabled (--no-db)");
        all_missing(facts, "-", &m);
        facts.skipped_by_choice(SOURCE, &["cs.", "dbserver."], &m.detail);
        return;
    }
    match target::target(db_props, opts, keys.as_ref()) {
        Ok(t) => collect(&t, opts, keys.as_ref(), fp_key, facts),
        Err(m) => all_missing(facts, "db.properties", &m),
    }
}
