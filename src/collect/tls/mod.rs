//! TLS collector: what a client really gets on the wire from the management server's
//! TLS endpoints, and an analysis of the CloudStack root CA certificate.
//!
//! It runs **after** the other collectors and takes the facts collected so far
//! ([`collect`]`(opts, known)`): the endpoints come from `props.server.*` (https.port,
//! http.port, bind.interface), `cs.setting.port` (agent port, default 8250),
//! `props.db.cluster.servlet.port` / `props.db.cluster.node.IP` (cluster port, default
//! 9090), plus any `--endpoint [LABEL=]HOST:PORT`; host names to match certificates
//! against come from `cs.setting.host`; the root CA from `cs.root_ca.certificate_pem`
//! with `cs.setting.ca.framework.cert.keysize` and `.signature.algorithm`.
//!
//! **When it probes.** The deployment's endpoints are probed only when the audited root
//! is `/` (the live host) or when asked (`--probe-deployment`); endpoints given with
//! `--endpoint` are always probed. Otherwise the `tls.` namespace is "not collected",
//! so every TLS check is `unknown` rather than passing on no data.
//!
//! Modules: [`hello`] (pure ClientHello builder and reply parser for legacy protocols and
//! weak suites), [`cert`] (pure x509 analysis), [`probe`] (bounded I/O: rustls handshakes,
//! legacy hellos, plain HTTP). Fact names: `docs/facts.md` (`tls.*`).

pub mod cert;
pub mod hello;
pub mod probe;

use crate::facts::{Fact, Facts, MissingReason, SourceStatus};
use cert::CertInfo;
use hello::{Verdict, Version, WeakClass};
use probe::{Failure, Limits};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, ToSocketAddrs};

/// Labels the deployment's endpoints get; `--endpoint LABEL=...` may override them.
pub const LABEL_HTTPS: &str = "https";
pub const LABEL_AGENT: &str = "agent";
pub const LABEL_CLUSTER: &str = "cluster";
pub const LABEL_HTTP: &str = "http";
const RESERVED: &[&str] = &["summary", "root_ca"];

/// One endpoint given on the command line: `[LABEL=]HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    pub label: String,
    pub host: String,
    pub port: u16,
}

impl EndpointSpec {
    /// Parses `[LABEL=]HOST:PORT` (`[v6]:port` for IPv6). The default label is
    /// `ep-<host>-<port>` with every character outside `[a-z0-9]` turned into `-`.
    pub fn parse(s: &str) -> Result<EndpointSpec, String> {
        let (label, hp) = match s.split_once('=') {
            Some((l, r)) => (Some(l.trim()), r.trim()),
            None => (None, s.trim()),
        };
        let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
            let (h, p) = rest
                .split_once("]:")
                .ok_or_else(|| format!("{s:?}: expected [IPv6]:PORT"))?;
            (h.to_string(), p)
        } else {
            let (h, p) = hp
                .rsplit_once(':')
                .ok_or_else(|| format!("{s:?}: expected HOST:PORT"))?;
            (h.to_string(), p)
        };
        if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace()) {
            return Err(format!("{s:?}: bad host"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{s:?}: bad port"))?;
        let label = match label {
            Some(l) => {
                if l.is_empty()
                    || l.len() > 40
                    || !l.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    })
                    || RESERVED.contains(&l)
                {
                    return Err(format!(
                        "{s:?}: the label must be [a-z0-9_-]{{1,40}} and not summary/root_ca"
                    ));
                }
                l.to_string()
            }
            None => {
                let h: String = host
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                format!("ep-{h}-{port}")
            }
        };
        Ok(EndpointSpec { label, host, port })
    }
}

/// Options of the TLS collector.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Probe the endpoints the deployment's configuration names.
    pub probe_deployment: bool,
    /// Why the deployment is not probed (shown in the facts when it is not).
    pub not_probed_because: String,
    pub endpoints: Vec<EndpointSpec>,
    pub limits: Limits,
    /// Collection time (unix seconds) for `days_left`.
    pub now: i64,
}

/// An endpoint to probe.
#[derive(Debug, Clone)]
struct Target {
    label: String,
    host: String,
    port: u16,
    /// Plain HTTP (the `http` label) instead of TLS.
    plain: bool,
    /// Name to match the certificate against, if any.
    name: Option<String>,
    /// Where the endpoint came from (for the source record).
    origin: String,
}

