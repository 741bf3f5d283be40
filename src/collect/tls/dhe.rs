//! The finite-field Diffie-Hellman group of an endpoint's DHE suites, which rustls cannot
//! see (it never offers DHE). A hand-built ClientHello offers only `TLS_DHE_*` suites and
//! no finite-field group in `supported_groups`, so the server uses the group it gives to
//! clients that name none (RFC 7919 §4); the ServerKeyExchange carries that group's prime
//! `dh_p`, whose bit length is the group size (RFC 5246 §7.4.3).
//!
//! [`parse_flight`] is pure and total like `hello::parse_reply`: any input gives a result,
//! never a panic, and it never buffers more than [`hello::MAX_FLIGHT`]. [`probe`] is the
//! bounded I/O around it (one connect, one hello, reads capped in time and bytes).

use super::hello::{self, Parse, Verdict};
use super::probe::{self, Failure, Limits};
use super::suites::Version;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// supported_groups of the DHE probe: elliptic curves only.
const EC_GROUPS: [u16; 4] = [0x001d, 0x0017, 0x0018, 0x0019];

/// What the server's first flight says about DHE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DheParse {
    NeedMore,
    /// No DHE suite accepted (an alert, or a lower version than offered).
    Refused(String),
    /// The server chose `suite`; its DH prime has `bits` bits.
    Group {
        suite: u16,
        bits: u32,
    },
    Invalid(&'static str),
}

/// Bit length of a big-endian unsigned integer (0 for all zeros).
pub fn bit_length(b: &[u8]) -> u32 {
    match b.iter().position(|x| *x != 0) {
        Some(i) => (b.len() - i - 1) as u32 * 8 + (8 - b[i].leading_zeros()),
        None => 0,
    }
}

