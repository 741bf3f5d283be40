//! Probes: everything the collector asks one endpoint, in rounds (resolve and connect;
//! the version probes; the chain; the weak-suite, CBC and static-RSA probes). The I/O
//! itself, bounded by time and bytes, is in `probe.rs`. Each probe that spawns runs in
//! its own task, so a failing one costs its own answer (`unknown`), not the collection.

use super::dhe;
use super::hello::{self, Verdict};
use super::probe::{self, Failure, Limits};
use super::suites::{self, Version, WeakClass};
use super::targets::Target;
use crate::facts::Missing;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};

/// A value observed, or why there is none.
pub(super) type Obs<T> = Result<T, Missing>;

/// The versions probed with hand-built hellos.
pub(super) const LEGACY: [Version; 4] = [
    Version::SSL3,
    Version::TLS10,
    Version::TLS11,
    Version::TLS12,
];

/// Everything probed on one endpoint.
#[derive(Debug)]
pub(super) struct Assessment {
    pub endpoint: String,
    /// `Ok(false)`: connection refused; `Err`: no address, or no answer to the connect.
    pub reachable: Obs<bool>,
    /// Plain-HTTP endpoints only.
    pub http: Option<Obs<probe::Http>>,
    pub tls13: Option<Obs<probe::Modern>>,
    pub tls12: Option<Obs<probe::Modern>>,
    /// Verdict of the hand-built hello per version.
    pub legacy: BTreeMap<Version, Obs<Verdict>>,
    /// (class, version name, suite name) accepted; `Err` when a class probe gave no answer.
    pub weak: Obs<Vec<(String, String, String)>>,
    /// Chain read from a legacy hello's flight when no rustls handshake got one.
    pub legacy_chain: Option<Obs<Vec<Vec<u8>>>>,
    /// CBC (non-AEAD) suite accepted at TLS 1.2 / TLS 1.1 (`None`: that version refuses
    /// every CBC suite, or is not accepted at all).
    pub cbc12: Obs<Option<u16>>,
    pub cbc11: Obs<Option<u16>>,
    /// Static-RSA key-exchange suite accepted, at the highest version that takes one.
    pub rsa_kx: Obs<Option<(Version, u16)>>,
    /// DHE suite accepted at the highest version <= TLS 1.2, and its group's bits.
    pub dhe: Obs<Option<(Version, u16, u32)>>,
}

impl Assessment {
    fn new(endpoint: String) -> Assessment {
        let not_probed = || Missing::error("not probed");
        Assessment {
            endpoint,
            reachable: Err(not_probed()),
            http: None,
            tls13: None,
            tls12: None,
            legacy: BTreeMap::new(),
            weak: Ok(Vec::new()),
            legacy_chain: None,
            cbc12: Ok(None),
            cbc11: Ok(None),
            rsa_kx: Ok(None),
            dhe: Ok(None),
        }
    }

    /// The rustls handshakes that answered (TLS 1.3 first).
    pub fn modern(&self) -> Vec<&probe::Modern> {
        [&self.tls13, &self.tls12]
            .into_iter()
            .filter_map(|m| m.as_ref().and_then(|r| r.as_ref().ok()))
            .collect()
    }

    fn tls12_negotiated(&self) -> bool {
        matches!(&self.tls12, Some(Ok(m)) if m.negotiated.is_some())
    }

    /// Whether any probe got a TLS answer: a ServerHello, an alert, a certificate.
    fn speaks_tls(&self) -> bool {
        let legacy = self
            .legacy
            .values()
            .any(|r| matches!(r, Ok(Verdict::Accepted { .. }) | Ok(Verdict::Refused(_))));
        legacy
            || self.modern().iter().any(|m| {
                m.negotiated.is_some()
                    || m.peer_alert
                    || m.client_cert_requested
                    || !m.chain.is_empty()
            })
    }

    /// A peer that closes every connection, or fails every handshake without one TLS
    /// byte, has refused nothing: what it would accept is unknown.
    fn forget_silent_refusals(&mut self) {
        for r in self.legacy.values_mut() {
            if let Ok(Verdict::Closed(why)) = r {
                *r = Err(Missing::error(format!(
                    "{why} before any answer (the endpoint gave no TLS answer to any probe)"
                )));
            }
        }
        for m in [&mut self.tls13, &mut self.tls12] {
            if let Some(Ok(x)) = m {
                let why = x.error.clone().unwrap_or_default();
                *m = Some(Err(Missing::error(format!("no TLS answer: {why}"))));
            }
        }
    }

    /// Versions <= TLS 1.2 accepted (hand-built hello, or rustls for TLS 1.2), highest first.
    fn accepted_versions(&self) -> Vec<Version> {
        let mut acc: Vec<Version> = self
            .legacy
            .iter()
            .filter(|(_, r)| matches!(r, Ok(Verdict::Accepted { .. })))
            .map(|(v, _)| *v)
            .collect();
        if self.tls12_negotiated() && !acc.contains(&Version::TLS12) {
            acc.push(Version::TLS12);
        }
        acc.sort();
        acc.reverse();
        acc
    }