fn str_fact(known: &Facts, key: &str) -> Option<String> {
    known
        .get(key)
        .and_then(|f| f.value.clone())
        .and_then(|v| match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

fn port_fact(known: &Facts, key: &str, default: u16) -> (u16, String) {
    match str_fact(known, key) {
        Some(s) => match s.parse::<u16>() {
            Ok(p) if p > 0 => (p, key.to_string()),
            _ => (default, format!("default {default} ({key} is not a port)")),
        },
        None => (default, format!("default {default}")),
    }
}

fn is_wildcard(h: &str) -> bool {
    matches!(h, "" | "0.0.0.0" | "::" | "[::]" | "*")
}

/// The endpoints of the deployment, from the facts collected so far.
fn deployment_targets(known: &Facts) -> Vec<Target> {
    let bind = str_fact(known, "props.server.bind.interface")
        .filter(|h| !is_wildcard(h))
        .unwrap_or_else(|| "127.0.0.1".into());
    let ms_host = str_fact(known, "cs.setting.host");
    let mut out = Vec::new();
    let (p, o) = port_fact(known, "props.server.https.port", 8443);
    out.push(Target {
        label: LABEL_HTTPS.into(),
        host: bind.clone(),
        port: p,
        plain: false,
        name: ms_host.clone(),
        origin: o,
    });
    let (p, o) = port_fact(known, "props.server.http.port", 8080);
    out.push(Target {
        label: LABEL_HTTP.into(),
        host: bind,
        port: p,
        plain: true,
        name: None,
        origin: o,
    });
    let (p, o) = port_fact(known, "cs.setting.port", 8250);
    out.push(Target {
        label: LABEL_AGENT.into(),
        host: "127.0.0.1".into(),
        port: p,
        plain: false,
        name: ms_host.clone(),
        origin: o,
    });
    let (p, o) = port_fact(known, "props.db.cluster.servlet.port", 9090);
    let node = str_fact(known, "props.db.cluster.node.IP")
        .filter(|h| !is_wildcard(h))
        .unwrap_or_else(|| "127.0.0.1".into());
    out.push(Target {
        label: LABEL_CLUSTER.into(),
        host: node,
        port: p,
        plain: false,
        name: ms_host,
        origin: o,
    });
    out
}

/// Runs the TLS collector given the facts collected so far. Returns the new facts.
pub fn collect(opts: &TlsOptions, known: &Facts) -> Facts {
    collect_with(opts, known, &probe_explicit(opts))
}

/// The `--endpoint`s, probed but not yet recorded (see [`probe_explicit`]).
#[derive(Debug)]
pub struct ExplicitProbes {
    results: Result<Vec<(Target, Assessment)>, String>,
}

/// Probes the endpoints given with `--endpoint`. Probing them needs no fact (unlike the
/// deployment's endpoints), so it can run while the database is still being read;
/// [`collect_with`] records them once the facts they are judged against are known.
pub fn probe_explicit(opts: &TlsOptions) -> ExplicitProbes {
    let targets = opts
        .endpoints
        .iter()
        .map(|e| Target {
            label: e.label.clone(),
            host: e.host.clone(),
            port: e.port,
            plain: e.label == LABEL_HTTP,
            // Filled in by `collect_with` (an IP endpoint is matched against
            // `cs.setting.host`).
            name: hello::is_dns_name(&e.host).then(|| e.host.clone()),
            origin: "--endpoint".into(),
        })
        .collect();
    ExplicitProbes {
        results: probe_all(targets, opts.limits),
    }
}

/// Runs the TLS collector with the `--endpoint`s already probed: probes the deployment's
/// endpoints (those no `--endpoint` replaces) and records every endpoint.
pub fn collect_with(opts: &TlsOptions, known: &Facts, explicit: &ExplicitProbes) -> Facts {
    let mut facts = Facts::new();
    root_ca(known, opts.now, &mut facts);
    let explicit_labels: Vec<&str> = opts.endpoints.iter().map(|e| e.label.as_str()).collect();
    let mut targets: Vec<Target> = if opts.probe_deployment {
        deployment_targets(known)
    } else {
        Vec::new()
    };
    targets.retain(|t| !explicit_labels.contains(&t.label.as_str()));
    if targets.is_empty() && explicit_labels.is_empty() {
        facts.namespace_missing(
            "tls.",
            "tls",
            MissingReason::NotCollected,
            opts.not_probed_because.clone(),
        );
        return facts;
    }
    if !opts.probe_deployment {
        for l in [LABEL_HTTPS, LABEL_AGENT, LABEL_CLUSTER, LABEL_HTTP] {
            if !explicit_labels.contains(&l) {
                facts.namespace_missing(
                    &format!("tls.{l}."),
                    "tls",
                    MissingReason::NotCollected,
                    opts.not_probed_because.clone(),
                );
            }
        }
    }
    let probed = probe_all(targets, opts.limits).and_then(|mut r| {
        let mut ex = explicit.results.clone()?;
        for (t, _) in &mut ex {
            if t.name.is_none() {
                t.name = str_fact(known, "cs.setting.host");
            }
        }
        r.extend(ex);
        Ok(r)
    });
    let results = match probed {
        Ok(r) => r,
        Err(e) => {
            facts.namespace_missing("tls.", "tls", MissingReason::Error, e);
            return facts;
        }
    };
    let root_der = known
        .get("cs.root_ca.certificate_pem")
        .and_then(|f| f.value.clone())
        .and_then(|v| v.as_str().map(cert::pem_certs))
        .and_then(|v| v.into_iter().next());
    let mut summary = Summary::new();
    for (t, a) in &results {
        record(
            t,
            a,
            opts.now,
            root_der.as_deref(),
            &mut facts,
            &mut summary,
        );
    }
    summary.record(&mut facts);
    facts
}

/// Assesses every target concurrently, results in the targets' order.
fn probe_all(targets: Vec<Target>, limits: Limits) -> Result<Vec<(Target, Assessment)>, String> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {}", e.kind()))?;
    Ok(rt.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for (i, t) in targets.into_iter().enumerate() {
            set.spawn(async move {
                let a = assess(&t, &limits).await;
                (i, t, a)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(x) = r {
                out.push(x);
            }
        }
        out.sort_by_key(|(i, _, _)| *i);
        out.into_iter().map(|(_, t, a)| (t, a)).collect()
    }))
}

/// A fact value, or why there is none.
type Obs<T> = Result<T, (MissingReason, String)>;

fn miss(f: &Failure) -> (MissingReason, String) {
    match f {
        Failure::Timeout(d) => (MissingReason::Timeout, d.clone()),
        Failure::Closed => (MissingReason::Error, "connection refused".into()),
        Failure::Error(d) => (MissingReason::Error, d.clone()),
    }
}

/// Everything probed on one endpoint.
#[derive(Debug, Clone)]
struct Assessment {
    endpoint: String,
    /// `Err` when the address could not be resolved or the connect failed oddly.
    reachable: Option<Obs<bool>>,
    http: Option<Obs<probe::Http>>,
    tls13: Option<Obs<probe::Modern>>,
    tls12: Option<Obs<probe::Modern>>,
    /// Protocol name -> verdict of the hand-built hello.
    legacy: BTreeMap<String, Obs<Verdict>>,
    /// (class, version name, suite) accepted; `Err` when a class probe gave no answer.
    weak: Obs<Vec<(String, String, String)>>,
    /// Chain read from a legacy hello's flight when no rustls handshake got one.
    legacy_chain: Option<Obs<Vec<Vec<u8>>>>,
    /// CBC (non-AEAD) suite accepted at TLS 1.2 / TLS 1.1 (`None`: that version refuses
    /// every CBC suite, or is not accepted at all).
    cbc12: Obs<Option<u16>>,
    cbc11: Obs<Option<u16>>,
    /// Static-RSA key-exchange suite accepted, at the highest version that takes one.
    rsa_kx: Obs<Option<(Version, u16)>>,
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let hp = (host.to_string(), port);
    match tokio::task::spawn_blocking(move || hp.to_socket_addrs().map(|mut a| a.next())).await {
        Ok(Ok(Some(a))) => Ok(a),
        Ok(Ok(None)) => Err(format!("{host}: no address")),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {}", e.kind())),
        Err(_) => Err(format!("cannot resolve {host}")),
    }
}

async fn assess(t: &Target, limits: &Limits) -> Assessment {
    let mut a = Assessment {
        endpoint: if t.host.contains(':') {
            format!("[{}]:{}", t.host, t.port)
        } else {
            format!("{}:{}", t.host, t.port)
        },
        reachable: None,
        http: None,
        tls13: None,
        tls12: None,
        legacy: BTreeMap::new(),
        weak: Ok(Vec::new()),
        legacy_chain: None,
        cbc12: Ok(None),
        cbc11: Ok(None),
        rsa_kx: Ok(None),
    };
    let addr = match tokio::time::timeout(limits.connect, resolve(&t.host, t.port)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            a.reachable = Some(Err((MissingReason::Error, e)));
            return a;
        }
        Err(_) => {
            a.reachable = Some(Err((
                MissingReason::Timeout,
                format!("resolving {}", t.host),
            )));
            return a;
        }
    };
    if t.plain {
        match probe::plain_http(addr, &t.host, limits).await {
            Ok(h) => {
                a.reachable = Some(Ok(true));
                a.http = Some(Ok(h));
            }
            Err(Failure::Closed) => a.reachable = Some(Ok(false)),
            Err(f) => {
                a.reachable = Some(Ok(true));
                a.http = Some(Err(miss(&f)));
            }
        }
        return a;
    }
    match probe::tcp_open(addr, limits).await {
        Ok(()) => a.reachable = Some(Ok(true)),
        Err(Failure::Closed) => {
            a.reachable = Some(Ok(false));
            return a;
        }
        Err(f) => {
            a.reachable = Some(Err(miss(&f)));
            return a;
        }
    }
    if t.plain {
        a.http = Some(
            probe::plain_http(addr, &t.host, limits)
                .await
                .map_err(|f| miss(&f)),
        );
        return a;
    }
    let sni = hello::is_dns_name(&t.host).then_some(t.host.as_str());
    let versions = [
        Version::SSL3,
        Version::TLS10,
        Version::TLS11,
        Version::TLS12,
    ];
    let all: Vec<Vec<u16>> = versions
        .iter()
        .map(|v| hello::suites_for_version(*v))
        .collect();
    let (m13, m12, l0, l1, l2, l3) = tokio::join!(
        probe::modern(addr, &t.host, Version::TLS13, limits),
        probe::modern(addr, &t.host, Version::TLS12, limits),
        probe::legacy(addr, sni, versions[0], &all[0], limits),
        probe::legacy(addr, sni, versions[1], &all[1], limits),
        probe::legacy(addr, sni, versions[2], &all[2], limits),
        probe::legacy(addr, sni, versions[3], &all[3], limits),
    );
    a.tls13 = Some(m13.map_err(|f| miss(&f)));
    a.tls12 = Some(m12.map_err(|f| miss(&f)));
    for (v, r) in versions.iter().zip([l0, l1, l2, l3]) {
        a.legacy.insert(v.name(), r.map_err(|f| miss(&f)));
    }
    // Weak classes at every version the server accepts (rustls TLS 1.2 counts too).
    let mut accepted: Vec<Version> = versions
        .iter()
        .filter(|v| matches!(a.legacy.get(&v.name()), Some(Ok(Verdict::Accepted { .. }))))
        .copied()
        .collect();
    let m12_ok = matches!(&a.tls12, Some(Ok(m)) if m.negotiated.is_some());
    if m12_ok && !accepted.contains(&Version::TLS12) {
        accepted.push(Version::TLS12);
    }
    accepted.sort();
    accepted.reverse();
    let rustls_chain = [&a.tls13, &a.tls12]
        .iter()
        .any(|m| matches!(m, Some(Ok(m)) if !m.chain.is_empty()));
    if !rustls_chain {
        if let Some(v) = accepted.first() {
            let suites = hello::suites_for_version(*v);
            a.legacy_chain = Some(
                probe::legacy_chain(addr, sni, *v, &suites, limits)
                    .await
                    .map_err(|f| miss(&f)),
            );
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for class in WeakClass::ALL {
        let acc = accepted.clone();
        let limits = *limits;
        let sni = sni.map(str::to_string);
        set.spawn(async move {
            for v in acc {
                let suites = hello::suites_of_class(class, v);
                match probe::legacy(addr, sni.as_deref(), v, &suites, &limits).await {
                    Ok(Verdict::Accepted { suite }) => {
                        return Ok(Some((class.name().to_string(), v, suite)));
                    }
                    Ok(Verdict::Refused(_)) => {}
                    Err(f) => return Err(miss(&f)),
                }
            }
            Ok(None)
        });
    }
    if accepted.contains(&Version::TLS10) {
        let limits = *limits;
        let sni = sni.map(str::to_string);
        set.spawn(async move {
            let suites = hello::cbc_suites();
            match probe::legacy(addr, sni.as_deref(), Version::TLS10, &suites, &limits).await {
                Ok(Verdict::Accepted { suite }) => {
                    Ok(Some(("CBC-TLSv1.0".to_string(), Version::TLS10, suite)))
                }
                Ok(Verdict::Refused(_)) => Ok(None),
                Err(f) => Err(miss(&f)),
            }
        });
    }
    // Non-AEAD (CBC) suites at TLS 1.2 and 1.1, and static-RSA key exchange: one hello
    // each, offering only suites of that kind, run alongside the weak-class probes.
    let status: BTreeMap<Version, Obs<bool>> = versions
        .iter()
        .map(|v| (*v, version_status(&a, m12_ok, *v)))
        .collect();
    let mut extra = tokio::task::JoinSet::new();
    let mut spawned = vec![Extra::RsaKx];
    for (k, v) in [
        (Extra::Cbc12, Version::TLS12),
        (Extra::Cbc11, Version::TLS11),
    ] {
        match status[&v].clone() {
            Ok(true) => {
                spawned.push(k);
                let limits = *limits;
                let sni = sni.map(str::to_string);
                extra.spawn(async move {
                    let suites = hello::cbc_suites_at(v);
                    let r = match probe::legacy(addr, sni.as_deref(), v, &suites, &limits).await {
                        Ok(Verdict::Accepted { suite }) => Ok(Some((v, suite))),
                        Ok(Verdict::Refused(_)) => Ok(None),
                        Err(f) => Err(miss(&f)),
                    };
                    (k, r)
                });
            }
            Ok(false) => {}
            Err(e) => match k {
                Extra::Cbc12 => a.cbc12 = Err(e),
                _ => a.cbc11 = Err(e),
            },
        }
    }
    {
        // Highest accepted version first; a version we could not test leaves the answer
        // unknown unless another version already showed a static-RSA suite.
        let unknown = status
            .iter()
            .rev()
            .find_map(|(v, st)| st.clone().err().map(|e| (v.name(), e)));
        let acc = accepted.clone();
        let limits = *limits;
        let sni = sni.map(str::to_string);
        extra.spawn(async move {
            for v in acc {
                let suites = hello::rsa_kx_suites(v);
                match probe::legacy(addr, sni.as_deref(), v, &suites, &limits).await {
                    Ok(Verdict::Accepted { suite }) => return (Extra::RsaKx, Ok(Some((v, suite)))),
                    Ok(Verdict::Refused(_)) => {}
                    Err(f) => return (Extra::RsaKx, Err(miss(&f))),
                }
            }
            match unknown {
                Some((vn, (r, d))) => (Extra::RsaKx, Err((r, format!("{vn}: {d}")))),
                None => (Extra::RsaKx, Ok(None)),
            }
        });
    }
    let mut weak = Vec::new();
    let mut err = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(Some((c, v, s)))) => {
                weak.push((c, v.name(), suite_name(s)));
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => err = Some(e),
            Err(_) => err = Some((MissingReason::Error, "probe task failed".into())),
        }
    }
    weak.sort();
    a.weak = match err {
        Some(e) => Err(e),
        None => Ok(weak),
    };
    let mut died = false;
    let mut reported = Vec::new();
    while let Some(r) = extra.join_next().await {
        let Ok((k, r)) = r else {
            died = true;
            continue;
        };
        reported.push(k);
        match k {
            Extra::Cbc12 => a.cbc12 = r.map(|o| o.map(|(_, s)| s)),
            Extra::Cbc11 => a.cbc11 = r.map(|o| o.map(|(_, s)| s)),
            Extra::RsaKx => a.rsa_kx = r,
        }
    }
    if died {
        // A task that died cannot say which probe it ran: every unreported one is unknown.
        let e = (MissingReason::Error, "probe task failed".to_string());
        for k in spawned.into_iter().filter(|k| !reported.contains(k)) {
            match k {
                Extra::Cbc12 => a.cbc12 = Err(e.clone()),
                Extra::Cbc11 => a.cbc11 = Err(e.clone()),
                Extra::RsaKx => a.rsa_kx = Err(e.clone()),
            }
        }
    }
    a
}

