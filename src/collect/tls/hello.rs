//! Hand-built ClientHellos for the protocol versions and cipher suites rustls cannot speak
//! (SSLv3, TLS 1.0, TLS 1.1, NULL/EXPORT/RC4/DES/3DES/anonymous suites, CBC suites and
//! static-RSA key exchange, which rustls never offers), and a parser for
//! the first flight of the server's answer: a ServerHello (accepted) or an alert (refused).
//!
//! Everything here is pure: [`client_hello`] builds bytes, [`parse_reply`] reads bytes.
//! The I/O around them lives in `probe.rs`. The parser never panics, never allocates more
//! than [`MAX_HANDSHAKE`] bytes and says [`Parse::NeedMore`] until it can decide; it is
//! exercised with random input in the tests below.

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

/// CBC suites valid at TLS 1.0.
pub fn cbc_suites() -> Vec<u16> {
    cbc_suites_at(Version::TLS10)
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

/// Builds one ClientHello record offering `suites` at `version`. `server_name` goes into
/// SNI when it is a DNS name (not an IP literal). `random` is the 32-byte client random.
pub fn client_hello(
    version: Version,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(256 + suites.len() * 2);
    body.extend_from_slice(&version.0.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // session id
    let n = suites.len().min(0x7fff);
    body.extend_from_slice(&((n * 2) as u16).to_be_bytes());
    for s in &suites[..n] {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    if version > Version::SSL3 {
        let mut ext = Vec::new();
        if let Some(name) = server_name.filter(|n| is_dns_name(n)) {
            let name = &name.as_bytes()[..name.len().min(253)];
            let mut sni = Vec::new();
            sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
            sni.push(0);
            sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
            sni.extend_from_slice(name);
            push_ext(&mut ext, 0x0000, &sni);
        }
        // supported_groups: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048
        push_ext(
            &mut ext,
            0x000a,
            &[
                0, 10, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x01, 0x00,
            ],
        );
        // ec_point_formats: uncompressed
        push_ext(&mut ext, 0x000b, &[1, 0]);
        if version >= Version::TLS12 {
            // signature_algorithms, old and new (SHA-1 included so that old servers answer)
            let algs: [u16; 14] = [
                0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203,
                0x0201, 0x0402, 0x0202, 0x0807,
            ];
            let mut sa = Vec::new();
            sa.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
            for a in algs {
                sa.extend_from_slice(&a.to_be_bytes());
            }
            push_ext(&mut ext, 0x000d, &sa);
        }
        push_ext(&mut ext, 0xff01, &[0]); // renegotiation_info (empty)
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
    }
    let mut hs = Vec::with_capacity(body.len() + 4);
    hs.push(1); // client_hello
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = Vec::with_capacity(hs.len() + 5);
    rec.push(22);
    // Record-layer version: TLS 1.0 for everything newer (what real clients do).
    let rv = if version == Version::SSL3 {
        Version::SSL3
    } else {
        Version::TLS10
    };
    rec.extend_from_slice(&rv.0.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A host name usable in SNI: not an IP literal, only LDH labels and dots.
pub fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.parse::<std::net::IpAddr>().is_err()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The largest TLS record a conforming peer sends (2^14 plus expansion).
pub const MAX_RECORD: usize = 16384 + 2048;
/// The largest ServerHello we are willing to reassemble.
pub const MAX_HANDSHAKE: usize = 65536;

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A ServerHello: the server accepts `version` with `suite`.
    Accepted { version: Version, suite: u16 },
    /// A TLS alert as the first answer (`level`, `description`).
    Alert { level: u8, description: u8 },
}

/// Result of parsing the bytes read so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// At least this many more bytes are needed.
    NeedMore(usize),
    Done(Reply),
    /// Not a TLS answer (garbage, oversized record, protocol violation).
    Invalid(&'static str),
}

/// Parses the start of a server's answer to a ClientHello. Pure and total: any input
/// gives a result, never a panic.
pub fn parse_reply(buf: &[u8]) -> Parse {
    let mut hs: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    loop {
        let Some(hdr) = buf.get(pos..pos + 5) else {
            return Parse::NeedMore(pos + 5 - buf.len());
        };
        let ctype = hdr[0];
        let rver = u16::from_be_bytes([hdr[1], hdr[2]]);
        let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
        if hdr[1] != 3 || rver > 0x0304 {
            return Parse::Invalid("not a TLS record (bad record version)");
        }
        if len == 0 {
            return Parse::Invalid("empty TLS record");
        }
        if len > MAX_RECORD {
            return Parse::Invalid("TLS record longer than the protocol allows");
        }
        let Some(frag) = buf.get(pos + 5..pos + 5 + len) else {
            return Parse::NeedMore(pos + 5 + len - buf.len());
        };
        match ctype {
            21 => {
                if !hs.is_empty() {
                    return Parse::Invalid("alert inside a fragmented ServerHello");
                }
                if frag.len() < 2 {
                    return Parse::Invalid("short alert");
                }
                return Parse::Done(Reply::Alert {
                    level: frag[0],
                    description: frag[1],
                });
            }
            22 => {
                if hs.len() + frag.len() > MAX_HANDSHAKE {
                    return Parse::Invalid("ServerHello larger than any real one");
                }
                hs.extend_from_slice(frag);
                if hs.len() >= 4 {
                    if hs[0] != 2 {
                        return Parse::Invalid("first handshake message is not a ServerHello");
                    }
                    let mlen =
                        (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
                    if mlen > MAX_HANDSHAKE {
                        return Parse::Invalid("ServerHello larger than any real one");
                    }
                    if hs.len() >= 4 + mlen {
                        return parse_server_hello(&hs[4..4 + mlen]);
                    }
                }
            }
            _ => return Parse::Invalid("unexpected record type before the ServerHello"),
        }
        pos += 5 + len;
    }
}

fn parse_server_hello(b: &[u8]) -> Parse {
    // version(2) random(32) sid_len(1) sid suite(2) compression(1) [extensions]
    if b.len() < 38 {
        return Parse::Invalid("ServerHello too short");
    }
    let mut version = Version(u16::from_be_bytes([b[0], b[1]]));
    let sid = usize::from(b[34]);
    if sid > 32 {
        return Parse::Invalid("ServerHello session id too long");
    }
    let Some(rest) = b.get(35 + sid..) else {
        return Parse::Invalid("ServerHello truncated");
    };
    if rest.len() < 3 {
        return Parse::Invalid("ServerHello truncated");
    }
    let suite = u16::from_be_bytes([rest[0], rest[1]]);
    let mut ext = &rest[3..];
    if ext.len() >= 2 {
        let elen = usize::from(u16::from_be_bytes([ext[0], ext[1]]));
        ext = match ext.get(2..2 + elen) {
            Some(e) => e,
            None => return Parse::Invalid("ServerHello extensions truncated"),
        };
        while ext.len() >= 4 {
            let kind = u16::from_be_bytes([ext[0], ext[1]]);
            let l = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            let Some(data) = ext.get(4..4 + l) else {
                return Parse::Invalid("ServerHello extension truncated");
            };
            if kind == 0x002b && data.len() == 2 {
                version = Version(u16::from_be_bytes([data[0], data[1]]));
            }
            ext = &ext[4 + l..];
        }
    }
    if !(0x0300..=0x0304).contains(&version.0) {
        return Parse::Invalid("ServerHello names an unknown version");
    }
    Parse::Done(Reply::Accepted { version, suite })
}

/// Cap on the server's first flight when reading its certificates.
pub const MAX_FLIGHT: usize = 256 * 1024;

/// Result of looking for the Certificate message in a TLS <= 1.2 server flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertParse {
    NeedMore,
    /// The certificates as sent (DER, leaf first); empty when the flight has none.
    Done(Vec<Vec<u8>>),
    Invalid(&'static str),
}

/// Reads the server's first flight (ServerHello, Certificate, ...) and returns the
/// certificate list. Pure and total, like [`parse_reply`].
pub fn parse_flight_certs(buf: &[u8]) -> CertParse {
    let mut hs: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    loop {
        // Walk the complete handshake messages reassembled so far.
        let mut m = 0usize;
        while let Some(h) = hs.get(m..m + 4) {
            let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
            if len > MAX_FLIGHT {
                return CertParse::Invalid("handshake message larger than any real one");
            }
            let Some(body) = hs.get(m + 4..m + 4 + len) else {
                break;
            };
            match h[0] {
                11 => return parse_cert_list(body),
                14 => return CertParse::Done(Vec::new()),
                _ => {}
            }
            m += 4 + len;
        }
        let Some(hdr) = buf.get(pos..pos + 5) else {
            return CertParse::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
        if hdr[1] != 3 || len == 0 || len > MAX_RECORD {
            return CertParse::Invalid("not a TLS record");
        }
        if hdr[0] != 22 {
            return CertParse::Invalid("no certificate before a non-handshake record");
        }
        let Some(frag) = buf.get(pos + 5..pos + 5 + len) else {
            return CertParse::NeedMore;
        };
        if hs.len() + frag.len() > MAX_FLIGHT {
            return CertParse::Invalid("server flight larger than the cap");
        }
        hs.extend_from_slice(frag);
        pos += 5 + len;
    }
}

fn parse_cert_list(b: &[u8]) -> CertParse {
    let u24 = |x: &[u8]| (usize::from(x[0]) << 16) | (usize::from(x[1]) << 8) | usize::from(x[2]);
    let Some(h) = b.get(..3) else {
        return CertParse::Invalid("short Certificate message");
    };
    let total = u24(h);
    let Some(mut rest) = b.get(3..3 + total) else {
        return CertParse::Invalid("Certificate list truncated");
    };
    let mut out = Vec::new();
    while rest.len() >= 3 && out.len() < 16 {
        let l = u24(&rest[..3]);
        let Some(c) = rest.get(3..3 + l) else {
            return CertParse::Invalid("certificate truncated");
        };
        out.push(c.to_vec());
        rest = &rest[3 + l..];
    }
    CertParse::Done(out)
}

/// What one legacy probe found, after checking the reply against what was offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The server accepted the offered version with one of the offered suites.
    Accepted { suite: u16 },
    /// The server refused (alert, a lower version than offered, or closed the connection).
    Refused(String),
}

/// Judges a parsed reply against the probe's offer. A ServerHello for another version
/// (a downgrade) means the offered version is refused; a suite that was not offered or a
/// version above the offer is a protocol violation.
pub fn judge(reply: &Reply, offered: Version, suites: &[u16]) -> Result<Verdict, &'static str> {
    match reply {
        Reply::Alert { description, .. } => Ok(Verdict::Refused(format!(
            "alert {}",
            alert_name(*description)
        ))),
        Reply::Accepted { version, suite } => {
            if *version > offered {
                return Err("server chose a version above the one offered");
            }
            if !suites.contains(suite) {
                return Err("server chose a cipher suite that was not offered");
            }
            if *version < offered {
                return Ok(Verdict::Refused(format!(
                    "server answered with {} instead",
                    version.name()
                )));
            }
            Ok(Verdict::Accepted { suite: *suite })
        }
    }
}

pub fn alert_name(d: u8) -> String {
    match d {
        0 => "close_notify".into(),
        10 => "unexpected_message".into(),
        20 => "bad_record_mac".into(),
        40 => "handshake_failure".into(),
        42 => "bad_certificate".into(),
        47 => "illegal_parameter".into(),
        50 => "decode_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        86 => "inappropriate_fallback".into(),
        112 => "unrecognized_name".into(),
        116 => "certificate_required".into(),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(version: u16, suite: u16, ext: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&[7u8; 32]);
        b.push(0);
        b.extend_from_slice(&suite.to_be_bytes());
        b.push(0);
        if !ext.is_empty() {
            b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
            b.extend_from_slice(ext);
        }
        let mut hs = vec![2];
        hs.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&b);
        let mut r = vec![22, 3, 1];
        r.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        r.extend_from_slice(&hs);
        r
    }

    #[test]
    fn builds_a_well_formed_hello() {
        let suites = suites_for_version(Version::TLS10);
        let h = client_hello(Version::TLS10, &suites, Some("cs.example.org"), [1; 32]);
        assert_eq!(h[0], 22);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(h[5], 1);
        let hl = (usize::from(h[6]) << 16) | (usize::from(h[7]) << 8) | usize::from(h[8]);
        assert_eq!(hl, h.len() - 9);
        assert_eq!(&h[9..11], &[3, 1]);
        // suites list length and no TLS 1.2-only suite at TLS 1.0
        let n = usize::from(u16::from_be_bytes([h[44], h[45]])) / 2;
        assert_eq!(n, suites.len());
        assert!(!suites.contains(&0xC02F));
        assert!(h.windows(14).any(|w| w == b"cs.example.org"));
        // SSLv3: no extensions, record version 3.0
        let s = client_hello(Version::SSL3, &[0x000A], Some("x.org"), [1; 32]);
        assert_eq!(&s[1..3], &[3, 0]);
        assert_eq!(s.len(), 5 + 4 + 2 + 32 + 1 + 2 + 2 + 2);
        // IP literal: no SNI
        let ip = client_hello(Version::TLS12, &[0xC02F], Some("127.0.0.1"), [1; 32]);
        assert!(!ip.windows(9).any(|w| w == b"127.0.0.1"));
    }

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
        assert_eq!(cbc_suites(), cbc_suites_at(Version::TLS10));
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

    #[test]
    fn parses_server_hello_alert_and_fragments() {
        let sh = server_hello(0x0301, 0x002F, &[]);
        assert_eq!(
            parse_reply(&sh),
            Parse::Done(Reply::Accepted {
                version: Version::TLS10,
                suite: 0x002F
            })
        );
        for cut in 0..sh.len() {
            assert!(matches!(parse_reply(&sh[..cut]), Parse::NeedMore(n) if n > 0));
        }
        // supported_versions overrides the legacy version field
        let sh13 = server_hello(0x0303, 0x1301, &[0x00, 0x2b, 0, 2, 3, 4]);
        assert_eq!(
            parse_reply(&sh13),
            Parse::Done(Reply::Accepted {
                version: Version::TLS13,
                suite: 0x1301
            })
        );
        assert_eq!(
            parse_reply(&[21, 3, 3, 0, 2, 2, 70]),
            Parse::Done(Reply::Alert {
                level: 2,
                description: 70
            })
        );
        // A ServerHello split over two records is reassembled.
        let hs = &sh[5..];
        let mut two = vec![22, 3, 1, 0, 10];
        two.extend_from_slice(&hs[..10]);
        two.extend_from_slice(&[22, 3, 1]);
        two.extend_from_slice(&((hs.len() - 10) as u16).to_be_bytes());
        two.extend_from_slice(&hs[10..]);
        assert_eq!(parse_reply(&two), parse_reply(&sh));
        // Garbage and oversized records are refused at once, without waiting for more.
        assert!(matches!(
            parse_reply(b"HTTP/1.1 400 Bad"),
            Parse::Invalid(_)
        ));
        assert!(matches!(
            parse_reply(&[22, 3, 1, 0xff, 0xff]),
            Parse::Invalid(_)
        ));
        assert!(matches!(
            parse_reply(&[23, 3, 3, 0, 1, 0]),
            Parse::Invalid(_)
        ));
    }

    #[test]
    fn reads_the_certificate_list_from_the_flight() {
        let mut flight = server_hello(0x0303, 0xC02F, &[]);
        let certs: [&[u8]; 2] = [b"leafDER", b"caDER"];
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(c);
        }
        let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
        body.extend_from_slice(&list);
        let mut msg = vec![11];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        // split the Certificate message over two records
        for part in [&msg[..7], &msg[7..]] {
            flight.extend_from_slice(&[22, 3, 3]);
            flight.extend_from_slice(&(part.len() as u16).to_be_bytes());
            flight.extend_from_slice(part);
        }
        assert_eq!(
            parse_flight_certs(&flight),
            CertParse::Done(vec![b"leafDER".to_vec(), b"caDER".to_vec()])
        );
        for cut in 0..flight.len() {
            assert_eq!(
                parse_flight_certs(&flight[..cut]),
                CertParse::NeedMore,
                "{cut}"
            );
        }
        assert!(matches!(
            parse_flight_certs(&[21, 3, 3, 0, 2, 2, 40]),
            CertParse::Invalid(_)
        ));
    }

    #[test]
    fn judges_against_the_offer() {
        let acc = Reply::Accepted {
            version: Version::TLS10,
            suite: 0x002F,
        };
        assert_eq!(
            judge(&acc, Version::TLS10, &[0x002F]),
            Ok(Verdict::Accepted { suite: 0x002F })
        );
        assert!(matches!(
            judge(&acc, Version::TLS11, &[0x002F]),
            Ok(Verdict::Refused(_))
        ));
        assert!(judge(&acc, Version::SSL3, &[0x002F]).is_err());
        assert!(judge(&acc, Version::TLS10, &[0x0035]).is_err());
        let al = Reply::Alert {
            level: 2,
            description: 40,
        };
        assert_eq!(
            judge(&al, Version::TLS10, &[]),
            Ok(Verdict::Refused("alert handshake_failure".into()))
        );
    }

    /// Fuzz-style: random bytes, random mutations of a valid reply, and random record
    /// headers never make the parser panic, and `NeedMore` always asks for at least one byte.
    #[test]
    fn parser_survives_random_input() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = server_hello(0x0303, 0xC02F, &[0xff, 0x01, 0, 1, 0]);
        type Offer = (Version, Vec<u16>, fn(&Suite) -> bool);
        let offers: [Offer; 3] = [
            (Version::TLS12, cbc_suites_at(Version::TLS12), |s| s.cbc),
            (Version::TLS11, cbc_suites_at(Version::TLS11), |s| s.cbc),
            (Version::TLS12, rsa_kx_suites(Version::TLS12), Suite::rsa_kx),
        ];
        let mut accepted = 0u32;
        for i in 0..200_000u32 {
            let len = (next() % 600) as usize;
            let mut buf: Vec<u8> = match i % 4 {
                // A ServerHello naming a random (often known) suite at a random version:
                // what a hostile peer answers to the CBC and static-RSA probes.
                3 => {
                    let code = if next() % 2 == 0 {
                        SUITES[(next() as usize) % SUITES.len()].code
                    } else {
                        next() as u16
                    };
                    let mut v = server_hello(0x0300 + (next() % 6) as u16, code, &[]);
                    if next() % 3 == 0 {
                        let p = (next() as usize) % v.len();
                        v[p] = next() as u8;
                    }
                    v
                }
                0 => (0..len).map(|_| next() as u8).collect(),
                1 => {
                    let mut v = valid.clone();
                    for _ in 0..(1 + next() % 4) {
                        let p = (next() as usize) % v.len();
                        v[p] = next() as u8;
                    }
                    v.truncate((next() as usize) % (v.len() + 1));
                    v
                }
                _ => {
                    let mut v = vec![[21u8, 22, 23][(next() % 3) as usize], 3, (next() % 5) as u8];
                    v.extend_from_slice(&((next() % 70) as u16).to_be_bytes());
                    v.extend((0..len % 80).map(|_| next() as u8));
                    v
                }
            };
            let _ = parse_flight_certs(&buf);
            if let Parse::Done(reply) = parse_reply(&buf) {
                // Judged against the CBC and static-RSA offers, an accepted answer always
                // names an offered suite of that kind at exactly the offered version.
                for (v, offer, kind) in &offers {
                    if let Ok(Verdict::Accepted { suite: c }) = judge(&reply, *v, offer) {
                        accepted += 1;
                        assert!(offer.contains(&c));
                        assert!(kind(suite(c).unwrap()), "{c:04x}");
                        assert!(matches!(reply, Reply::Accepted { version, .. } if version == *v));
                    }
                }
            }
            if let Parse::NeedMore(n) = parse_reply(&buf) {
                assert!(n > 0);
                buf.extend(std::iter::repeat_n(0u8, n.min(MAX_RECORD + 5)));
                let _ = parse_reply(&buf);
            }
        }
        assert!(accepted > 0, "the generator reaches the accepted path");
    }
}
