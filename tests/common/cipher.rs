//! CloudStack ciphertexts for test data.
//!
//! * [`v2`]: the V2 layout (Tink AES-GCM, key = SHA-256 of the key text, 12-byte IV
//!   prefix), written here with the `aes-gcm` crate; the layout itself is proven against
//!   Tink in tests/encryption_oracles.rs.
//! * [`jasypt_v1`]: V1 from Jasypt itself (Debian's libjasypt-java, the library
//!   CloudStack's V1 wraps), PBEWithMD5AndDES.

use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine as _;
use sha2::Digest as _;
use std::process::Command;

pub const JASYPT: &str = "/usr/share/java/jasypt.jar";

/// V2 ciphertext of `pt` under `key` (each call a new IV).
pub fn v2(key: &str, pt: &str) -> String {
    static N: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);
    let k: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let c = aes_gcm::Aes256Gcm::new_from_slice(&k).unwrap();
    let iv = [N.fetch_add(1, std::sync::atomic::Ordering::SeqCst); 12];
    let mut out = iv.to_vec();
    out.extend(
        c.encrypt(&aes_gcm::Nonce::try_from(&iv[..]).unwrap(), pt.as_bytes())
            .unwrap(),
    );
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// V1 ciphertext from Jasypt's CLI; `None` (after a SKIP line, or a panic under CI) when
/// the jar is missing.
pub fn jasypt_v1(key: &str, pt: &str) -> Option<String> {
    if !std::path::Path::new(JASYPT).is_file() {
        super::mariadb::skip("jasypt (apt-get install libjasypt-java)");
        return None;
    }
    let o = Command::new("java")
        .args([
            "-cp",
            JASYPT,
            "org.jasypt.intf.cli.JasyptPBEStringEncryptionCLI",
        ])
        .arg(format!("input={pt}"))
        .arg(format!("password={key}"))
        .args(["algorithm=PBEWithMD5AndDES", "verbose=false"])
        .output()
        .ok()?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ct = String::from_utf8(o.stdout).unwrap().trim().to_string();
    // SunJCE's PBE refuses non-ASCII passwords ("Password is not ASCII"), so V1 keys
    // are ASCII in practice; the CLI then prints nothing.
    assert!(
        !ct.is_empty(),
        "jasypt gave no ciphertext: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(ct)
}
