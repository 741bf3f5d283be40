//! The cipher suites and protocol versions the hand-built ClientHellos offer, and the
//! classes (weak, CBC, static RSA) the probes ask about. Pure data.

/// A protocol version on the wire (`major`, `minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16);

impl Version {
    pub const SSL3: Version = Version(0x0300);
    pub const TLS10: Version = Version(0x0301);
    pub const TLS11: Version = Version(0x0302);
    pub const TLS12: Version = Version(0x0303);
    pub const TLS13: Version = Version(0x0304);

    /// The name used in facts (`SSLv3`, `TLSv1.0`, ...).
    pub fn name(self) -> String {
        match self {
            Version::SSL3 => "SSLv3".into(),
            Version::TLS10 => "TLSv1.0".into(),
            Version::TLS11 => "TLSv1.1".into(),
            Version::TLS12 => "TLSv1.2".into(),
            Version::TLS13 => "TLSv1.3".into(),
            Version(v) => format!("0x{v:04x}"),
        }
    }
}

/// Cipher-suite classes that must be off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WeakClass {
    Null,
    Export,
    Rc4,
    Des,
    TripleDes,
    Anonymous,
}

impl WeakClass {
    pub const ALL: [WeakClass; 6] = [
        WeakClass::Null,
        WeakClass::Export,
        WeakClass::Rc4,
        WeakClass::Des,
        WeakClass::TripleDes,
        WeakClass::Anonymous,
    ];
    pub fn name(self) -> &'static str {
        match self {
            WeakClass::Null => "NULL",
            WeakClass::Export => "EXPORT",
            WeakClass::Rc4 => "RC4",
            WeakClass::Des => "DES",
            WeakClass::TripleDes => "3DES",
            WeakClass::Anonymous => "anonymous",
        }
    }
}

/// One cipher suite this module knows: IANA code, IANA name, and its weak classes.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    pub code: u16,
    pub name: &'static str,
    /// CBC-mode block cipher (the class that must be off with TLS 1.0).
    pub cbc: bool,
    /// Only defined for TLS 1.2 (SHA-256/384 MACs, GCM, ChaCha20).
    pub tls12_only: bool,
}

macro_rules! suites {
    ($( $code:literal $name:literal $cbc:literal $t12:literal ;)*) => {
        &[ $( Suite { code: $code, name: $name, cbc: $cbc, tls12_only: $t12 }, )* ]
    };
}

