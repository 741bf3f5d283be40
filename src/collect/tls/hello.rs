//! Hand-built ClientHellos for the protocol versions and cipher suites rustls cannot speak
//! (SSLv3, TLS 1.0, TLS 1.1, NULL/EXPORT/RC4/DES/3DES/anonymous suites, CBC suites and
//! static-RSA key exchange, which rustls never offers), and a parser for
//! the first flight of the server's answer: a ServerHello (accepted) or an alert (refused).
//!
//! Everything here is pure: [`client_hello`] builds bytes, [`parse_reply`] reads bytes.
//! The I/O around them lives in `probe.rs`. The parser never panics, never allocates more
//! than [`MAX_HANDSHAKE`] bytes and says [`Parse::NeedMore`] until it can decide; it is
//! exercised with random input in the tests below.

use super::suites::Version;

/// The groups offered in `supported_groups`: x25519, secp256r1, secp384r1, secp521r1,
/// ffdhe2048.
pub const GROUPS: [u16; 5] = [0x001d, 0x0017, 0x0018, 0x0019, 0x0100];

/// Builds one ClientHello record offering `suites` at `version`. `server_name` goes into
/// SNI when it is a DNS name (not an IP literal). `random` is the 32-byte client random.
pub fn client_hello(
    version: Version,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    client_hello_with_groups(version, suites, server_name, random, &GROUPS)
}

/// [`client_hello`] offering `groups` in `supported_groups` (e.g. no finite-field group,
/// so that a server picks the DHE group it uses for clients that name none).
pub fn client_hello_with_groups(
    version: Version,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
    groups: &[u16],
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
        let n = groups.len().min(64);
        let mut sg = Vec::with_capacity(2 + n * 2);
        sg.extend_from_slice(&((n * 2) as u16).to_be_bytes());
        for g in &groups[..n] {
            sg.extend_from_slice(&g.to_be_bytes());
        }
        push_ext(&mut ext, 0x000a, &sg);
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
    /// The server refused with a TLS answer (an alert, or a lower version than offered).
    Refused(String),
    /// The connection was closed or reset before any byte came back: a refusal only when
    /// the same endpoint answers other probes with TLS (see `assess`).
    Closed(String),
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
    use crate::collect::tls::suites::*;

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