/// Reads the answer to a hello offering `offer` at `version`: the ServerHello (judged
/// against the offer), then the ServerKeyExchange's `dh_p`.
pub fn parse_flight(buf: &[u8], version: Version, offer: &[u16]) -> DheParse {
    let suite = match hello::parse_reply(buf) {
        Parse::NeedMore(_) => return DheParse::NeedMore,
        Parse::Invalid(w) => return DheParse::Invalid(w),
        Parse::Done(reply) => match hello::judge(&reply, version, offer) {
            Ok(Verdict::Accepted { suite }) => suite,
            Ok(Verdict::Refused(why) | Verdict::Closed(why)) => return DheParse::Refused(why),
            Err(w) => return DheParse::Invalid(w),
        },
    };
    // Reassemble the handshake messages of the flight, record by record.
    let mut hs: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    loop {
        let mut m = 0usize;
        while let Some(h) = hs.get(m..m + 4) {
            let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
            if len > hello::MAX_FLIGHT {
                return DheParse::Invalid("handshake message larger than any real one");
            }
            let Some(body) = hs.get(m + 4..m + 4 + len) else {
                break;
            };
            match h[0] {
                12 => return server_key_exchange(body, suite),
                14 => return DheParse::Invalid("DHE suite chosen but no ServerKeyExchange sent"),
                _ => {}
            }
            m += 4 + len;
        }
        let Some(hdr) = buf.get(pos..pos + 5) else {
            return DheParse::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
        if hdr[1] != 3 || len == 0 || len > hello::MAX_RECORD {
            return DheParse::Invalid("not a TLS record");
        }
        if hdr[0] != 22 {
            return DheParse::Invalid("no ServerKeyExchange before a non-handshake record");
        }
        let Some(frag) = buf.get(pos + 5..pos + 5 + len) else {
            return DheParse::NeedMore;
        };
        if hs.len() + frag.len() > hello::MAX_FLIGHT {
            return DheParse::Invalid("server flight larger than the cap");
        }
        hs.extend_from_slice(frag);
        pos += 5 + len;
    }
}

/// `ServerDHParams`: `dh_p<1..2^16-1>`, `dh_g`, `dh_Ys`, then the signature.
fn server_key_exchange(body: &[u8], suite: u16) -> DheParse {
    let Some(l) = body.get(..2) else {
        return DheParse::Invalid("short ServerKeyExchange");
    };
    let plen = usize::from(u16::from_be_bytes([l[0], l[1]]));
    let Some(p) = body.get(2..2 + plen) else {
        return DheParse::Invalid("ServerKeyExchange dh_p truncated");
    };
    match bit_length(p) {
        0 => DheParse::Invalid("ServerKeyExchange dh_p is zero"),
        bits => DheParse::Group { suite, bits },
    }
}

/// Offers only `offer` (DHE suites) at `version` and reads the group the server uses:
/// `Ok(None)` when it accepts none of them.
pub async fn probe(
    addr: SocketAddr,
    sni: Option<&str>,
    version: Version,
    offer: &[u16],
    limits: &Limits,
) -> Result<Option<(u16, u32)>, Failure> {
    let work = async {
        let mut s = probe::connect(addr, limits).await?;
        let msg = hello::client_hello_with_groups(version, offer, sni, [0x3c; 32], &EC_GROUPS);
        s.write_all(&msg)
            .await
            .map_err(|e| Failure::Error(format!("sending the ClientHello: {}", e.kind())))?;
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = [0u8; 8192];
        let cap = limits.max_bytes.min(hello::MAX_FLIGHT + 4096);
        loop {
            match parse_flight(&buf, version, offer) {
                DheParse::Group { suite, bits } => return Ok(Some((suite, bits))),
                DheParse::Refused(_) => return Ok(None),
                DheParse::Invalid(w) => return Err(Failure::Error(w.to_string())),
                DheParse::NeedMore => {}
            }
            if buf.len() >= cap {
                return Err(Failure::Error("server flight exceeds the read cap".into()));
            }
            let room = chunk.len().min(cap - buf.len());
            match s.read(&mut chunk[..room]).await {
                // Closed before answering: a refusal of every offered suite (this probe
                // runs only on endpoints that answer other probes with TLS).
                Ok(0) if buf.is_empty() => return Ok(None),
                Ok(0) => return Err(Failure::Error("connection closed mid-flight".into())),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Ok(None)
                }
                Err(e) => return Err(Failure::Error(format!("reading: {}", e.kind()))),
            }
        }
    };
    match timeout(limits.probe, work).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!(
            "no ServerKeyExchange within {} ms",
            limits.probe.as_millis()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::tls::suites::dhe_suites;

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn flight(suite: u16, p: &[u8]) -> Vec<u8> {
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[9; 32]);
        sh.push(0);
        sh.extend_from_slice(&suite.to_be_bytes());
        sh.push(0);
        let mut ske = (p.len() as u16).to_be_bytes().to_vec();
        ske.extend_from_slice(p);
        ske.extend_from_slice(&[0, 1, 2, 0, 1, 5, 0, 0]);
        let mut hs = msg(2, &sh);
        hs.extend(msg(11, &[0, 0, 0]));
        hs.extend(msg(12, &ske));
        hs.extend(msg(14, &[]));
        // Split over records of at most 100 bytes, as a server may.
        hs.chunks(100).flat_map(|c| record(22, c)).collect()
    }

    #[test]
    fn reads_the_prime_size() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0, 0]), 0);
        let offer = dhe_suites(Version::TLS12);
        assert!(offer.contains(&0x009E) && !offer.contains(&0xC02F) && !offer.contains(&0x00A6));
        let mut p = vec![0xff; 128];
        p[0] = 0xc9;
        let f = flight(0x009E, &p);
        let want = DheParse::Group {
            suite: 0x009E,
            bits: 1024,
        };
        assert_eq!(parse_flight(&f, Version::TLS12, &offer), want);
        for cut in 0..f.len() {
            assert_eq!(
                parse_flight(&f[..cut], Version::TLS12, &offer),
                DheParse::NeedMore
            );
        }
        assert_eq!(
            parse_flight(&flight(0x009E, &[0xff; 256]), Version::TLS12, &offer),
            DheParse::Group {
                suite: 0x009E,
                bits: 2048
            }
        );
        // A suite that was not offered, an alert, a flight without a ServerKeyExchange.
        assert!(matches!(
            parse_flight(&flight(0xC02F, &p), Version::TLS12, &offer),
            DheParse::Invalid(_)
        ));
        assert!(matches!(
            parse_flight(&record(21, &[2, 40]), Version::TLS12, &offer),
            DheParse::Refused(_)
        ));
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[9; 32]);
        sh.extend_from_slice(&[0, 0x00, 0x9E, 0]);
        let mut hs = msg(2, &sh);
        hs.extend(msg(14, &[]));
        assert!(matches!(
            parse_flight(&record(22, &hs), Version::TLS12, &offer),
            DheParse::Invalid(_)
        ));
    }

    /// Random bytes and random mutations of a valid flight never panic.
    #[test]
    fn parser_survives_random_input() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let offer = dhe_suites(Version::TLS12);
        let valid = flight(0x009E, &[0xab; 128]);
        let mut groups = 0;
        for i in 0..100_000u32 {
            let mut v = if i % 2 == 0 {
                valid.clone()
            } else {
                (0..(next() % 400) as usize).map(|_| next() as u8).collect()
            };
            for _ in 0..(next() % 4) {
                if !v.is_empty() {
                    let p = (next() as usize) % v.len();
                    v[p] = next() as u8;
                }
            }
            v.truncate((next() as usize) % (v.len() + 1));
            if let DheParse::Group { suite, bits } = parse_flight(&v, Version::TLS12, &offer) {
                groups += 1;
                assert!(offer.contains(&suite) && bits > 0 && bits <= 65535 * 8);
            }
        }
        assert!(groups > 0, "the generator reaches the accepted path");
    }
}
