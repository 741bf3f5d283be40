//! CloudStack's `ENC(...)` values and DB-encrypted settings, decrypted the way the
//! management server does it (`utils/src/main/java/com/cloud/utils/crypt/` in
//! apache/cloudstack at 3d6cafe):
//!
//! * **V1** (`LegacyBase64Encryptor`): Jasypt `PBEWithMD5AndDES` with the library defaults,
//!   `base64(salt[8] || DES-CBC-PKCS5(plaintext))`, key and IV from PBKDF1-MD5 with 1000
//!   iterations.
//! * **V2** (`AeadBase64Encryptor`): Tink `AesGcmJce`, key = SHA-256(key string),
//!   empty associated data, `base64(iv[12] || ciphertext || tag[16])`.
//!
//! With no pinned version, decryption tries V2, then V1 (`CloudStackEncryptor`).
//!
//! Every plaintext returned here is held in a [`Plain`] whose `Debug` does not show
//! it; callers compare it and drop it. No error in this module carries key or value
//! material.

use crate::rootfs::RootFs;
use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine as _;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use md5::Digest as _;

/// The management-server key file for `db.cloud.encryption.type=file`.
pub const MS_KEY_FILE: &str = "/etc/cloudstack/management/key";
/// The environment variable for `db.cloud.encryption.type=env`.
pub const MS_KEY_ENV: &str = "CLOUD_SECRET_KEY";

/// A decrypted value: compared in memory, never printed.
pub struct Plain(String);

impl Plain {
    pub fn new(s: String) -> Plain {
        Plain(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plain(***)")
    }
}

/// Which cipher decrypted a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "V1",
            Version::V2 => "V2",
        }
    }
    /// `db.cloud.encryptor.version`: `V1`, `V2`, or empty for "V2 then V1".
    pub fn pinned(s: Option<&str>) -> Result<Option<Version>, String> {
        match s.map(str::trim).unwrap_or("") {
            "" => Ok(None),
            v if v.eq_ignore_ascii_case("v1") => Ok(Some(Version::V1)),
            v if v.eq_ignore_ascii_case("v2") => Ok(Some(Version::V2)),
            _ => Err("db.cloud.encryptor.version is neither V1 nor V2".into()),
        }
    }
}

/// Why a value could not be decrypted (no key or value material inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptError {
    NotBase64,
    TooShort,
    /// Wrong key, or not a value of this cipher.
    Rejected,
}

impl std::fmt::Display for DecryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecryptError::NotBase64 => "ciphertext is not base64",
            DecryptError::TooShort => "ciphertext is too short",
            DecryptError::Rejected => "wrong key or not a CloudStack ciphertext",
        })
    }
}

fn b64(s: &str) -> Result<Vec<u8>, DecryptError> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(t.as_bytes())
        .map_err(|_| DecryptError::NotBase64)
}

/// Jasypt `PBEWithMD5AndDES`, 1000 iterations, 8-byte salt prefix.
pub fn decrypt_v1(key: &str, b64_ct: &str) -> Result<Plain, DecryptError> {
    let raw = b64(b64_ct)?;
    if raw.len() < 16 || (raw.len() - 8) % 8 != 0 {
        return Err(DecryptError::TooShort);
    }
    let (salt, ct) = raw.split_at(8);
    // PBEKeySpec keeps chars; SunJCE's PBE key takes their low bytes.
    let pw: Vec<u8> = key.chars().map(|c| c as u32 as u8).collect();
    let mut h = md5::Md5::new();
    h.update(&pw);
    h.update(salt);
    let mut dk: [u8; 16] = h.finalize().into();
    for _ in 1..1000 {
        dk = md5::Md5::digest(dk).into();
    }
    let dec = cbc::Decryptor::<des::Des>::new_from_slices(&dk[..8], &dk[8..16])
        .map_err(|_| DecryptError::Rejected)?;
    let pt = dec
        .decrypt_padded_vec::<cbc::cipher::block_padding::Pkcs7>(ct)
        .map_err(|_| DecryptError::Rejected)?;
    // A wrong key passes the padding check about 1 time in 256: insist on UTF-8.
    String::from_utf8(pt)
        .map(Plain)
        .map_err(|_| DecryptError::Rejected)
}

