//! What the operator asked for (options), the secret strings, and the key material
//! derived from db.properties (in memory only).

use crate::collect::encryption::{self, MsKey, Plain, Version};
use crate::collect::properties::PropertiesData;
use std::path::PathBuf;
use std::time::Duration;

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
    /// `--db-ca FILE`: PEM CA certificate(s) the server's TLS certificate must chain to
    /// (and its name match the host); implies TLS. Only then is the connection's server
    /// authenticated.
    pub ca_file: Option<PathBuf>,
    /// `--db-allow-public-key-retrieval`: let caching_sha2_password full authentication
    /// send the password to a server that was not authenticated (RSA key it sends itself
    /// over plain TCP, or TLS without --db-ca). Off by default, like Connector/J's
    /// `allowPublicKeyRetrieval=false`.
    pub allow_public_key_retrieval: bool,
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
            ca_file: None,
            allow_public_key_retrieval: false,
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

/// The key material derived from db.properties, held in memory only.
pub struct Keys {
    pub ms_key: MsKey,
    /// The decrypted `db.cloud.encrypt.secret` (the DB key), or why not.
    pub db_key: Result<Plain, String>,
    pub pinned: Option<Version>,
    /// `db.cloud.encryption.type` is not `none`: Hidden/Secure values are encrypted.
    pub encrypted_at_rest: bool,
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

/// A Hidden/Secure value as plaintext (decrypted with the DB key when encrypted at rest).
pub fn decrypt_db_value(keys: Option<&Keys>, raw: &str) -> Result<Plain, String> {
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
