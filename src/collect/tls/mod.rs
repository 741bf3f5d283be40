//! TLS collector: what a client really gets on the wire from the management server's
//! TLS endpoints, and an analysis of the CloudStack root CA certificate.
//!
//! Two steps, whose facts merged are what [`collect`] returns:
//! - [`collect_explicit`]`(opts)` probes the endpoints given with `--endpoint [LABEL=]HOST:PORT`.
//!   It needs no other facts, so it can run while the database is still being read.
//!   (Or, to hand the probes over in memory: [`probe_explicit`] early, [`collect_with`]
//!   later, which records them and runs the deployment step.)
//! - [`collect_deployment`]`(opts, known)` probes the deployment's own endpoints, which come
//!   from the facts collected so far: `props.server.*` (https.port, http.port,
//!   bind.interface), `cs.setting.port` (agent port, default 8250),
//!   `props.db.cluster.servlet.port` / `props.db.cluster.node.IP` (cluster port, default
//!   9090); it compares every leaf with the names its clients use (`record/names.rs`:
//!   `endpoint.url`, `host`, `cluster.node.IP`, the host name, the `--endpoint` host),
//!   checks it against the root CA (`cs.root_ca.certificate_pem`), analyses the root CA
//!   (`tls.root_ca.*`, with `cs.setting.ca.framework.cert.keysize` and `.signature.algorithm`)
//!   and aggregates every probed endpoint, its own and the explicit ones found in `known`,
//!   into `tls.summary.*`. Run it after `collect_explicit` with that step's facts in `known`.
//!
//! **When it probes.** The deployment's endpoints are probed only when the audited root
//! is `/` (the live host) or when asked (`--probe-deployment`); endpoints given with
//! `--endpoint` are always probed. Otherwise the `tls.` namespace is "not collected",
//! so every TLS check is `unknown` rather than passing on no data.
//!
//! Modules: [`targets`] (target discovery), [`assess`] (the probe rounds of one endpoint),
//! [`probe`] (bounded I/O: rustls handshakes, legacy hellos, plain HTTP), [`hello`] and
//! [`suites`] (pure ClientHello builder, reply parser, suite table), [`dhe`] (the DHE
//! group probe and its parser), [`cert`] (pure x509
//! analysis), [`record`] (facts per endpoint and the summary), [`root_ca`]. Fact names:
//! `docs/facts.md` (`tls.*`).

mod assess;
pub mod cert;
pub mod dhe;
pub mod hello;
pub mod probe;
mod record;
mod root_ca;
pub mod suites;
mod targets;

pub use targets::{EndpointSpec, LABEL_AGENT, LABEL_CLUSTER, LABEL_HTTP, LABEL_HTTPS};

use crate::facts::{Facts, Missing};
use probe::Limits;
use record::Layers;
use targets::Target;

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

/// Runs the TLS collector given the facts collected so far: the `--endpoint`s, then
/// the deployment (see [`collect_with`]). Returns the new facts.
pub fn collect(opts: &TlsOptions, known: &Facts) -> Facts {
    collect_with(opts, known, &probe_explicit(opts))
}

/// The `--endpoint`s, probed but not yet recorded (see [`probe_explicit`]).
#[derive(Debug)]
pub struct ExplicitProbes {
    done: Vec<(Target, assess::Assessment)>,
    /// Namespaces of the endpoints whose probe could not run, with the reason.
    failed: Facts,
}

/// Probes the endpoints given with `--endpoint`. Probing them needs no other fact, so
/// it can run while the database is still being read; [`collect_with`] (or
/// [`collect_explicit`]) records them.
pub fn probe_explicit(opts: &TlsOptions) -> ExplicitProbes {
    let mut failed = Facts::new();
    let done = run(
        targets::explicit_targets(&opts.endpoints),
        &opts.limits,
        &mut failed,
    );
    ExplicitProbes { done, failed }
}

fn record_explicit(opts: &TlsOptions, probes: &ExplicitProbes) -> Facts {
    let mut facts = probes.failed.clone();
    for (t, a) in &probes.done {
        record::record(t, a, opts.now, None, &mut facts);
    }
    for e in &opts.endpoints {
        facts.set(format!("tls.{}.explicit", e.label), "--endpoint", true);
    }
    facts
}

/// Records the `--endpoint`s already probed, then runs the deployment step
/// ([`collect_deployment`]) over them and `known`. The same facts as [`collect`].
pub fn collect_with(opts: &TlsOptions, known: &Facts, probes: &ExplicitProbes) -> Facts {
    let mut facts = record_explicit(opts, probes);
    let deployment = deployment(opts, &Layers(vec![&facts, known]));
    facts.merge(deployment);
    facts
}