/// The suites offered by the probes (TLS 1.2 and older; TLS 1.3 is probed with rustls).
pub static SUITES: &[Suite] = suites! {
    0x0001 "TLS_RSA_WITH_NULL_MD5" false false;
    0x0002 "TLS_RSA_WITH_NULL_SHA" false false;
    0x0003 "TLS_RSA_EXPORT_WITH_RC4_40_MD5" false false;
    0x0004 "TLS_RSA_WITH_RC4_128_MD5" false false;
    0x0005 "TLS_RSA_WITH_RC4_128_SHA" false false;
    0x0006 "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5" true false;
    0x0007 "TLS_RSA_WITH_IDEA_CBC_SHA" true false;
    0x0008 "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x0009 "TLS_RSA_WITH_DES_CBC_SHA" true false;
    0x000A "TLS_RSA_WITH_3DES_EDE_CBC_SHA" true false;
    0x000B "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x000C "TLS_DH_DSS_WITH_DES_CBC_SHA" true false;
    0x000D "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA" true false;
    0x000E "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x000F "TLS_DH_RSA_WITH_DES_CBC_SHA" true false;
    0x0010 "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA" true false;
    0x0011 "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x0012 "TLS_DHE_DSS_WITH_DES_CBC_SHA" true false;
    0x0013 "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA" true false;
    0x0014 "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x0015 "TLS_DHE_RSA_WITH_DES_CBC_SHA" true false;
    0x0016 "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" true false;
    0x0017 "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5" false false;
    0x0018 "TLS_DH_anon_WITH_RC4_128_MD5" false false;
    0x0019 "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA" true false;
    0x001A "TLS_DH_anon_WITH_DES_CBC_SHA" true false;
    0x001B "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA" true false;
    0x002F "TLS_RSA_WITH_AES_128_CBC_SHA" true false;
    0x0032 "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" true false;
    0x0033 "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" true false;
    0x0034 "TLS_DH_anon_WITH_AES_128_CBC_SHA" true false;
    0x0035 "TLS_RSA_WITH_AES_256_CBC_SHA" true false;
    0x0038 "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" true false;
    0x0039 "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" true false;
    0x003A "TLS_DH_anon_WITH_AES_256_CBC_SHA" true false;
    0x003B "TLS_RSA_WITH_NULL_SHA256" false true;
    0x003C "TLS_RSA_WITH_AES_128_CBC_SHA256" true true;
    0x003D "TLS_RSA_WITH_AES_256_CBC_SHA256" true true;
    0x0040 "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256" true true;
    0x0041 "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" true false;
    0x0045 "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA" true false;
    0x0046 "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA" true false;
    0x0062 "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA" true false;
    0x0063 "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA" true false;
    0x0064 "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA" false false;
    0x0065 "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA" false false;
    0x0067 "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" true true;
    0x006A "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256" true true;
    0x006B "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" true true;
    0x006C "TLS_DH_anon_WITH_AES_128_CBC_SHA256" true true;
    0x006D "TLS_DH_anon_WITH_AES_256_CBC_SHA256" true true;
    0x0084 "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" true false;
    0x0088 "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA" true false;
    0x0089 "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA" true false;
    0x0096 "TLS_RSA_WITH_SEED_CBC_SHA" true false;
    0x009A "TLS_DHE_RSA_WITH_SEED_CBC_SHA" true false;
    0x009C "TLS_RSA_WITH_AES_128_GCM_SHA256" false true;
    0x009D "TLS_RSA_WITH_AES_256_GCM_SHA384" false true;
    0x009E "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" false true;
    0x009F "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" false true;
    0x00A6 "TLS_DH_anon_WITH_AES_128_GCM_SHA256" false true;
    0x00A7 "TLS_DH_anon_WITH_AES_256_GCM_SHA384" false true;
    0x00BA "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256" true true;
    0x00BE "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" true true;
    0x00BF "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256" true true;
    0x00C0 "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256" true true;
    0x00C4 "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256" true true;
    0x00C5 "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256" true true;
    0xC001 "TLS_ECDH_ECDSA_WITH_NULL_SHA" false false;
    0xC002 "TLS_ECDH_ECDSA_WITH_RC4_128_SHA" false false;
    0xC003 "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA" true false;
    0xC004 "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA" true false;
    0xC005 "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA" true false;
    0xC006 "TLS_ECDHE_ECDSA_WITH_NULL_SHA" false false;
    0xC007 "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" false false;
    0xC008 "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" true false;
    0xC009 "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" true false;
    0xC00A "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" true false;
    0xC00B "TLS_ECDH_RSA_WITH_NULL_SHA" false false;
    0xC00C "TLS_ECDH_RSA_WITH_RC4_128_SHA" false false;
    0xC00D "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA" true false;
    0xC00E "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA" true false;
    0xC00F "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA" true false;
    0xC010 "TLS_ECDHE_RSA_WITH_NULL_SHA" false false;
    0xC011 "TLS_ECDHE_RSA_WITH_RC4_128_SHA" false false;
    0xC012 "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" true false;
    0xC013 "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" true false;
    0xC014 "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" true false;
    0xC015 "TLS_ECDH_anon_WITH_NULL_SHA" false false;
    0xC016 "TLS_ECDH_anon_WITH_RC4_128_SHA" false false;
    0xC017 "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA" true false;
    0xC018 "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" true false;
    0xC019 "TLS_ECDH_anon_WITH_AES_256_CBC_SHA" true false;
    0xC023 "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" true true;
    0xC024 "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" true true;
    0xC025 "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256" true true;
    0xC026 "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384" true true;
    0xC027 "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" true true;
    0xC028 "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" true true;
    0xC029 "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256" true true;
    0xC02A "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384" true true;
    0xC02B "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" false true;
    0xC02C "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" false true;
    0xC02F "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" false true;
    0xC030 "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" false true;
    0xC03C "TLS_RSA_WITH_ARIA_128_CBC_SHA256" true true;
    0xC03D "TLS_RSA_WITH_ARIA_256_CBC_SHA384" true true;
    0xC050 "TLS_RSA_WITH_ARIA_128_GCM_SHA256" false true;
    0xC051 "TLS_RSA_WITH_ARIA_256_GCM_SHA384" false true;
    0xC072 "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256" true true;
    0xC073 "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384" true true;
    0xC076 "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" true true;
    0xC077 "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384" true true;
    0xC09C "TLS_RSA_WITH_AES_128_CCM" false true;
    0xC09D "TLS_RSA_WITH_AES_256_CCM" false true;
    0xC0A0 "TLS_RSA_WITH_AES_128_CCM_8" false true;
    0xC0A1 "TLS_RSA_WITH_AES_256_CCM_8" false true;
    0xCCA8 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" false true;
    0xCCA9 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" false true;
    0xCCAA "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" false true;
};