/// The probes run next to the weak-class ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    Cbc12,
    Cbc11,
    RsaKx,
}

fn suite_name(s: u16) -> String {
    hello::suite(s)
        .map(|x| x.name.to_string())
        .unwrap_or_else(|| format!("0x{s:04x}"))
}

/// Whether the endpoint accepts a TLS <= 1.2 version: `Ok(true)` on a ServerHello for it
/// (hand-built hello, or rustls for TLS 1.2), `Ok(false)` when cleanly refused, `Err`
/// when the probe gave no usable answer.
fn version_status(a: &Assessment, m12_ok: bool, v: Version) -> Obs<bool> {
    if v == Version::TLS12 && m12_ok {
        return Ok(true);
    }
    match a.legacy.get(&v.name()) {
        Some(Ok(Verdict::Accepted { .. })) => Ok(true),
        Some(Ok(Verdict::Refused(_))) => Ok(false),
        Some(Err(e)) => Err(e.clone()),
        None => Err((MissingReason::Error, format!("{} not probed", v.name()))),
    }
}

/// Aggregates over every probed TLS endpoint (what the checks read).
struct Summary {
    endpoints: Vec<String>,
    protocols: Obs<BTreeSet<String>>,
    legacy: Vec<String>,
    weak: Obs<Vec<String>>,
    cbc12: Obs<Vec<String>>,
    cbc11: Obs<Vec<String>>,
    rsa_kx: Obs<Vec<String>>,
    earliest_not_after: Option<(i64, String)>,
    min_rsa: Option<u32>,
    min_ec: Option<u32>,
    weak_signatures: Vec<String>,
    name_mismatches: Vec<String>,
    names_checked: usize,
    self_signed: Vec<String>,
    /// A reason that makes the certificate aggregates unknown.
    cert_unknown: Option<(MissingReason, String)>,
}