/// Tink AES-256-GCM (RAW prefix): key = SHA-256(key string), empty AAD.
pub fn decrypt_v2(key: &str, b64_ct: &str) -> Result<Plain, DecryptError> {
    let raw = b64(b64_ct)?;
    if raw.len() < 12 + 16 {
        return Err(DecryptError::TooShort);
    }
    let k: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&k).map_err(|_| DecryptError::Rejected)?;
    let (iv, ct) = raw.split_at(12);
    let nonce = aes_gcm::Nonce::try_from(iv).map_err(|_| DecryptError::TooShort)?;
    let pt = cipher
        .decrypt(&nonce, ct)
        .map_err(|_| DecryptError::Rejected)?;
    String::from_utf8(pt)
        .map(Plain)
        .map_err(|_| DecryptError::Rejected)
}

/// `CloudStackEncryptor.decrypt`: the pinned version, else V2 then V1.
pub fn decrypt(
    key: &str,
    b64_ct: &str,
    pinned: Option<Version>,
) -> Result<(Plain, Version), DecryptError> {
    match pinned {
        Some(Version::V1) => decrypt_v1(key, b64_ct).map(|p| (p, Version::V1)),
        Some(Version::V2) => decrypt_v2(key, b64_ct).map(|p| (p, Version::V2)),
        None => match decrypt_v2(key, b64_ct) {
            Ok(p) => Ok((p, Version::V2)),
            Err(e2) => decrypt_v1(key, b64_ct)
                .map(|p| (p, Version::V1))
                .map_err(|e1| {
                    if e2 == DecryptError::NotBase64 {
                        e2
                    } else {
                        e1
                    }
                }),
        },
    }
}

/// The management-server key, or why it is not available.
pub struct MsKey {
    key: Option<Plain>,
    /// Where it came from (`--key-file PATH`, `/etc/cloudstack/management/key`,
    /// `env CLOUD_SECRET_KEY`), or why there is none.
    pub origin: String,
}

impl std::fmt::Debug for MsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsKey")
            .field("available", &self.key.is_some())
            .field("origin", &self.origin)
            .finish()
    }
}

impl MsKey {
    pub fn get(&self) -> Option<&str> {
        self.key.as_ref().map(Plain::expose)
    }
    fn none(origin: impl Into<String>) -> MsKey {
        MsKey {
            key: None,
            origin: origin.into(),
        }
    }

    /// Finds the key as the server would for `encryption_type`, unless the operator
    /// gave `--key-file` (read from the auditor's own filesystem) which always wins.
    /// `env_key` is the auditor's `CLOUD_SECRET_KEY` (passed in so tests control it).
    pub fn resolve(
        fs: &RootFs,
        encryption_type: Option<&str>,
        key_file: Option<&std::path::Path>,
        env_key: Option<String>,
    ) -> MsKey {
        if let Some(p) = key_file {
            return match crate::opfiles::read_capped(p, crate::opfiles::KEY_FILE_CAP) {
                Ok(b) => match first_line(&b) {
                    Some(k) => MsKey {
                        key: Some(Plain(k)),
                        origin: format!("--key-file {}", p.display()),
                    },
                    None => MsKey::none(format!("--key-file {}: empty", p.display())),
                },
                Err(e) => MsKey::none(format!("--key-file {}: {e}", p.display())),
            };
        }
        match encryption_type.map(str::trim).unwrap_or("none") {
            "file" => match fs.read_capped(MS_KEY_FILE, 64 * 1024) {
                Ok(b) => match first_line(&b) {
                    Some(k) => MsKey {
                        key: Some(Plain(k)),
                        origin: MS_KEY_FILE.into(),
                    },
                    None => MsKey::none(format!("{MS_KEY_FILE}: empty")),
                },
                Err(e) => MsKey::none(format!("{MS_KEY_FILE}: {e}")),
            },
            "env" => match env_key.filter(|k| !k.is_empty()) {
                Some(k) => MsKey {
                    key: Some(Plain(k)),
                    origin: format!("env {MS_KEY_ENV}"),
                },
                None => match env_file_key(fs) {
                    Some((k, path)) => MsKey {
                        key: Some(Plain(k)),
                        origin: format!("{MS_KEY_ENV} in {path}"),
                    },
                    None => MsKey::none(format!(
                        "encryption type env: {MS_KEY_ENV} is set neither in the auditor's \
                         environment nor in {}",
                        ENV_FILES.join(" or ")
                    )),
                },
            },
            "web" => MsKey::none(
                "encryption type web: the key is sent to the management server over port 8097 \
                 at startup and cannot be reproduced offline (give --key-file)",
            ),
            "none" | "" => MsKey::none("encryption type none: values are not encrypted"),
            _ => MsKey::none("unknown encryption type"),
        }
    }
}