    /// Whether the endpoint accepts a TLS <= 1.2 version: `Ok(false)` when refused,
    /// `Err` when the probe gave no usable answer.
    fn version_status(&self, v: Version) -> Obs<bool> {
        if v == Version::TLS12 && self.tls12_negotiated() {
            return Ok(true);
        }
        match self.legacy.get(&v) {
            Some(Ok(Verdict::Accepted { .. })) => Ok(true),
            Some(Ok(Verdict::Refused(_) | Verdict::Closed(_))) => Ok(false),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Missing::error(format!("{} not probed", v.name()))),
        }
    }
}

async fn resolve(host: &str, port: u16) -> Obs<SocketAddr> {
    let hp = (host.to_string(), port);
    match tokio::task::spawn_blocking(move || hp.to_socket_addrs().map(|mut a| a.next())).await {
        Ok(Ok(Some(a))) => Ok(a),
        Ok(Ok(None)) => Err(Missing::error(format!("{host}: no address"))),
        Ok(Err(e)) => Err(Missing::error(format!(
            "cannot resolve {host}: {}",
            e.kind()
        ))),
        Err(_) => Err(Missing::error(format!("cannot resolve {host}"))),
    }
}

/// Runs `f` in its own task: a panic in it becomes an error answer.
async fn contained<T: Send + 'static>(f: impl Future<Output = Obs<T>> + Send + 'static) -> Obs<T> {
    tokio::spawn(f)
        .await
        .unwrap_or_else(|_| Err(Missing::error("probe task failed")))
}

/// Probes one endpoint.
pub(super) async fn assess(t: &Target, limits: &Limits) -> Assessment {
    let mut a = Assessment::new(t.endpoint());
    let addr = match tokio::time::timeout(limits.connect, resolve(&t.host, t.port)).await {
        Ok(Ok(addr)) => addr,
        Ok(Err(m)) => {
            a.reachable = Err(m);
            return a;
        }
        Err(_) => {
            a.reachable = Err(Missing::timeout(format!("resolving {}", t.host)));
            return a;
        }
    };
    if t.plain {
        match probe::plain_http(addr, &t.host, limits).await {
            Ok(h) => {
                a.reachable = Ok(true);
                a.http = Some(Ok(h));
            }
            Err(Failure::Closed) => a.reachable = Ok(false),
            Err(f) => {
                a.reachable = Ok(true);
                a.http = Some(Err(f.into()));
            }
        }
        return a;
    }
    match probe::tcp_open(addr, limits).await {
        Ok(()) => a.reachable = Ok(true),
        Err(Failure::Closed) => {
            a.reachable = Ok(false);
            return a;
        }
        Err(f) => {
            a.reachable = Err(f.into());
            return a;
        }
    }
    let sni = hello::is_dns_name(&t.host).then(|| t.host.clone());
    version_round(&mut a, addr, &t.host, sni.as_deref(), limits).await;
    let accepted = a.accepted_versions();
    if a.modern().iter().all(|m| m.chain.is_empty()) {
        if let Some(v) = accepted.first() {
            let offer = suites::suites_for_version(*v);
            let r = probe::legacy_chain(addr, sni.as_deref(), *v, &offer, limits).await;
            a.legacy_chain = Some(r.map_err(Missing::from));
        }
    }
    let (weak, cbc12, cbc11, rsa_kx, dhe) = tokio::join!(
        weak_probes(addr, sni.clone(), accepted.clone(), *limits),
        cbc_probe(
            a.version_status(Version::TLS12),
            addr,
            sni.clone(),
            Version::TLS12,
            *limits
        ),
        cbc_probe(
            a.version_status(Version::TLS11),
            addr,
            sni.clone(),
            Version::TLS11,
            *limits
        ),
        rsa_kx_probe(&a, addr, sni.clone(), accepted.clone(), *limits),
        dhe_probe(&a, addr, sni.clone(), accepted, *limits),
    );
    a.weak = weak;
    a.cbc12 = cbc12;
    a.cbc11 = cbc11;
    a.rsa_kx = rsa_kx;
    a.dhe = dhe;
    a
}

/// The first round: rustls at TLS 1.3 and 1.2, hand-built hellos at SSLv3 to TLS 1.2.
async fn version_round(
    a: &mut Assessment,
    addr: SocketAddr,
    host: &str,
    sni: Option<&str>,
    limits: &Limits,
) {
    let all: Vec<Vec<u16>> = LEGACY
        .iter()
        .map(|v| suites::suites_for_version(*v))
        .collect();
    let (m13, m12, l0, l1, l2, l3) = tokio::join!(
        probe::modern(addr, host, Version::TLS13, limits),
        probe::modern(addr, host, Version::TLS12, limits),
        probe::legacy(addr, sni, LEGACY[0], &all[0], limits),
        probe::legacy(addr, sni, LEGACY[1], &all[1], limits),
        probe::legacy(addr, sni, LEGACY[2], &all[2], limits),
        probe::legacy(addr, sni, LEGACY[3], &all[3], limits),
    );
    a.tls13 = Some(m13.map_err(Missing::from));
    a.tls12 = Some(m12.map_err(Missing::from));
    for (v, r) in LEGACY.iter().zip([l0, l1, l2, l3]) {
        a.legacy.insert(*v, r.map_err(Missing::from));
    }
    if !a.speaks_tls() {
        a.forget_silent_refusals();
    }
}

