//! Whether a stored CloudStack user password hash is the hash of a shipped default
//! (`password`, which `enableAdminUser("password")` gives the built-in admin, H1), for
//! every encoder CloudStack stores:
//!
//! - PBKDF2 (`PBKDF2UserAuthenticator`): `b64(salt):b64(key):rounds`, PBKDF2-HMAC-SHA1
//!   (Bouncy Castle `PKCS5S2ParametersGenerator`, ASCII password bytes), 512-bit key;
//! - SHA256SALT (`SHA256SaltedUserAuthenticator`): `b64(salt):b64(SHA-256(password ‖ salt))`;
//! - MD5 (`MD5UserAuthenticator`): 32 lower-case hex digits of MD5(password);
//! - PLAINTEXT: the password itself.
//!
//! The stored hash is compared in memory and never kept or printed.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use md5::Digest as _;

/// Upper bound on PBKDF2 rounds the auditor will compute (a hostile row could ask for
/// billions); CloudStack writes 100,000.
pub const MAX_ROUNDS: u32 = 2_000_000;

/// The default the check compares with.
pub const DEFAULT_ADMIN_PASSWORD: &str = "password";

/// `Some(true)` when `stored` is the hash of `candidate` under a CloudStack encoder,
/// `Some(false)` when it is a recognised format of another password, `None` when the
/// format is not recognised (or asks for more than `MAX_ROUNDS`).
pub fn matches(stored: &str, candidate: &str) -> Option<bool> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let parts: Vec<&str> = stored.split(':').collect();
    match parts.as_slice() {
        [salt, key, rounds] if !rounds.is_empty() && rounds.bytes().all(|b| b.is_ascii_digit()) => {
            let rounds: u32 = rounds.parse().ok()?;
            if rounds == 0 || rounds > MAX_ROUNDS {
                return None;
            }
            let (salt, key) = (b64.decode(salt).ok()?, b64.decode(key).ok()?);
            if key.is_empty() || key.len() > 256 {
                return None;
            }
            // PKCS5PasswordToBytes: the low byte of each char.
            let pw: Vec<u8> = candidate.chars().map(|c| c as u32 as u8).collect();
            // Only the first PBKDF2 block (20 bytes) is derived and compared: equal first
            // blocks mean the same password (a 160-bit HMAC-SHA1 preimage otherwise), and
            // CloudStack's 64-byte keys would cost four blocks of `rounds` each.
            let n = key.len().min(SHA1_LEN);
            Some(pbkdf2_sha1_block(&pw, &salt, rounds, 1)[..n] == key[..n])
        }
        [salt, hash] => {
            let (salt, hash) = (b64.decode(salt).ok()?, b64.decode(hash).ok()?);
            if hash.len() != 32 {
                return None;
            }
            let mut h = sha2::Sha256::new();
            h.update(candidate.as_bytes());
            h.update(&salt);
            Some(h.finalize().as_slice() == hash.as_slice())
        }
        [one] if one.len() == 32 && one.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let d = md5::Md5::digest(candidate.as_bytes());
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            Some(one.eq_ignore_ascii_case(&hex))
        }
        // PLAINTEXT stores the password as it is.
        [one] => Some(*one == candidate),
        _ => None,
    }
}

/// Output size of SHA-1, so of one PBKDF2-HMAC-SHA1 block.
const SHA1_LEN: usize = 20;

/// Block `index` (1-based) of PBKDF2 (RFC 8018) with HMAC-SHA1: `U1 ^ U2 ^ ... ^ Urounds`.
fn pbkdf2_sha1_block(password: &[u8], salt: &[u8], rounds: u32, index: u32) -> [u8; SHA1_LEN] {
    type HmacSha1 = hmac::Hmac<sha1::Sha1>;
    let prf = HmacSha1::new_from_slice(password).expect("HMAC takes any key length");
    let mut m = prf.clone();
    m.update(salt);
    m.update(&index.to_be_bytes());
    let mut u = m.finalize().into_bytes();
    let mut t = u;
    for _ in 1..rounds {
        let mut m = prf.clone();
        m.update(&u);
        u = m.finalize().into_bytes();
        for (x, y) in t.iter_mut().zip(u.iter()) {
            *x ^= y;
        }
    }
    t.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole PBKDF2 output (blocks 1, 2, ...), to check the block function against
    /// multi-block vectors.
    fn pbkdf2_sha1(password: &[u8], salt: &[u8], rounds: u32, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut index = 1;
        while out.len() < len {
            out.extend_from_slice(&pbkdf2_sha1_block(password, salt, rounds, index));
            index += 1;
        }
        out.truncate(len);
        out
    }

    #[test]
    fn pbkdf2_rfc6070_vectors() {
        // RFC 6070 test vectors for PBKDF2-HMAC-SHA1.
        let hex = |v: &[u8]| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(&pbkdf2_sha1(b"password", b"salt", 1, 20)),
            "0c60c80f961f0e71f3a9b524af6012062fe037a6"
        );
        assert_eq!(
            hex(&pbkdf2_sha1(b"password", b"salt", 4096, 20)),
            "4b007901b765489abead49d926f721d065a429c1"
        );
        assert_eq!(
            hex(&pbkdf2_sha1(
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096,
                25
            )),
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"
        );
    }

    #[test]
    fn pbkdf2_cloudstack_shape_first_block_decides() {
        // 64-byte keys at CloudStack's 100,000 rounds, made with Python's
        // hashlib.pbkdf2_hmac("sha1", pw, b"CloudStack-salt-16", 100000, 64).
        let default = "Q2xvdWRTdGFjay1zYWx0LTE2:UMlU6hNEFGauMgHGq+x6b3J1DxTWzvWxHYp77BoUfvFpSm9utcc/om6Ivi4TLXcw2EE4nEzUeFNYA1b0ZO0kWA==:100000";
        let other = "Q2xvdWRTdGFjay1zYWx0LTE2:mVQZWabKRPeeY+YJM3zH22+AAQWqfTOHntsF9ALSXu0RJS+oB6Tz6378HRjDUsRaROVMfJu5wA7HApEerz677Q==:100000";
        assert_eq!(matches(default, "password"), Some(true));
        assert_eq!(matches(other, "password"), Some(false));
        assert_eq!(matches(other, "Passw0rd!"), Some(true));
        // A key shorter than one block compares what it has.
        let short = pbkdf2_sha1(b"password", b"salt", 2, 12);
        let b64 = base64::engine::general_purpose::STANDARD;
        let stored = format!("{}:{}:2", b64.encode(b"salt"), b64.encode(&short));
        assert_eq!(matches(&stored, "password"), Some(true));
        assert_eq!(matches(&stored, "passwort"), Some(false));
    }

    #[test]
    fn md5_and_plaintext_and_unknown() {
        assert_eq!(
            matches("5f4dcc3b5aa765d61d8327deb882cf99", "password"),
            Some(true)
        );
        assert_eq!(
            matches("5F4DCC3B5AA765D61D8327DEB882CF99", "password"),
            Some(true)
        );
        assert_eq!(
            matches("0123456789abcdef0123456789abcdef", "password"),
            Some(false)
        );
        assert_eq!(matches("password", "password"), Some(true));
        assert_eq!(matches("a:b:c:d", "password"), None);
        // A hostile round count is not computed.
        assert_eq!(matches("c2FsdA==:AAAA:999999999", "password"), None);
    }
}