impl Suite {
    /// The weak classes of this suite, derived from its IANA name.
    pub fn classes(&self) -> Vec<WeakClass> {
        let n = self.name;
        let mut out = Vec::new();
        if n.ends_with("_NULL_MD5") || n.contains("_WITH_NULL_") {
            out.push(WeakClass::Null);
        }
        if n.contains("EXPORT") {
            out.push(WeakClass::Export);
        }
        if n.contains("_RC4_") {
            out.push(WeakClass::Rc4);
        }
        if n.contains("_DES_CBC_") || n.contains("_DES40_") {
            out.push(WeakClass::Des);
        }
        if n.contains("_3DES_") {
            out.push(WeakClass::TripleDes);
        }
        if n.contains("_anon_") {
            out.push(WeakClass::Anonymous);
        }
        out
    }
}

/// The known suite with this code.
pub fn suite(code: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.code == code)
}

/// The suites to offer to see whether `version` is accepted at all.
pub fn suites_for_version(version: Version) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| version >= Version::TLS12 || !s.tls12_only)
        .map(|s| s.code)
        .collect()
}

/// The suites of one weak class valid at `version`.
pub fn suites_of_class(class: WeakClass, version: Version) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| version >= Version::TLS12 || !s.tls12_only)
        .filter(|s| s.classes().contains(&class))
        .map(|s| s.code)
        .collect()
}

impl Suite {
    /// Static RSA key transport (`TLS_RSA_*`): the premaster secret is encrypted to the
    /// certificate key, so whoever gets that key later decrypts recorded sessions (no
    /// forward secrecy).
    pub fn rsa_kx(&self) -> bool {
        self.name.starts_with("TLS_RSA_")
    }
}

/// Whether `s` may be offered at `version` (SHA-256/GCM suites only from TLS 1.2).
fn valid_at(s: &Suite, version: Version) -> bool {
    version >= Version::TLS12 || !s.tls12_only
}

/// CBC-mode (non-AEAD) suites valid at `version`.
pub fn cbc_suites_at(version: Version) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| s.cbc && valid_at(s, version))
        .map(|s| s.code)
        .collect()
}

/// The IANA name of a suite, or its code in hex when this module does not know it.
pub fn suite_name(code: u16) -> String {
    suite(code)
        .map(|x| x.name.to_string())
        .unwrap_or_else(|| format!("0x{code:04x}"))
}

/// Ephemeral finite-field Diffie-Hellman suites (`TLS_DHE_*`, authenticated: not the
/// anonymous ones, which are a weak class of their own) valid at `version`.
pub fn dhe_suites(version: Version) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| s.name.starts_with("TLS_DHE_") && valid_at(s, version))
        .map(|s| s.code)
        .collect()
}

