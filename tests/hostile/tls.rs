//! Hostile TLS peers on 127.0.0.1: silent, garbage, trickling, a huge record, an immediate
//! close, a reset, a ServerHello followed by silence, and a Certificate message announcing
//! 16 MiB. The real collector runs against each, then the real evaluation of every
//! CloudStack TLS check on the facts it produced: none may pass on what was not observed
//! (every one is `unknown`), a timeout is never "no certificate was sent", and the whole
//! collection ends within a bound set by the probe timeout.

use stackposture::catalog::Catalog;
use stackposture::collect::tls::{self, probe::Limits, EndpointSpec, TlsOptions};
use stackposture::evaluate::{evaluate_check, EvalContext, Outcome};
use stackposture::facts::{Facts, MissingReason};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Probe timeout used against every peer.
const PROBE_MS: u64 = 800;
/// The whole collection against one peer ends within this.
const BOUND: Duration = Duration::from_secs(6);

type Behaviour = fn(TcpStream, &AtomicBool);

/// A TCP server treating every connection with a behaviour, until Drop.
struct Peer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn peer(f: Behaviour) -> Peer {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            if s2.load(Ordering::SeqCst) {
                break;
            }
            if let Ok(c) = c {
                let s3 = s2.clone();
                std::thread::spawn(move || f(c, &s3));
            }
        }
    });
    Peer { port, stop }
}