impl Summary {
    fn new() -> Summary {
        Summary {
            endpoints: Vec::new(),
            protocols: Ok(BTreeSet::new()),
            legacy: Vec::new(),
            weak: Ok(Vec::new()),
            cbc12: Ok(Vec::new()),
            cbc11: Ok(Vec::new()),
            rsa_kx: Ok(Vec::new()),
            earliest_not_after: None,
            min_rsa: None,
            min_ec: None,
            weak_signatures: Vec::new(),
            name_mismatches: Vec::new(),
            names_checked: 0,
            self_signed: Vec::new(),
            cert_unknown: None,
        }
    }
}

fn set_obs<T: Into<Value>>(facts: &mut Facts, key: &str, src: &str, v: Obs<T>) {
    match v {
        Ok(v) => facts.set(key, src, v),
        Err((r, d)) => facts.insert(key, Fact::missing(src, r, d)),
    }
}

fn record(
    t: &Target,
    a: &Assessment,
    now: i64,
    root_der: Option<&[u8]>,
    facts: &mut Facts,
    s: &mut Summary,
) {
    let p = format!("tls.{}.", t.label);
    let src = format!("tls:{}", a.endpoint);
    facts.set(format!("{p}endpoint"), &src, a.endpoint.clone());
    facts.namespace_complete(&p, &src);
    let status = match &a.reachable {
        Some(Ok(true)) => SourceStatus::ok("tls", a.endpoint.clone()),
        Some(Ok(false)) => SourceStatus::failed(
            "tls",
            a.endpoint.clone(),
            MissingReason::Absent,
            format!("nothing listens ({})", t.origin),
        ),
        Some(Err((r, d))) => SourceStatus::failed("tls", a.endpoint.clone(), *r, d.clone()),
        None => SourceStatus::failed("tls", a.endpoint.clone(), MissingReason::Error, ""),
    };
    facts.source(&format!("tls:{}", t.label), status);
    match &a.reachable {
        Some(Ok(true)) => facts.set(format!("{p}reachable"), &src, true),
        Some(Ok(false)) => {
            facts.set(format!("{p}reachable"), &src, false);
            // Nothing listens: the endpoint speaks neither TLS nor HTTP.
            let k = if t.plain { "answers_http" } else { "tls" };
            facts.set(format!("{p}{k}"), &src, false);
            if !t.plain {
                facts.set(format!("{p}protocols"), &src, Value::Array(vec![]));
            }
            return;
        }
        Some(Err((r, d))) => {
            facts
                .namespaces
                .insert(p.clone(), Fact::missing(&src, *r, d.clone()));
            if !t.plain {
                s.protocols = Err((*r, format!("{}: {d}", t.label)));
                s.weak = Err((*r, format!("{}: {d}", t.label)));
                s.cbc12 = Err((*r, format!("{}: {d}", t.label)));
                s.cbc11 = Err((*r, format!("{}: {d}", t.label)));
                s.rsa_kx = Err((*r, format!("{}: {d}", t.label)));
                s.cert_unknown = Some((*r, format!("{}: {d}", t.label)));
            }
            return;
        }
        None => return,
    }
    if t.plain {
        match &a.http {
            Some(Ok(h)) => {
                facts.set(format!("{p}answers_http"), &src, h.status.is_some());
                if let Some(st) = h.status {
                    facts.set(format!("{p}status"), &src, st);
                }
                if let Some(l) = &h.location {
                    facts.set(format!("{p}location"), &src, l.clone());
                }
                let redirect = h.status.is_some_and(|c| (300..400).contains(&c))
                    && h.location
                        .as_deref()
                        .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
                facts.set(format!("{p}redirects_to_https"), &src, redirect);
            }
            Some(Err((r, d))) => {
                for k in ["answers_http", "redirects_to_https"] {
                    facts.insert(format!("{p}{k}"), Fact::missing(&src, *r, d.clone()));
                }
            }
            None => {}
        }
        return;
    }
    s.endpoints.push(t.label.clone());
    // Per-version results.
    let mut protocols: Obs<BTreeSet<String>> = Ok(BTreeSet::new());
    let mut probes = serde_json::Map::new();
    let mut any_accepted = false;
    let mut all_clean = true;
    for (key, m, vname) in [
        ("tls13", &a.tls13, "TLSv1.3"),
        ("tls12", &a.tls12, "TLSv1.2"),
    ] {
        match m {
            Some(Ok(m)) => {
                let mut o = serde_json::Map::new();
                o.insert("accepted".into(), json!(m.negotiated.is_some()));
                if let Some((v, c)) = &m.negotiated {
                    o.insert("version".into(), json!(v));
                    o.insert("cipher".into(), json!(c));
                    any_accepted = true;
                    if let Ok(p) = &mut protocols {
                        p.insert(vname.to_string());
                    }
                } else if let Some(e) = &m.error {
                    o.insert("error".into(), json!(e));
                }
                facts.set(format!("{p}{key}"), &src, Value::Object(o));
            }
            Some(Err((r, d))) => {
                facts.insert(format!("{p}{key}"), Fact::missing(&src, *r, d.clone()));
                all_clean = false;
                protocols = Err((*r, format!("{}: {vname}: {d}", t.label)));
            }
            None => {}
        }
    }
    for (vname, v) in &a.legacy {
        match v {
            Ok(Verdict::Accepted { suite }) => {
                any_accepted = true;
                let n = hello::suite(*suite).map(|x| x.name).unwrap_or("?");
                probes.insert(vname.clone(), json!(format!("accepted ({n})")));
                if let Ok(p) = &mut protocols {
                    p.insert(vname.clone());
                }
            }
            Ok(Verdict::Refused(why)) => {
                probes.insert(vname.clone(), json!(format!("refused ({why})")));
            }
            Err((r, d)) => {
                all_clean = false;
                probes.insert(vname.clone(), json!(format!("unknown ({d})")));
                if protocols.is_ok() {
                    protocols = Err((*r, format!("{}: {vname}: {d}", t.label)));
                }
            }
        }
    }
    facts.set(format!("{p}protocol_probes"), &src, Value::Object(probes));
    // `tls`: true on any accepted handshake; false only when every probe was cleanly refused.
    if any_accepted {
        facts.set(format!("{p}tls"), &src, true);
    } else if all_clean && protocols.is_ok() {
        facts.set(format!("{p}tls"), &src, false);
    } else {
        let (r, d) = protocols
            .clone()
            .err()
            .unwrap_or((MissingReason::Error, "no usable answer".into()));
        facts.insert(format!("{p}tls"), Fact::missing(&src, r, d));
    }
    let legacy_names = ["SSLv3", "TLSv1.0", "TLSv1.1"];
    match &protocols {
        Ok(set) => {
            facts.set(
                format!("{p}protocols"),
                &src,
                set.iter().cloned().collect::<Vec<_>>(),
            );
            for l in legacy_names {
                if set.contains(l) {
                    s.legacy.push(format!("{} {l}", t.label));
                }
            }
            if let Ok(all) = &mut s.protocols {
                all.extend(set.iter().cloned());
            }
        }
        Err((r, d)) => {
            facts.insert(format!("{p}protocols"), Fact::missing(&src, *r, d.clone()));
            if s.protocols.is_ok() {
                s.protocols = Err((*r, d.clone()));
            }
        }
    }
    match &a.weak {
        Ok(w) => {
            let items: Vec<String> = w
                .iter()
                .map(|(c, v, n)| format!("{c}: {n} at {v}"))
                .collect();
            let classes: BTreeSet<String> = w.iter().map(|(c, _, _)| c.clone()).collect();
            facts.set(format!("{p}weak_ciphers"), &src, items.clone());
            facts.set(
                format!("{p}weak_cipher_classes"),
                &src,
                classes.into_iter().collect::<Vec<_>>(),
            );
            if protocols.is_err() {
                // Versions we could not test may hide weak suites.
                if s.weak.is_ok() {
                    s.weak = Err(protocols
                        .clone()
                        .err()
                        .unwrap_or((MissingReason::Error, String::new())));
                }
            } else if let Ok(sw) = &mut s.weak {
                sw.extend(items.into_iter().map(|i| format!("{} {i}", t.label)));
            }
        }
        Err((r, d)) => {
            for k in ["weak_ciphers", "weak_cipher_classes"] {
                facts.insert(format!("{p}{k}"), Fact::missing(&src, *r, d.clone()));
            }
            if s.weak.is_ok() {
                s.weak = Err((*r, format!("{}: {d}", t.label)));
            }
        }
    }
    // Non-AEAD suites at TLS 1.2/1.1 and static-RSA key exchange.
    type Found<'a> = (&'a str, Obs<Vec<String>>, &'a mut Obs<Vec<String>>);
    let found: [Found; 3] = [
        (
            "cbc_tls12",
            a.cbc12
                .clone()
                .map(|o| o.into_iter().map(suite_name).collect()),
            &mut s.cbc12,
        ),
        (
            "cbc_tls11",
            a.cbc11
                .clone()
                .map(|o| o.into_iter().map(suite_name).collect()),
            &mut s.cbc11,
        ),
        (
            "rsa_kx",
            a.rsa_kx.clone().map(|o| {
                o.into_iter()
                    .map(|(v, c)| format!("{} at {}", suite_name(c), v.name()))
                    .collect()
            }),
            &mut s.rsa_kx,
        ),
    ];
    for (key, obs, sum) in found {
        match obs {
            Ok(items) => {
                if let Ok(all) = sum {
                    all.extend(items.iter().map(|i| format!("{} {i}", t.label)));
                }
                facts.set(format!("{p}{key}"), &src, items);
            }
            Err((r, d)) => {
                if sum.is_ok() {
                    *sum = Err((r, format!("{}: {d}", t.label)));
                }
                facts.insert(format!("{p}{key}"), Fact::missing(&src, r, d));
            }
        }
    }
    // Client authentication, from whichever rustls handshake saw a CertificateRequest.
    let ms: Vec<&probe::Modern> = [&a.tls13, &a.tls12]
        .into_iter()
        .filter_map(|m| m.as_ref().and_then(|r| r.as_ref().ok()))
        .collect();
    let requested = ms.iter().any(|m| m.client_cert_requested);
    let required = ms.iter().find_map(|m| m.client_cert_required);
    let modern_ok = ms
        .iter()
        .any(|m| m.negotiated.is_some() || m.client_cert_requested);
    if requested {
        let v = if required == Some(true) {
            "required"
        } else {
            "requested"
        };
        facts.set(format!("{p}client_auth"), &src, v);
    } else if modern_ok {
        facts.set(format!("{p}client_auth"), &src, "none");
    } else {
        facts.insert(
            format!("{p}client_auth"),
            Fact::missing(
                &src,
                MissingReason::Unsupported,
                "no TLS 1.2/1.3 handshake with rustls got far enough to tell",
            ),
        );
    }
    // The chain as sent (from the first handshake that got one).
    let mut chain: Vec<Vec<u8>> = ms
        .iter()
        .find(|m| !m.chain.is_empty())
        .map(|m| m.chain.clone())
        .unwrap_or_default();
    if chain.is_empty() {
        match &a.legacy_chain {
            Some(Ok(c)) => chain = c.clone(),
            Some(Err((r, d))) => {
                for k in ["chain", "leaf"] {
                    facts.insert(format!("{p}{k}"), Fact::missing(&src, *r, d.clone()));
                }
                if s.cert_unknown.is_none() {
                    s.cert_unknown = Some((*r, format!("{}: {d}", t.label)));
                }
                return;
            }
            None => {}
        }
    }
    if chain.is_empty() {
        let why = if any_accepted {
            (
                MissingReason::Unsupported,
                "the server sent no certificate (anonymous suites only?)".to_string(),
            )
        } else {
            (MissingReason::Absent, "no certificate was sent".to_string())
        };
        for k in ["chain", "leaf"] {
            facts.insert(format!("{p}{k}"), Fact::missing(&src, why.0, why.1.clone()));
        }
        if any_accepted && s.cert_unknown.is_none() {
            s.cert_unknown = Some((why.0, format!("{}: {}", t.label, why.1)));
        }
        return;
    }
    let infos: Vec<Result<CertInfo, String>> =
        chain.iter().map(|d| cert::analyze(d, now)).collect();
    facts.set(
        format!("{p}chain"),
        &src,
        Value::Array(
            infos
                .iter()
                .map(|i| match i {
                    Ok(i) => serde_json::to_value(i).unwrap_or(Value::Null),
                    Err(e) => json!({ "error": e }),
                })
                .collect(),
        ),
    );
    let leaf = match &infos[0] {
        Ok(l) => l.clone(),
        Err(e) => {
            facts.insert(
                format!("{p}leaf"),
                Fact::missing(&src, MissingReason::Error, e.clone()),
            );
            if s.cert_unknown.is_none() {
                s.cert_unknown = Some((MissingReason::Error, format!("{}: {e}", t.label)));
            }
            return;
        }
    };
    let mut lv = serde_json::to_value(&leaf).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut lv {
        if let Some(n) = &t.name {
            let m = cert::name_matches(&leaf, n);
            o.insert("name_checked".into(), json!(n));
            o.insert("name_matches".into(), json!(m));
            s.names_checked += 1;
            if !m {
                s.name_mismatches.push(format!(
                    "{}: certificate {} does not name {n}",
                    t.label, leaf.subject
                ));
            }
        }
        if let Some(root) = root_der {
            let by_root = chain.iter().any(|c| c.as_slice() == root)
                || cert::issued_by(&chain[0], root)
                || chain.iter().skip(1).any(|c| cert::issued_by(c, root));
            o.insert("issued_by_root_ca".into(), json!(by_root));
        }
    }
    facts.set(format!("{p}leaf"), &src, lv);
    if s.earliest_not_after
        .as_ref()
        .is_none_or(|(t0, _)| leaf.not_after < *t0)
    {
        s.earliest_not_after = Some((leaf.not_after, t.label.clone()));
    }
    match leaf.key_type.as_str() {
        "RSA" | "DSA" => {
            s.min_rsa = Some(s.min_rsa.map_or(leaf.key_bits, |m| m.min(leaf.key_bits)))
        }
        "EC" => s.min_ec = Some(s.min_ec.map_or(leaf.key_bits, |m| m.min(leaf.key_bits))),
        _ => {}
    }
    if leaf.self_signed {
        s.self_signed.push(t.label.clone());
    }
    for i in infos.iter().flatten() {
        // A self-signed trust anchor's own signature is never checked by clients.
        if i.weak_signature && !i.self_signed {
            s.weak_signatures.push(format!(
                "{}: {} ({})",
                t.label, i.signature_algorithm, i.subject
            ));
        }
    }
    if leaf.weak_signature && leaf.self_signed {
        s.weak_signatures.push(format!(
            "{}: {} (self-signed leaf {})",
            t.label, leaf.signature_algorithm, leaf.subject
        ));
    }
}

