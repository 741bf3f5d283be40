//! The `configuration` table: every global setting (Hidden/Secure values never leave the
//! server, except the few compared in memory), recorded by [`crate::collect::settings`],
//! and the Root CA certificate.

use super::options::{decrypt_db_value, Keys};
use super::session::{cell, cell_i64, sql_list, Session};
use crate::collect::encryption;
use crate::collect::settings::{self, SettingRow, ROOT_CA_CERT};
use crate::facts::{Fact, Facts, Missing};
use crate::outcome::Named;
use base64::Engine as _;
use mysql_async::Row;
use serde_json::json;
use std::collections::BTreeSet;

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

/// The one query, with the columns this schema has (`conf`).
fn settings_sql(conf: &BTreeSet<String>) -> String {
    let opt = |c: &str, expr: &str| {
        if conf.contains(c) {
            expr.to_string()
        } else {
            "NULL".to_string()
        }
    };
    // Hidden/Secure values never leave the server, except the few compared in memory.
    let value_expr = if conf.contains("category") {
        format!(
            "CASE WHEN category IN ('Hidden','Secure') AND name NOT IN ({}) THEN NULL ELSE value END",
            sql_list(&fetched_secret_names())
        )
    } else {
        "value".to_string()
    };
    // The ciphertext of every Hidden/Secure row, only to tell V1 from V2 in memory.
    let cipher_expr = if conf.contains("category") {
        "CASE WHEN category IN ('Hidden','Secure') THEN value ELSE NULL END"
    } else {
        "NULL"
    };
    format!(
        "SELECT name, {value_expr}, value IS NOT NULL, {}, {}, {}, {}, {}, {}, {cipher_expr} FROM configuration",
        opt("default_value", "default_value"),
        opt("category", "category"),
        opt("scope", "CAST(scope AS CHAR)"),
        opt("is_dynamic", "is_dynamic"),
        opt("updated", "DATE_FORMAT(updated, '%Y-%m-%dT%H:%i:%sZ')"),
        opt("component", "component"),
    )
}

fn setting_row(r: &Row) -> Option<SettingRow> {
    Some(SettingRow {
        name: cell(r, 0)?,
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
    })
}

/// Reads and records the settings. An error here fails the whole source (the caller
/// declares every DB namespace missing).
pub async fn collect(
    s: &mut Session,
    conf: &BTreeSet<String>,
    keys: Option<&Keys>,
    fp_key: Option<&[u8]>,
    src: &str,
    facts: &mut Facts,
) -> Result<(), Missing> {
    let rows = s.query(&settings_sql(conf), 10).await?;
    record_ciphers(&rows, keys, src, facts);
    let mut out = Vec::with_capacity(rows.len());
    let mut ca_pem: Option<Result<String, String>> = None;
    for r in &rows {
        let Some(mut row) = setting_row(r) else {
            continue;
        };
        if row.is_hidden_or_secure() {
            row.encrypted_at_rest = keys.map(|k| k.encrypted_at_rest);
            if let Some(raw) = row.value.take() {
                match decrypt_db_value(keys, &raw) {
                    Ok(p) => row.value = Some(p.expose().to_string()),
                    Err(why) => row.undecryptable = Some(why),
                }
            }
            if row.name == ROOT_CA_CERT {
                ca_pem = Some(match (row.value.take(), &row.undecryptable) {
                    (Some(v), _) => Ok(v),
                    (None, Some(why)) => Err(why.clone()),
                    (None, None) => Err("not set".into()),
                });
            }
        }
        out.push(row);
    }
    settings::record(&out, src, fp_key, facts);
    // Drop the plaintexts now.
    drop(out);
    record_root_ca(ca_pem, src, facts);
    Ok(())
}