/// Static-RSA key-exchange suites valid at `version` (every bulk cipher: the probe asks
/// only whether the key exchange is accepted).
pub fn rsa_kx_suites(version: Version) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| s.rsa_kx() && valid_at(s, version))
        .map(|s| s.code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::tls::hello::client_hello;

    #[test]
    fn classes_follow_the_names() {
        assert_eq!(suite(0x000A).unwrap().classes(), vec![WeakClass::TripleDes]);
        assert_eq!(suite(0x0005).unwrap().classes(), vec![WeakClass::Rc4]);
        assert_eq!(
            suite(0x0003).unwrap().classes(),
            vec![WeakClass::Export, WeakClass::Rc4]
        );
        assert_eq!(suite(0x0002).unwrap().classes(), vec![WeakClass::Null]);
        assert_eq!(suite(0x0001).unwrap().classes(), vec![WeakClass::Null]);
        assert_eq!(
            suite(0xC015).unwrap().classes(),
            vec![WeakClass::Null, WeakClass::Anonymous]
        );
        assert_eq!(
            suite(0x001A).unwrap().classes(),
            vec![WeakClass::Des, WeakClass::Anonymous]
        );
        assert!(suite(0xC02F).unwrap().classes().is_empty());
        assert!(suite(0x002F).unwrap().classes().is_empty());
        for c in WeakClass::ALL {
            assert!(!suites_of_class(c, Version::TLS10).is_empty(), "{c:?}");
        }
        let codes: std::collections::BTreeSet<u16> = SUITES.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), SUITES.len(), "suite codes are unique");
    }

    #[test]
    fn cbc_and_static_rsa_offers() {
        let cbc12 = cbc_suites_at(Version::TLS12);
        let cbc11 = cbc_suites_at(Version::TLS11);
        // AES128-SHA (static RSA + CBC) is in both offers, at every version.
        for v in [
            Version::SSL3,
            Version::TLS10,
            Version::TLS11,
            Version::TLS12,
        ] {
            assert!(cbc_suites_at(v).contains(&0x002F), "{v:?}");
            assert!(rsa_kx_suites(v).contains(&0x002F), "{v:?}");
        }
        // TLS 1.2-only CBC suites (SHA-256 MACs) only at TLS 1.2.
        assert!(cbc12.contains(&0xC027) && !cbc11.contains(&0xC027));
        assert_eq!(suite_name(0x002F), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(suite_name(0xFFFF), "0xffff");
        // No AEAD suite in the CBC offer; no ephemeral or anonymous suite in the RSA offer.
        for c in &cbc12 {
            let n = suite(*c).unwrap().name;
            assert!(n.contains("_CBC_"), "{n}");
            assert!(!n.contains("GCM") && !n.contains("CHACHA") && !n.contains("CCM"));
        }
        let rsa12 = rsa_kx_suites(Version::TLS12);
        for c in &rsa12 {
            let n = suite(*c).unwrap().name;
            assert!(n.starts_with("TLS_RSA_"), "{n}");
            assert!(!n.contains("DHE") && !n.contains("anon"));
        }
        // Static RSA with AEAD is still static RSA; ECDHE-RSA is not.
        assert!(rsa12.contains(&0x009C));
        assert!(!rsa12.contains(&0xC02F) && !rsa12.contains(&0xC013));
        assert!(!suite(0xC02F).unwrap().cbc && suite(0xC013).unwrap().cbc);
        // The hellos carrying these offers are well formed.
        for (v, offer) in [
            (Version::TLS12, &cbc12),
            (Version::TLS12, &rsa12),
            (Version::TLS11, &cbc11),
        ] {
            let h = client_hello(v, offer, Some("ms.test"), [3; 32]);
            assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
            let n = usize::from(u16::from_be_bytes([h[44], h[45]])) / 2;
            assert_eq!(n, offer.len());
        }
    }
}