/// Probes and records the `--endpoint`s (`tls.<label>.*` and the sources `tls:<label>`).
/// Needs no other facts. The rest (the names the certificates must carry, the root CA,
/// the summary) is done by [`collect_deployment`], which must see these facts in its
/// `known`.
pub fn collect_explicit(opts: &TlsOptions) -> Facts {
    record_explicit(opts, &probe_explicit(opts))
}

/// Probes the deployment's own endpoints (unless an `--endpoint` took their label) and
/// records the root CA and the summary over every probed endpoint, including the
/// `--endpoint`s whose facts [`collect_explicit`] put into `known`.
pub fn collect_deployment(opts: &TlsOptions, known: &Facts) -> Facts {
    deployment(opts, &Layers(vec![known]))
}

fn deployment(opts: &TlsOptions, look: &Layers) -> Facts {
    let mut facts = Facts::new();
    root_ca::record(look, opts.now, &mut facts);
    let explicit = targets::explicit_targets(&opts.endpoints);
    // Whether each deployment endpoint was given with --endpoint (a TLS proxy in front,
    // say): checks of a port the configuration disables still apply to one given.
    for l in [LABEL_HTTPS, LABEL_AGENT, LABEL_CLUSTER, LABEL_HTTP] {
        if !explicit.iter().any(|t| t.label == l) {
            facts.set(format!("tls.{l}.explicit"), "tls", false);
        }
    }
    let mut own: Vec<Target> = if opts.probe_deployment {
        targets::deployment_targets(look)
    } else {
        Vec::new()
    };
    own.retain(|t| !explicit.iter().any(|e| e.label == t.label));
    if own.is_empty() && explicit.is_empty() {
        let m = Missing::not_collected(opts.not_probed_because.clone());
        if opts.probe_deployment {
            facts.namespace_missing("tls.", "tls", m.reason, m.detail);
        } else {
            // Not probing the deployment is the operator's choice (or the default off the live host).
            facts.skipped_by_choice("tls", &["tls."], &m.detail);
        }
        return facts;
    }
    if !opts.probe_deployment {
        for l in [LABEL_HTTPS, LABEL_AGENT, LABEL_CLUSTER, LABEL_HTTP] {
            if !explicit.iter().any(|t| t.label == l) {
                facts.skipped_by_choice("tls", &[&format!("tls.{l}.")], &opts.not_probed_because);
            }
        }
    }
    let root = root_ca::root_der(look).ok();
    for (t, a) in run(own.clone(), &opts.limits, &mut facts) {
        record::record(&t, &a, opts.now, root.as_deref(), &mut facts);
    }
    // The explicit endpoints' leaves, completed with what needed the database facts.
    for t in explicit.iter().filter(|t| !t.plain) {
        record::chain::complete(&t.label, root.as_deref(), look, &mut facts);
    }
    let labels: Vec<String> = explicit
        .iter()
        .chain(own.iter())
        .filter(|t| !t.plain)
        .map(|t| t.label.clone())
        .collect();
    let names = {
        let mut view = vec![&facts];
        view.extend(look.0.iter().copied());
        let mut n = Facts::new();
        record::names_of(&labels, &explicit, &Layers(view), &mut n);
        n
    };
    facts.merge(names);
    let summary = {
        let mut view = vec![&facts];
        view.extend(look.0.iter().copied());
        let mut s = Facts::new();
        record::summary::record(&labels, &Layers(view), &mut s);
        s
    };
    facts.merge(summary);
    facts
}

/// Probes `targets` concurrently, in input order. When the I/O runtime cannot start,
/// every target's facts are missing with that reason.
fn run(
    targets: Vec<Target>,
    limits: &Limits,
    facts: &mut Facts,
) -> Vec<(Target, assess::Assessment)> {
    if targets.is_empty() {
        return Vec::new();
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let m = Missing::error(format!("cannot start the I/O runtime: {}", e.kind()));
            for t in &targets {
                facts.namespace_missing(&format!("tls.{}.", t.label), "tls", m.reason, &m.detail);
            }
            return Vec::new();
        }
    };
    let limits = *limits;
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let done: Vec<(Target, assess::Assessment)> = rt.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for (i, t) in targets.into_iter().enumerate() {
            set.spawn(async move {
                let a = assess::assess(&t, &limits).await;
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
    });
    for l in labels
        .iter()
        .filter(|l| !done.iter().any(|(t, _)| &t.label == *l))
    {
        let m = Missing::error("probe task failed");
        facts.namespace_missing(&format!("tls.{l}."), "tls", m.reason, m.detail);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::MissingReason;

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