fn wait(stop: &AtomicBool, max: Duration) {
    let t0 = Instant::now();
    while !stop.load(Ordering::SeqCst) && t0.elapsed() < max {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn silent(s: TcpStream, stop: &AtomicBool) {
    wait(stop, Duration::from_secs(20));
    drop(s);
}

fn garbage(mut s: TcpStream, _: &AtomicBool) {
    let _ = s.write_all(&b"SSH-2.0-OpenSSH_9.2 \x00\xff garbage\r\n".repeat(50));
}

fn trickle(mut s: TcpStream, stop: &AtomicBool) {
    // A plausible handshake record header announcing 16 KiB, then a byte every 100 ms.
    let _ = s.write_all(&[22, 3, 3, 0x40, 0x00, 2]);
    let t0 = Instant::now();
    while !stop.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(20) {
        if s.write_all(&[0]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn huge(mut s: TcpStream, _: &AtomicBool) {
    let _ = s.write_all(&[22, 3, 3, 0xff, 0xff]);
    let _ = s.write_all(&vec![0x41u8; 1 << 20]);
}

fn close(s: TcpStream, _: &AtomicBool) {
    drop(s);
}

fn reset(s: TcpStream, _: &AtomicBool) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(s);
}

/// Reads one ClientHello record; returns the offered version and first suite.
fn read_hello(s: &mut TcpStream) -> Option<([u8; 2], [u8; 2])> {
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut hdr = [0u8; 5];
    s.read_exact(&mut hdr).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([hdr[3], hdr[4]]))];
    s.read_exact(&mut body).ok()?;
    // handshake header (4), version (2), random (32), session id
    let sid = usize::from(*body.get(38)?);
    let suites = body.get(39 + sid + 2..39 + sid + 4)?;
    Some(([body[4], body[5]], [suites[0], suites[1]]))
}

fn server_hello(version: [u8; 2], suite: [u8; 2]) -> Vec<u8> {
    let mut b = version.to_vec();
    b.extend_from_slice(&[7u8; 32]);
    b.push(0);
    b.extend_from_slice(&suite);
    b.push(0);
    let mut hs = vec![2, 0, 0, b.len() as u8];
    hs.extend_from_slice(&b);
    let mut r = vec![22, 3, 1, 0, hs.len() as u8];
    r.extend_from_slice(&hs);
    r
}

/// Accepts whatever is offered with a ServerHello, then never sends a certificate.
fn hello_then_silence(mut s: TcpStream, stop: &AtomicBool) {
    if let Some((v, c)) = read_hello(&mut s) {
        let _ = s.write_all(&server_hello(v, c));
    }
    wait(stop, Duration::from_secs(20));
}

/// Accepts, then announces a 16 MiB Certificate message and streams filler.
fn huge_certificate(mut s: TcpStream, _: &AtomicBool) {
    if let Some((v, c)) = read_hello(&mut s) {
        let _ = s.write_all(&server_hello(v, c));
        let mut rec = vec![22, 3, 3, 0x40, 0x00, 11, 0xff, 0xff, 0xff];
        rec.resize(5 + 0x4000, 0x30);
        for _ in 0..64 {
            if s.write_all(&rec).is_err() {
                return;
            }
            rec = [vec![22, 3, 3, 0x40, 0x00], vec![0x30; 0x4000]].concat();
        }
    }
}

fn options(port: u16, labels: &[&str]) -> TlsOptions {
    TlsOptions {
        probe_deployment: false,
        not_probed_because: "test".into(),
        endpoints: labels
            .iter()
            .map(|l| EndpointSpec::parse(&format!("{l}=127.0.0.1:{port}")).unwrap())
            .collect(),
        limits: Limits {
            connect: Duration::from_millis(PROBE_MS),
            probe: Duration::from_millis(PROBE_MS),
            client_auth_wait: Duration::from_millis(200),
            max_bytes: 256 * 1024,
        },
        now: 1_800_000_000,
    }
}

/// Every CloudStack TLS check evaluated on `facts`: (id, outcome).
fn tls_outcomes(facts: &Facts) -> Vec<(String, Outcome)> {
    let cat = Catalog::builtin().unwrap();
    let profile = cat.profile("production").unwrap();
    let ctx = EvalContext { now: 1_800_000_000 };
    let out: Vec<(String, Outcome)> = cat
        .checks
        .iter()
        .filter(|c| c.id.starts_with("CS-TLS-"))
        .map(|c| {
            (
                c.id.clone(),
                evaluate_check(c, profile, facts, &ctx).outcome,
            )
        })
        .collect();
    assert!(out.len() >= 17, "the TLS checks are all there");
    out
}

fn collect_against(name: &str, f: Behaviour, labels: &[&str]) -> Facts {
    let p = peer(f);
    let t0 = Instant::now();
    let facts = tls::collect(&options(p.port, labels), &Facts::new());
    let took = t0.elapsed();
    assert!(took < BOUND, "{name}: took {took:?}");
    eprintln!("{name}: {took:?}");
    facts
}

fn missing(facts: &Facts, key: &str) -> (MissingReason, String) {
    let f = facts
        .get(key)
        .unwrap_or_else(|| panic!("{key} not collected"));
    let m = f
        .missing
        .clone()
        .unwrap_or_else(|| panic!("{key} has a value: {:?}", f.value));
    (m.reason, m.detail)
}

#[test]
fn no_tls_check_passes_against_a_peer_that_never_speaks_tls() {
    let peers: [(&str, Behaviour); 6] = [
        ("silent", silent),
        ("garbage", garbage),
        ("trickle", trickle),
        ("huge record", huge),
        ("close", close),
        ("reset", reset),
    ];
    for (name, f) in peers {
        // `http` too where the peer sends nothing: garbage and a huge record are bytes that
        // are not HTTP, which is an observation (`answers_http` false), not a gap.
        let labels: &[&str] = match name {
            "garbage" | "huge record" => &["https", "agent", "cluster"],
            _ => &["https", "agent", "cluster", "http"],
        };
        let facts = collect_against(name, f, labels);
        for (id, o) in tls_outcomes(&facts) {
            assert_eq!(o, Outcome::Unknown, "{name}: {id}");
        }
        for l in ["https", "agent", "cluster"] {
            let (r, d) = missing(&facts, &format!("tls.{l}.tls"));
            assert!(
                matches!(r, MissingReason::Timeout | MissingReason::Error),
                "{name} {l}: {r:?}"
            );
            let (r, d2) = missing(&facts, &format!("tls.{l}.leaf"));
            assert_ne!(r, MissingReason::Absent, "{name} {l}: {d} / {d2}");
            assert!(!d2.contains("no certificate was sent"), "{name}: {d2}");
        }
        if matches!(name, "silent" | "trickle") {
            assert_eq!(missing(&facts, "tls.https.leaf").0, MissingReason::Timeout);
        }
        assert_ne!(
            missing(&facts, "tls.summary.weak_signatures").0,
            MissingReason::Absent,
            "{name}: zero observed certificates is not an empty list"
        );
        assert!(facts
            .get("tls.summary.certificates")
            .unwrap()
            .value
            .is_none());
    }
}

#[test]
fn a_certificate_that_never_arrives_is_unknown_not_absent() {
    for (name, f) in [
        ("hello then silence", hello_then_silence as Behaviour),
        ("16 MiB certificate", huge_certificate),
    ] {
        let facts = collect_against(name, f, &["https", "agent"]);
        let outcomes = tls_outcomes(&facts);
        for (id, o) in &outcomes {
            // The peer did answer with a ServerHello: "speaks TLS" (CS-TLS-001) is an
            // observation. Nothing else may pass.
            if id != "CS-TLS-001" {
                assert_ne!(*o, Outcome::Pass, "{name}: {id}");
            }
        }
        for id in [
            "CS-TLS-004",
            "CS-TLS-005",
            "CS-TLS-006",
            "CS-TLS-007",
            "CS-TLS-008",
            "CS-TLS-012",
        ] {
            let o = outcomes.iter().find(|(i, _)| i == id).unwrap().1;
            assert_eq!(o, Outcome::Unknown, "{name}: {id}");
        }
        let (r, d) = missing(&facts, "tls.https.leaf");
        assert_ne!(r, MissingReason::Absent, "{name}: {d}");
        if name == "hello then silence" {
            assert_eq!(r, MissingReason::Timeout, "{name}: {d}");
        }
    }
}

/// Only the plain-HTTP port given: no TLS endpoint was probed, so the summary is not a
/// list of nothing (CS-TLS-002 once passed on `protocols = []` here).
#[test]
fn a_summary_over_no_tls_endpoint_is_not_collected() {
    let facts = collect_against("close (http only)", close, &["http"]);
    let (r, _) = missing(&facts, "tls.summary.protocols");
    assert_eq!(r, MissingReason::NotCollected);
    for (id, o) in tls_outcomes(&facts) {
        assert_eq!(o, Outcome::Unknown, "{id}");
    }
}