/// `cs.setting_ciphers`: how the Hidden/Secure values are encrypted at rest, V1 (Jasypt
/// PBEWithMD5AndDES, `LegacyBase64Encryptor`) or V2 (AES-256-GCM, `AeadBase64Encryptor`),
/// naming the V1 settings. With the DB key, a value is V2 when GCM authenticates it, else V1
/// when DES-CBC decrypts it with valid padding; without the key, only a length that is not
/// a multiple of 8 (impossible for V1: 8-byte salt + DES blocks) decides (V2). Plaintexts are
/// dropped at once; nothing of a value is recorded.
fn record_ciphers(rows: &[Row], keys: Option<&Keys>, src: &str, facts: &mut Facts) {
    let key = "cs.setting_ciphers";
    let Some(k) = keys.filter(|k| k.encrypted_at_rest) else {
        return;
    };
    let db_key = k.db_key.as_ref().ok().map(|p| p.expose());
    let (mut v1, mut v2, mut plain, mut undecided) = (Vec::new(), 0u64, 0u64, Vec::new());
    for r in rows {
        let (Some(name), Some(ct)) = (cell(r, 0), cell(r, 9)) else {
            continue;
        };
        match classify(ct.trim(), db_key) {
            Cipher::V1 => v1.push(name),
            Cipher::V2 => v2 += 1,
            Cipher::NotCiphertext => plain += 1,
            Cipher::Undecided => undecided.push(name),
        }
    }
    // No V1 seen, but some values could not be told apart: not a pass.
    if v1.is_empty() && !undecided.is_empty() {
        let why = match &k.db_key {
            Ok(_) => "neither V2 nor V1 under the DB key".to_string(),
            Err(e) => format!("DB key unavailable ({e}); their length fits V1 and V2"),
        };
        let m = Missing::unsupported(format!(
            "{} Hidden/Secure value(s) not classified: {why}",
            undecided.len()
        ));
        facts.insert(key, Fact::from_missing(src, m));
        return;
    }
    facts.set(
        key,
        src,
        json!({
            "v1": v1.len(),
            "v2": v2,
            "not_ciphertext": plain,
            "undecided": undecided.len(),
            "key": if db_key.is_some() { "DB key" } else { "none (length only)" },
            "names": {"v1": Named::to_json(&v1), "undecided": Named::to_json(&undecided)},
        }),
    );
}

/// How one Hidden/Secure value is stored.
#[derive(Debug, PartialEq)]
pub enum Cipher {
    V1,
    V2,
    /// Empty, not base64, or shorter than any V1/V2 ciphertext (16 bytes): stored as is.
    NotCiphertext,
    Undecided,
}

/// V1 or V2 for one stored value. V1 is an 8-byte salt + DES-CBC blocks (a multiple of 8,
/// at least 16 bytes), V2 a 12-byte IV + ciphertext + 16-byte tag (at least 28 bytes).
pub fn classify(ct: &str, db_key: Option<&str>) -> Cipher {
    let n = match base64::engine::general_purpose::STANDARD.decode(ct) {
        Ok(b) if b.len() >= 16 => b.len(),
        _ => return Cipher::NotCiphertext,
    };
    if let Some(k) = db_key {
        if encryption::decrypt_v2(k, ct).is_ok() {
            return Cipher::V2;
        }
        if n % 8 == 0 && encryption::decrypt_v1(k, ct).is_ok() {
            return Cipher::V1;
        }
        return Cipher::Undecided;
    }
    if n % 8 != 0 && n >= 28 {
        Cipher::V2
    } else {
        Cipher::Undecided
    }
}

fn record_root_ca(ca_pem: Option<Result<String, String>>, src: &str, facts: &mut Facts) {
    facts.namespace_complete("cs.root_ca.", src);
    let key = "cs.root_ca.certificate_pem";
    match ca_pem {
        None => {}
        Some(Ok(pem)) => match certificate_pem(&pem) {
            Some(c) => facts.set(key, src, c),
            None => facts.insert(
                key,
                Fact::from_missing(
                    src,
                    Missing::unsupported("ca.plugin.root.ca.certificate is not a PEM certificate"),
                ),
            ),
        },
        Some(Err(why)) if why == "not set" => {}
        Some(Err(why)) => facts.insert(key, Fact::from_missing(src, Missing::not_collected(why))),
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn ciphertexts_classified() {
        use super::{classify, Cipher};
        use base64::Engine as _;
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
        assert_eq!(classify("", None), Cipher::NotCiphertext);
        assert_eq!(classify("plain text!", None), Cipher::NotCiphertext);
        assert_eq!(classify(&b64(8), None), Cipher::NotCiphertext);
        assert_eq!(classify(&b64(29), None), Cipher::V2);
        assert_eq!(classify(&b64(32), None), Cipher::Undecided);
        assert_eq!(classify(&b64(32), Some("k")), Cipher::Undecided);
    }

    #[test]
    fn pem_only_certificates() {
        let t = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n";
        let c = super::certificate_pem(t).unwrap();
        assert!(c.contains("AAA") && !c.contains("BBB"));
    }
}