impl Summary {
    fn record(self, facts: &mut Facts) {
        let src = "tls:summary";
        facts.namespace_complete("tls.summary.", src);
        facts.set("tls.summary.endpoints", src, self.endpoints.clone());
        set_obs(
            facts,
            "tls.summary.protocols",
            src,
            self.protocols
                .clone()
                .map(|p| p.into_iter().collect::<Vec<_>>()),
        );
        match &self.protocols {
            Ok(_) => facts.set("tls.summary.legacy_protocols", src, self.legacy.clone()),
            Err((r, d)) => facts.insert(
                "tls.summary.legacy_protocols",
                Fact::missing(src, *r, d.clone()),
            ),
        }
        set_obs(facts, "tls.summary.weak_ciphers", src, self.weak.clone());
        set_obs(facts, "tls.summary.cbc_tls12", src, self.cbc12.clone());
        set_obs(facts, "tls.summary.cbc_tls11", src, self.cbc11.clone());
        set_obs(facts, "tls.summary.rsa_kx", src, self.rsa_kx.clone());
        if let Some((r, d)) = self.cert_unknown.clone() {
            for k in [
                "earliest_not_after",
                "min_rsa_key_bits",
                "min_ec_key_bits",
                "weak_signatures",
                "name_mismatches",
                "self_signed",
            ] {
                facts.insert(format!("tls.summary.{k}"), Fact::missing(src, r, d.clone()));
            }
            return;
        }
        if let Some((t, l)) = &self.earliest_not_after {
            facts.set("tls.summary.earliest_not_after", src, *t);
            facts.set("tls.summary.earliest_not_after_endpoint", src, l.clone());
        }
        if let Some(b) = self.min_rsa {
            facts.set("tls.summary.min_rsa_key_bits", src, b);
        }
        if let Some(b) = self.min_ec {
            facts.set("tls.summary.min_ec_key_bits", src, b);
        }
        if !self.endpoints.is_empty() {
            facts.set("tls.summary.weak_signatures", src, self.weak_signatures);
            facts.set("tls.summary.self_signed", src, self.self_signed);
        }
        if self.names_checked > 0 {
            facts.set("tls.summary.name_mismatches", src, self.name_mismatches);
        }
    }
}

