//! Certificate analysis with x509-parser. Pure: DER in, a serialisable summary out.
//! Only public data goes into the summary (names, dates, key type and size, algorithm
//! names, SANs, a SHA-256 fingerprint of the public certificate).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// What the analysis says about one certificate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds (checks use `days_until_at_least` on it).
    pub not_after: i64,
    /// Whole days from collection time to `not_after` (negative once expired).
    pub days_left: i64,
    pub expired: bool,
    pub not_yet_valid: bool,
    /// `RSA`, `EC`, `DSA`, `Ed25519`, `Ed448`, or the algorithm OID.
    pub key_type: String,
    pub key_bits: u32,
    /// OpenSSL short name of the signature algorithm, e.g. `sha256WithRSAEncryption`.
    pub signature_algorithm: String,
    /// Signed with MD2/MD5/SHA-1.
    pub weak_signature: bool,
    /// Subject equals issuer and the certificate verifies with its own key.
    pub self_signed: bool,
    pub is_ca: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_len: Option<u32>,
    pub key_usage: Vec<String>,
    pub ext_key_usage: Vec<String>,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<String>,
    /// SHA-256 of the DER certificate (public data), lower-case hex.
    pub sha256: String,
}

/// Parses and analyses one DER certificate at time `now` (unix seconds).
pub fn analyze(der: &[u8], now: i64) -> Result<CertInfo, String> {
    let (_, c) =
        X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let not_before = c.validity().not_before.timestamp();
    let not_after = c.validity().not_after.timestamp();
    let spki = c.public_key();
    let (key_type, key_bits) = key_of(spki);
    let sig_oid = &c.signature_algorithm.algorithm;
    let signature_algorithm = oid2sn(sig_oid, oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| sig_oid.to_id_string());
    let lower = signature_algorithm.to_ascii_lowercase();
    let weak_signature = lower.contains("sha1")
        || lower.contains("md5")
        || lower.contains("md2")
        || lower == "dsawithsha1"
        || lower == "ecdsa-with-sha1";
    let self_signed = c.subject().as_raw() == c.issuer().as_raw() && verifies_with(&c, spki);
    let (is_ca, path_len) = match c.basic_constraints() {
        Ok(Some(bc)) => (bc.value.ca, bc.value.path_len_constraint),
        _ => (false, None),
    };
    let mut key_usage = Vec::new();
    if let Ok(Some(ku)) = c.key_usage() {
        let k = ku.value;
        for (set, name) in [
            (k.digital_signature(), "digitalSignature"),
            (k.non_repudiation(), "nonRepudiation"),
            (k.key_encipherment(), "keyEncipherment"),
            (k.data_encipherment(), "dataEncipherment"),
            (k.key_agreement(), "keyAgreement"),
            (k.key_cert_sign(), "keyCertSign"),
            (k.crl_sign(), "cRLSign"),
        ] {
            if set {
                key_usage.push(name.to_string());
            }
        }
    }
    let mut ext_key_usage = Vec::new();
    if let Ok(Some(eku)) = c.extended_key_usage() {
        let e = eku.value;
        for (set, name) in [
            (e.any, "any"),
            (e.server_auth, "serverAuth"),
            (e.client_auth, "clientAuth"),
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.time_stamping, "timeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
        ] {
            if set {
                ext_key_usage.push(name.to_string());
            }
        }
    }
    let mut san_dns = Vec::new();
    let mut san_ip = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => san_dns.push(d.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_of(b) {
                        san_ip.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertInfo {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        serial: c.raw_serial_as_string(),
        not_before,
        not_after,
        days_left: (not_after - now).div_euclid(86_400),
        expired: not_after < now,
        not_yet_valid: not_before > now,
        key_type,
        key_bits,
        signature_algorithm,
        weak_signature,
        self_signed,
        is_ca,
        path_len,
        key_usage,
        ext_key_usage,
        san_dns,
        san_ip,
        sha256: hex(&Sha256::digest(der)),
    })
}

fn verifies_with(c: &X509Certificate<'_>, key: &SubjectPublicKeyInfo<'_>) -> bool {
    c.verify_signature(Some(key)).is_ok()
}

/// Whether `cert_der` was signed by the certificate `issuer_der`: issuer name equals the
/// issuer's subject and the signature verifies with the issuer's public key.
pub fn issued_by(cert_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, c)), Ok((_, i))) = (
        X509Certificate::from_der(cert_der),
        X509Certificate::from_der(issuer_der),
    ) else {
        return false;
    };
    c.issuer().as_raw() == i.subject().as_raw() && verifies_with(&c, i.public_key())
}

fn key_of(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32) {
    let oid = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let m = rsa.modulus;
            let m = &m[m.iter().take_while(|b| **b == 0).count()..];
            let bits = match m.first() {
                Some(b) => (m.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
                None => 0,
            };
            ("RSA".into(), bits)
        }
        Ok(PublicKey::EC(ec)) => ("EC".into(), ec.key_size() as u32),
        Ok(PublicKey::DSA(y)) => ("DSA".into(), (y.len() * 8) as u32),
        _ => match oid.as_str() {
            "1.3.101.112" => ("Ed25519".into(), 256),
            "1.3.101.113" => ("Ed448".into(), 456),
            _ => (oid, 0),
        },
    }
}