/// The environment files of the management-server service (`EnvironmentFile=` of
/// `packaging/systemd/cloudstack-management.service`; EL installs may keep a sysconfig copy).
pub const ENV_FILES: &[&str] = &[
    "/etc/default/cloudstack-management",
    "/etc/sysconfig/cloudstack-management",
];

/// `CLOUD_SECRET_KEY=...` from the service's environment file under the root, with the
/// file it came from (systemd syntax: optional quotes; `export` tolerated).
fn env_file_key(fs: &RootFs) -> Option<(String, &'static str)> {
    for path in ENV_FILES {
        let Ok(b) = fs.read_capped(path, 64 * 1024) else {
            continue;
        };
        let text = String::from_utf8_lossy(&b);
        for line in text.lines() {
            let l = line.trim();
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            let Some(v) = l
                .strip_prefix(MS_KEY_ENV)
                .and_then(|r| r.trim_start().strip_prefix('='))
            else {
                continue;
            };
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            if !v.is_empty() {
                return Some((v.to_string(), path));
            }
        }
    }
    None
}

/// Whether the key equals `candidate`, compared in constant time (over SHA-256 digests,
/// so neither the length nor the first differing byte shows in the timing).
pub fn key_equals(key: &str, candidate: &str) -> bool {
    let a: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let b: [u8; 32] = sha2::Sha256::digest(candidate.as_bytes()).into();
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The first line of a key file, as `ClassLoader.getResourceAsStream("key")` +
/// `readLine()` gives it (no trailing CR/LF).
fn first_line(b: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(b);
    let l = s.lines().next()?.trim_end_matches('\r').to_string();
    (!l.is_empty()).then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt_v2(key: &str, pt: &str, iv: [u8; 12]) -> String {
        let k: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
        let c = aes_gcm::Aes256Gcm::new_from_slice(&k).unwrap();
        let mut out = iv.to_vec();
        out.extend(
            c.encrypt(&aes_gcm::Nonce::try_from(&iv[..]).unwrap(), pt.as_bytes())
                .unwrap(),
        );
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    #[test]
    fn v2_round_trip_and_wrong_key() {
        let ct = encrypt_v2("k3y", "s3cret", [7; 12]);
        assert_eq!(decrypt_v2("k3y", &ct).unwrap().expose(), "s3cret");
        assert_eq!(decrypt_v2("nope", &ct).unwrap_err(), DecryptError::Rejected);
        let (p, v) = decrypt("k3y", &ct, None).unwrap();
        assert_eq!((p.expose(), v), ("s3cret", Version::V2));
        assert!(decrypt("k3y", &ct, Some(Version::V1)).is_err());
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        for s in [
            "",
            "!!!",
            "AAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(decrypt("k", s, None).is_err(), "{s}");
        }
    }

    #[test]
    fn plain_debug_hides_value() {
        let p = Plain::new("canary-xyz".into());
        assert!(!format!("{p:?}").contains("canary"));
    }
}