/// Analyses the CloudStack root CA certificate from `cs.root_ca.certificate_pem` (put
/// there by the DB collector) against `ca.framework.cert.keysize` (the root key is twice
/// it) and `ca.framework.cert.signature.algorithm`.
fn root_ca(known: &Facts, now: i64, facts: &mut Facts) {
    let p = "tls.root_ca.";
    let src = "tls:cs.root_ca.certificate_pem";
    let pem_fact = known.get("cs.root_ca.certificate_pem");
    let pem = match pem_fact.as_deref() {
        Some(f) => match (&f.value, &f.missing) {
            (Some(Value::String(s)), _) => s.clone(),
            (_, Some(m)) => {
                facts.namespace_missing(
                    p,
                    src,
                    m.reason,
                    format!("cs.root_ca.certificate_pem: {}", m.detail),
                );
                return;
            }
            _ => {
                facts.namespace_missing(
                    p,
                    src,
                    MissingReason::Error,
                    "the root CA fact is not text",
                );
                return;
            }
        },
        None => {
            facts.namespace_missing(
                p,
                src,
                MissingReason::NotCollected,
                "cs.root_ca.certificate_pem was not collected (needs the database collector)",
            );
            return;
        }
    };
    let Some(der) = cert::pem_certs(&pem).into_iter().next() else {
        facts.namespace_missing(
            p,
            src,
            MissingReason::Error,
            "no PEM certificate in cs.root_ca.certificate_pem",
        );
        return;
    };
    let info = match cert::analyze(&der, now) {
        Ok(i) => i,
        Err(e) => {
            facts.namespace_missing(p, src, MissingReason::Error, e);
            return;
        }
    };
    facts.namespace_complete(p, src);
    facts.set(
        format!("{p}cert"),
        src,
        serde_json::to_value(&info).unwrap_or(Value::Null),
    );
    // Setting, or its code default when the row is known absent; unknown otherwise.
    let setting = |key: &str, default: &str| -> Obs<String> {
        match known.get(key) {
            Some(f) => match (&f.value, &f.missing) {
                (Some(v), _) => Ok(match v {
                    Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                }),
                (None, Some(m)) if m.reason.is_known_absent() => Ok(default.to_string()),
                (None, Some(m)) => Err((m.reason, format!("{key}: {}", m.detail))),
                _ => Err((MissingReason::Error, key.to_string())),
            },
            None => Err((
                MissingReason::NotCollected,
                format!("{key} was not collected"),
            )),
        }
    };
    match setting("cs.setting.ca.framework.cert.keysize", "2048") {
        Ok(k) => match k.parse::<u32>() {
            Ok(k) => {
                facts.set(format!("{p}expected_key_bits"), src, 2 * k);
                facts.set(format!("{p}keysize_matches"), src, info.key_bits == 2 * k);
            }
            Err(_) => facts.insert(
                format!("{p}keysize_matches"),
                Fact::missing(
                    src,
                    MissingReason::Error,
                    "ca.framework.cert.keysize is not a number",
                ),
            ),
        },
        Err((r, d)) => facts.insert(format!("{p}keysize_matches"), Fact::missing(src, r, d)),
    }
    match setting(
        "cs.setting.ca.framework.cert.signature.algorithm",
        "SHA256withRSA",
    ) {
        Ok(alg) => match cert::java_sigalg_to_sn(&alg) {
            Some(sn) => {
                facts.set(format!("{p}expected_signature_algorithm"), src, sn);
                facts.set(
                    format!("{p}signature_algorithm_matches"),
                    src,
                    info.signature_algorithm.eq_ignore_ascii_case(sn),
                );
            }
            None => facts.insert(
                format!("{p}signature_algorithm_matches"),
                Fact::missing(
                    src,
                    MissingReason::Unsupported,
                    format!("unknown algorithm name {alg:?}"),
                ),
            ),
        },
        Err((r, d)) => facts.insert(
            format!("{p}signature_algorithm_matches"),
            Fact::missing(src, r, d),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_specs() {
        let e = EndpointSpec::parse("127.0.0.1:8443").unwrap();
        assert_eq!(e.label, "ep-127-0-0-1-8443");
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 8443));
        let e = EndpointSpec::parse("agent=ms.example.org:8250").unwrap();
        assert_eq!(
            (e.label.as_str(), e.host.as_str()),
            ("agent", "ms.example.org")
        );
        let e = EndpointSpec::parse("[::1]:9090").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9090));
        for bad in [
            "",
            "host",
            "host:0",
            "host:99999",
            "summary=h:1",
            "A B=h:1",
            ":80",
            "[::1]80",
        ] {
            assert!(EndpointSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deployment_endpoints_follow_the_configuration() {
        let mut f = Facts::new();
        f.set("props.server.https.port", "t", "9443");
        f.set("props.server.bind.interface", "t", "10.0.0.5");
        f.set("cs.setting.port", "t", "18250");
        f.namespace_complete("props.db.", "t");
        let t = deployment_targets(&f);
        let by = |l: &str| t.iter().find(|x| x.label == l).unwrap();
        assert_eq!(
            (by("https").host.as_str(), by("https").port),
            ("10.0.0.5", 9443)
        );
        assert_eq!(by("http").port, 8080);
        assert_eq!(by("agent").port, 18250);
        assert_eq!(
            (by("cluster").host.as_str(), by("cluster").port),
            ("127.0.0.1", 9090)
        );
        f.set("props.server.bind.interface", "t", "::");
        assert_eq!(deployment_targets(&f)[0].host, "127.0.0.1");
    }

    #[test]
    fn nothing_probed_means_not_collected() {
        let opts = TlsOptions {
            probe_deployment: false,
            not_probed_because: "demo tree".into(),
            endpoints: vec![],
            limits: Limits::default(),
            now: 0,
        };
        let f = collect(&opts, &Facts::new());
        let x = f.get("tls.https.tls").unwrap();
        assert_eq!(
            x.missing.as_ref().unwrap().reason,
            MissingReason::NotCollected
        );
        let r = f.get("tls.root_ca.cert").unwrap();
        assert_eq!(
            r.missing.as_ref().unwrap().reason,
            MissingReason::NotCollected
        );
    }
}