fn ip_of(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the certificate names `name` (a DNS name or an IP literal) in its SANs (or,
/// with no SAN at all, in its subject CN), with RFC 6125 single-label wildcards.
pub fn name_matches(info: &CertInfo, name: &str) -> bool {
    let name = name.trim().trim_end_matches('.');
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return info
            .san_ip
            .iter()
            .any(|s| s.parse::<std::net::IpAddr>().ok() == Some(ip));
    }
    let dns_match = |pat: &str| {
        let pat = pat.trim_end_matches('.');
        if pat.eq_ignore_ascii_case(name) {
            return true;
        }
        if let Some(suffix) = pat.strip_prefix("*.") {
            if let Some((first, rest)) = name.split_once('.') {
                return !first.is_empty() && rest.eq_ignore_ascii_case(suffix);
            }
        }
        false
    };
    if info.san_dns.is_empty() && info.san_ip.is_empty() {
        return info
            .subject
            .split(',')
            .filter_map(|p| p.trim().strip_prefix("CN="))
            .any(dns_match);
    }
    info.san_dns.iter().any(|p| dns_match(p))
}

/// PEM text of DER certificates (public data), in order.
pub fn to_pem(ders: &[Vec<u8>]) -> String {
    use base64::Engine;
    let mut out = String::new();
    for d in ders {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b = base64::engine::general_purpose::STANDARD.encode(d);
        for line in b.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// The DER of every certificate in a PEM text (capped at 16 certificates).
pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = pem.as_bytes();
    while out.len() < 16 {
        match x509_parser::pem::parse_x509_pem(rest) {
            Ok((r, p)) => {
                if p.label == "CERTIFICATE" {
                    out.push(p.contents);
                }
                if r.len() >= rest.len() {
                    break;
                }
                rest = r;
            }
            Err(_) => break,
        }
    }
    out
}

/// Maps a Java signature algorithm name (`SHA256withRSA`) to the OpenSSL short name
/// x509-parser reports (`sha256WithRSAEncryption`).
pub fn java_sigalg_to_sn(java: &str) -> Option<&'static str> {
    Some(match java.trim().to_ascii_uppercase().as_str() {
        "SHA1WITHRSA" => "sha1WithRSAEncryption",
        "SHA224WITHRSA" => "sha224WithRSAEncryption",
        "SHA256WITHRSA" => "sha256WithRSAEncryption",
        "SHA384WITHRSA" => "sha384WithRSAEncryption",
        "SHA512WITHRSA" => "sha512WithRSAEncryption",
        "MD5WITHRSA" => "md5WithRSAEncryption",
        "SHA256WITHECDSA" => "ecdsa-with-SHA256",
        "SHA384WITHECDSA" => "ecdsa-with-SHA384",
        "SHA512WITHECDSA" => "ecdsa-with-SHA512",
        "SHA1WITHECDSA" => "ecdsa-with-SHA1",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> CertInfo {
        CertInfo {
            subject: "CN=ms1.example.org".into(),
            issuer: "CN=ca".into(),
            serial: "01".into(),
            not_before: 0,
            not_after: 0,
            days_left: 0,
            expired: false,
            not_yet_valid: false,
            key_type: "EC".into(),
            key_bits: 256,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            weak_signature: false,
            self_signed: false,
            is_ca: false,
            path_len: None,
            key_usage: vec![],
            ext_key_usage: vec![],
            san_dns: vec!["*.cloud.example.org".into(), "cloudstack.internal".into()],
            san_ip: vec!["10.0.0.5".into()],
            sha256: String::new(),
        }
    }

    #[test]
    fn host_names_and_wildcards() {
        let i = info();
        assert!(name_matches(&i, "ms1.cloud.example.org"));
        assert!(name_matches(&i, "MS1.Cloud.Example.Org."));
        assert!(!name_matches(&i, "a.b.cloud.example.org"));
        assert!(!name_matches(&i, "cloud.example.org"));
        assert!(name_matches(&i, "cloudstack.internal"));
        assert!(name_matches(&i, "10.0.0.5"));
        assert!(!name_matches(&i, "10.0.0.6"));
        // No SAN: the subject CN is used.
        let mut j = info();
        j.san_dns.clear();
        j.san_ip.clear();
        assert!(name_matches(&j, "ms1.example.org"));
        assert!(!name_matches(&j, "ms2.example.org"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(analyze(b"not a certificate", 0).is_err());
        assert!(analyze(&[], 0).is_err());
        assert!(pem_certs("-----BEGIN CERTIFICATE-----\n!!!\n").is_empty());
        assert!(!issued_by(b"x", b"y"));
    }

    #[test]
    fn rcgen_certificate_round_trip() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["a.example.org".into()]).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        let c = p.self_signed(&key).unwrap();
        let i = analyze(c.der(), 0).unwrap();
        assert_eq!(i.key_type, "EC");
        assert_eq!(i.key_bits, 256);
        assert_eq!(i.signature_algorithm, "ecdsa-with-SHA256");
        assert!(i.self_signed && i.is_ca && !i.weak_signature);
        assert_eq!(i.path_len, Some(0));
        assert_eq!(i.san_dns, vec!["a.example.org".to_string()]);
        assert!(issued_by(c.der(), c.der()));
        let pem = c.pem();
        assert_eq!(pem_certs(&pem), vec![c.der().to_vec()]);
        let two = vec![c.der().to_vec(), c.der().to_vec()];
        assert_eq!(pem_certs(&to_pem(&two)), two);
        let back: CertInfo = serde_json::from_value(serde_json::to_value(&i).unwrap()).unwrap();
        assert_eq!(back, i);
    }
}
