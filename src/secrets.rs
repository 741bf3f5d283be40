//! Handling of secret values: which keys hold secrets, what may be said about them, and
//! keyed fingerprints for comparing a secret across hosts without revealing it.
//!
//! Nothing in this module returns or stores a secret. A [`SecretFacts`] holds only
//! booleans and, when the operator supplied a fingerprint key, an HMAC.

use hmac::{KeyInit, Mac};
use serde_json::{json, Value};

/// Values CloudStack ships as defaults for its secrets (templates, setup-script
/// defaults): `cloud` (DB user/password template, H11), `vmops.com` (keystore password,
/// H5/H18), `password` (setup-databases key defaults, H2).
pub const KNOWN_DEFAULT_SECRETS: &[&str] = &["cloud", "vmops.com", "password"];

/// Whether a property key names a secret (its value must never leave memory).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.contains("passphrase")
        || k.ends_with(".key")
        || k.contains("privatekey")
        || k.contains("private.key")
        || k.ends_with("psk")
        || k.ends_with(".auth")
}

/// `ENC(...)` as CloudStack writes encrypted property values.
pub fn enc_inner(v: &str) -> Option<&str> {
    let t = v.trim();
    t.strip_prefix("ENC(")?.strip_suffix(')')
}

/// A keyed fingerprint of a secret: `hmac-sha256:` + the first 16 bytes, hex.
/// The key is the operator's (`--fingerprint-key-file`); the name binds the fingerprint
/// to the setting, so two settings with the same value do not collide visibly.
pub fn fingerprint(key: &[u8], name: &str, value: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"stackposture-fingerprint-v1\0");
    mac.update(name.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    let out = mac.finalize().into_bytes();
    let hex: String = out[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("hmac-sha256:{hex}")
}

/// What the auditor may record about a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFacts {
    pub present: bool,
    pub encrypted: bool,
    /// `Some(true)` when the (plaintext or decrypted) value is a shipped default;
    /// `None` when it is encrypted and could not be decrypted.
    pub known_default: Option<bool>,
    pub fingerprint: Option<String>,
}

impl SecretFacts {
    /// Describes `raw` (as written in a file). `decrypted` is the plaintext when the
    /// caller could decrypt an `ENC()` value (it is only compared, never kept).
    pub fn describe(
        name: &str,
        raw: &str,
        decrypted: Option<&str>,
        fp_key: Option<&[u8]>,
    ) -> SecretFacts {
        let encrypted = enc_inner(raw).is_some();
        let plain: Option<&str> = if encrypted { decrypted } else { Some(raw) };
        SecretFacts {
            present: !raw.trim().is_empty(),
            encrypted,
            known_default: plain.map(|p| KNOWN_DEFAULT_SECRETS.contains(&p)),
            fingerprint: match (fp_key, plain) {
                (Some(k), Some(p)) if !p.is_empty() => Some(fingerprint(k, name, p)),
                _ => None,
            },
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "present": self.present,
            "encrypted": self.encrypted,
        });
        if let Some(d) = self.known_default {
            v["known_default"] = Value::Bool(d);
        }
        if let Some(f) = &self.fingerprint {
            v["fingerprint"] = Value::String(f.clone());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "db.cloud.password",
            "db.cloud.encrypt.secret",
            "https.keystore.password",
            "db.cloud.keyStorePassword",
            "db.usage.password",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "db.cloud.host",
            "db.cloud.encryption.type",
            "db.cloud.keyStore",
            "https.keystore",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn describe_never_holds_value() {
        let s = SecretFacts::describe("x", "vmops.com", None, Some(b"k"));
        assert_eq!(s.known_default, Some(true));
        let j = s.to_json().to_string();
        assert!(!j.contains("vmops.com"), "{j}");
        let e = SecretFacts::describe("x", "ENC(abc)", None, None);
        assert!(e.encrypted && e.known_default.is_none() && e.fingerprint.is_none());
    }

    #[test]
    fn fingerprint_is_keyed() {
        let a = fingerprint(b"k1", "n", "v");
        assert_ne!(a, fingerprint(b"k2", "n", "v"));
        assert_ne!(a, fingerprint(b"k1", "m", "v"));
        assert_eq!(a, fingerprint(b"k1", "n", "v"));
        assert!(a.starts_with("hmac-sha256:") && a.len() == 12 + 32);
    }
}

/// Removes credentials embedded in a non-secret value: the password of a URL's userinfo
/// (`scheme://user:pass@host`) and `password=`/`pwd=`-like query parameters.
pub fn redact_inline(value: &str) -> String {
    // The userinfo password runs to the *last* `@` of the token: a password may itself
    // hold `@` or `/` (`mysql://cloud:p@ss/w0rd@db/cloud`). When in doubt this redacts
    // too much (a port), never too little.
    static URL_PW: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?P<pre>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)\S*@").unwrap()
    });
    // Parameter names that start with a credential word, digits included: Connector/J's
    // multi-factor `password1=`/`password2=`/`password3=`.
    static PARAM_PW: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)(?P<k>(password|passwd|pwd|secret|token|key)[A-Za-z0-9_.-]*=)[^&;\s]*",
        )
        .unwrap()
    });
    let v = URL_PW.replace_all(value, "${pre}***@");
    PARAM_PW.replace_all(&v, "${k}***").into_owned()
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn redacts_url_and_params() {
        let r = super::redact_inline(
            "jdbc:mysql://cloud:S3cr3t@db:3306/cloud?useSSL=true&password=xyz",
        );
        assert!(!r.contains("S3cr3t") && !r.contains("xyz"), "{r}");
        assert!(
            r.contains("cloud:***@db") && r.contains("useSSL=true"),
            "{r}"
        );
        assert_eq!(
            super::redact_inline("http://localhost:8080/client/api"),
            "http://localhost:8080/client/api"
        );
    }

    #[test]
    fn redacts_numbered_passwords_and_userinfo_with_at_and_slash() {
        let r = super::redact_inline(
            "jdbc:mysql://db/cloud?user=cloud&password1=Pw1-canary&password2=Pw2-canary&useSSL=true",
        );
        assert!(
            !r.contains("Pw1-canary") && !r.contains("Pw2-canary"),
            "{r}"
        );
        assert!(r.contains("useSSL=true"), "{r}");
        for url in [
            "mysql://cloud:p@ss-canary@db:3306/cloud",
            "mysql://cloud:pa/ss-canary@db:3306/cloud",
            "mysql://cloud:a@b/c-canary@db/cloud?x=1",
        ] {
            let r = super::redact_inline(url);
            assert!(
                !r.contains("canary") && !r.contains("pa/") && !r.contains(":p@"),
                "{url} -> {r}"
            );
            assert!(r.contains("db"), "{r}");
        }
    }
}