/// One hand-built hello offering `offer` at `v`: the suite chosen, `None` when refused.
async fn offer_once(
    addr: SocketAddr,
    sni: Option<&str>,
    v: Version,
    offer: &[u16],
    limits: &Limits,
) -> Obs<Option<u16>> {
    match probe::legacy(addr, sni, v, offer, limits).await {
        Ok(Verdict::Accepted { suite }) => Ok(Some(suite)),
        Ok(Verdict::Refused(_) | Verdict::Closed(_)) => Ok(None),
        Err(f) => Err(f.into()),
    }
}

/// Each weak class at every accepted version (highest first), plus CBC at TLS 1.0.
async fn weak_probes(
    addr: SocketAddr,
    sni: Option<String>,
    accepted: Vec<Version>,
    limits: Limits,
) -> Obs<Vec<(String, String, String)>> {
    let mut set = tokio::task::JoinSet::new();
    for class in WeakClass::ALL {
        let (acc, sni) = (accepted.clone(), sni.clone());
        set.spawn(async move {
            for v in acc {
                let offer = suites::suites_of_class(class, v);
                if let Some(s) = offer_once(addr, sni.as_deref(), v, &offer, &limits).await? {
                    return Ok(Some((class.name().to_string(), v, s)));
                }
            }
            Ok(None)
        });
    }
    if accepted.contains(&Version::TLS10) {
        set.spawn(async move {
            let offer = suites::cbc_suites_at(Version::TLS10);
            let r = offer_once(addr, sni.as_deref(), Version::TLS10, &offer, &limits).await?;
            Ok(r.map(|s| ("CBC-TLSv1.0".to_string(), Version::TLS10, s)))
        });
    }
    let mut weak = Vec::new();
    let mut err = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(Some((c, v, s)))) => weak.push((c, v.name(), suites::suite_name(s))),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => err = Some(e),
            Err(_) => err = Some(Missing::error("probe task failed")),
        }
    }
    weak.sort();
    match err {
        Some(e) => Err(e),
        None => Ok(weak),
    }
}

/// Non-AEAD (CBC) suites at `v`, asked only when `v` is accepted.
async fn cbc_probe(
    status: Obs<bool>,
    addr: SocketAddr,
    sni: Option<String>,
    v: Version,
    limits: Limits,
) -> Obs<Option<u16>> {
    if !status? {
        return Ok(None);
    }
    contained(async move {
        let offer = suites::cbc_suites_at(v);
        offer_once(addr, sni.as_deref(), v, &offer, &limits).await
    })
    .await
}

/// Static-RSA key exchange at the highest accepted version that takes it. A version that
/// could not be tested leaves the answer unknown unless another one already showed it.
async fn rsa_kx_probe(
    a: &Assessment,
    addr: SocketAddr,
    sni: Option<String>,
    accepted: Vec<Version>,
    limits: Limits,
) -> Obs<Option<(Version, u16)>> {
    let unknown = LEGACY
        .iter()
        .rev()
        .find_map(|v| a.version_status(*v).err().map(|e| e.context(&v.name())));
    contained(async move {
        for v in accepted {
            let offer = suites::rsa_kx_suites(v);
            if let Some(s) = offer_once(addr, sni.as_deref(), v, &offer, &limits).await? {
                return Ok(Some((v, s)));
            }
        }
        match unknown {
            Some(e) => Err(e),
            None => Ok(None),
        }
    })
    .await
}

/// The DHE group, at the highest accepted version <= TLS 1.2 (TLS 1.3 has only the named
/// RFC 7919 groups of 2048 bits and more). Unknown when no version was accepted but one
/// could not be tested.
async fn dhe_probe(
    a: &Assessment,
    addr: SocketAddr,
    sni: Option<String>,
    accepted: Vec<Version>,
    limits: Limits,
) -> Obs<Option<(Version, u16, u32)>> {
    let Some(v) = accepted.first().copied() else {
        return match LEGACY
            .iter()
            .rev()
            .find_map(|v| a.version_status(*v).err().map(|e| e.context(&v.name())))
        {
            Some(e) => Err(e),
            None => Ok(None),
        };
    };
    contained(async move {
        let offer = suites::dhe_suites(v);
        let r = dhe::probe(addr, sni.as_deref(), v, &offer, &limits).await;
        Ok(r.map_err(Missing::from)?.map(|(s, bits)| (v, s, bits)))
    })
    .await
}
