//! `tls.summary.*`: aggregates over every probed TLS endpoint, read back from the
//! endpoints' own facts. A summary is a value only when every endpoint's part of it was
//! observed; the certificate aggregates need at least one observed certificate (none
//! observed because none was sent is known-absent; none observed because the endpoint
//! did not answer is unknown, never an empty list).

use super::super::assess::Obs;
use super::Layers;
use crate::facts::{Fact, Facts, Missing};
use serde_json::Value;
use std::collections::BTreeSet;

const SRC: &str = "tls:summary";
const CERT_KEYS: [&str; 7] = [
    "earliest_not_after",
    "earliest_not_after_endpoint",
    "earliest_unexpired_not_after",
    "min_rsa_key_bits",
    "min_ec_key_bits",
    "weak_signatures",
    "self_signed",
];

#[derive(Default)]
struct Certs {
    leaves: usize,
    earliest_not_after: Option<(i64, String)>,
    /// The same over the leaves not yet expired at collection time.
    earliest_unexpired: Option<(i64, String)>,
    min_rsa: Option<u64>,
    min_ec: Option<u64>,
    weak_signatures: Vec<String>,
    self_signed: Vec<String>,
}

/// Certificates against the names their clients use: a mismatch found is decisive, an
/// endpoint whose names or certificate could not be known otherwise leaves it unknown.
#[derive(Default)]
struct Names {
    mismatches: Vec<String>,
    checked: usize,
    unknown: Option<Missing>,
}

struct Summary {
    endpoints: Vec<String>,
    protocols: Obs<BTreeSet<String>>,
    legacy: Vec<String>,
    /// weak_ciphers, cbc_tls12, cbc_tls11, rsa_kx
    lists: [Obs<Vec<String>>; 4],
    certs: Obs<Certs>,
    names: Names,
    /// `"<label>: BITS-bit group (SUITE at VERSION)"` and the smallest group.
    dhe: Obs<(Vec<String>, Option<u64>)>,
}

const LISTS: [&str; 4] = ["weak_ciphers", "cbc_tls12", "cbc_tls11", "rsa_kx"];

fn keep_first<T>(slot: &mut Obs<T>, m: Missing) {
    if slot.is_ok() {
        *slot = Err(m);
    }
}

fn strings(v: Obs<Value>) -> Obs<Vec<String>> {
    match v? {
        Value::Array(a) => Ok(a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect()),
        _ => Err(Missing::error("not a list")),
    }
}

/// Records `tls.summary.*` over the TLS endpoints `labels`, from the facts in `look`.
pub(in super::super) fn record(labels: &[String], look: &Layers, facts: &mut Facts) {
    if labels.is_empty() {
        // Only plain HTTP was probed: a summary over no TLS endpoint says nothing.
        let m = Missing::not_collected("no TLS endpoint was probed");
        facts.namespace_missing("tls.summary.", SRC, m.reason, m.detail);
        return;
    }
    let mut s = Summary {
        endpoints: Vec::new(),
        protocols: Ok(BTreeSet::new()),
        legacy: Vec::new(),
        lists: std::array::from_fn(|_| Ok(Vec::new())),
        certs: Ok(Certs::default()),
        names: Names::default(),
        dhe: Ok((Vec::new(), None)),
    };
    for l in labels {
        endpoint(l, look, &mut s);
    }
    facts.namespace_complete("tls.summary.", SRC);
    facts.set("tls.summary.endpoints", SRC, s.endpoints.clone());
    let obs = |facts: &mut Facts, k: &str, v: Obs<Value>| {
        let key = format!("tls.summary.{k}");
        match v {
            Ok(v) => facts.set(key, SRC, v),
            Err(m) => facts.insert(key, Fact::from_missing(SRC, m)),
        }
    };
    let protocols = s
        .protocols
        .map(|p| Value::from(p.into_iter().collect::<Vec<_>>()));
    let legacy = protocols
        .as_ref()
        .map(|_| Value::from(s.legacy))
        .map_err(Clone::clone);
    obs(facts, "protocols", protocols);
    obs(facts, "legacy_protocols", legacy);
    for (k, v) in LISTS.iter().zip(s.lists) {
        obs(facts, k, v.map(Value::from));
    }
    record_certs(s.certs, facts);
    record_names(s.names, facts);
    record_dhe(s.dhe, facts);
}

fn endpoint(l: &str, look: &Layers, s: &mut Summary) {
    let key = |k: &str| format!("tls.{l}.{k}");
    match look.value(&key("reachable")) {
        Ok(Value::Bool(true)) => {}
        Ok(_) => return,
        Err(m) => {
            let m = m.context(l);
            keep_first(&mut s.protocols, m.clone());
            for x in &mut s.lists {
                keep_first(x, m.clone());
            }
            keep_first(&mut s.certs, m.clone());
            keep_first(&mut s.dhe, m.clone());
            s.names.unknown.get_or_insert(m);
            return;
        }
    }
    s.endpoints.push(l.to_string());
    let protocols = strings(look.value(&key("protocols")));
    match &protocols {
        Ok(set) => {
            for v in ["SSLv3", "TLSv1.0", "TLSv1.1"] {
                if set.iter().any(|p| p == v) {
                    s.legacy.push(format!("{l} {v}"));
                }
            }
            if let Ok(all) = &mut s.protocols {
                all.extend(set.iter().cloned());
            }
        }
        Err(m) => keep_first(&mut s.protocols, m.clone().context(l)),
    }
    for (i, k) in LISTS.iter().enumerate() {
        let mut v = strings(look.value(&key(k)));
        if i == 0 {
            // Versions that could not be tested may hide weak suites.
            if let Err(m) = &protocols {
                v = v.and(Err(m.clone()));
            }
        }
        match v {
            Ok(items) => {
                if let Ok(all) = &mut s.lists[i] {
                    all.extend(items.into_iter().map(|x| format!("{l} {x}")));
                }
            }
            Err(m) => keep_first(&mut s.lists[i], m.context(l)),
        }
    }
    dhe(l, look, s);
    certificates(l, look, s);
}

fn dhe(l: &str, look: &Layers, s: &mut Summary) {
    match look.value(&format!("tls.{l}.dhe_group_bits")) {
        Ok(v) => {
            let bits = v.as_u64().unwrap_or(0);
            let suite = look
                .text(&format!("tls.{l}.dhe_suite"))
                .unwrap_or_else(|| "?".into());
            if let Ok((items, min)) = &mut s.dhe {
                items.push(format!("{l}: {bits}-bit group ({suite})"));
                *min = Some(min.map_or(bits, |m| m.min(bits)));
            }
        }
        Err(m) if m.reason.is_known_absent() => {}
        Err(m) => keep_first(&mut s.dhe, m.context(l)),
    }
}

fn record_dhe(dhe: Obs<(Vec<String>, Option<u64>)>, facts: &mut Facts) {
    let (groups, min) = ("tls.summary.dhe_groups", "tls.summary.min_dhe_group_bits");
    match dhe {
        Ok((items, m)) => {
            facts.set(groups, SRC, items);
            match m {
                Some(b) => facts.set(min, SRC, b),
                None => facts.insert(
                    min,
                    Fact::from_missing(SRC, Missing::absent("no endpoint accepts a DHE suite")),
                ),
            }
        }
        Err(m) => {
            facts.insert(groups, Fact::from_missing(SRC, m.clone()));
            facts.insert(min, Fact::from_missing(SRC, m));
        }
    }
}

fn certificates(l: &str, look: &Layers, s: &mut Summary) {
    let leaf = match look.value(&format!("tls.{l}.leaf")) {
        Ok(v) => v,
        Err(m) if m.reason.is_known_absent() => return,
        Err(m) => {
            s.names.unknown.get_or_insert(m.clone().context(l));
            return keep_first(&mut s.certs, m.context(l));
        }
    };
    names(l, look, &mut s.names);
    let Ok(c) = &mut s.certs else { return };
    let num = |k: &str| leaf.get(k).and_then(Value::as_i64);
    let text = |k: &str| leaf.get(k).and_then(Value::as_str).unwrap_or("?");
    let flag = |k: &str| leaf.get(k).and_then(Value::as_bool) == Some(true);
    let Some(not_after) = num("not_after") else {
        return keep_first(
            &mut s.certs,
            Missing::error(format!("{l}: leaf without not_after")),
        );
    };
    c.leaves += 1;
    if c.earliest_not_after
        .as_ref()
        .is_none_or(|(t0, _)| not_after < *t0)
    {
        c.earliest_not_after = Some((not_after, l.to_string()));
    }
    if !flag("expired")
        && c.earliest_unexpired
            .as_ref()
            .is_none_or(|(t0, _)| not_after < *t0)
    {
        c.earliest_unexpired = Some((not_after, l.to_string()));
    }
    let bits = leaf.get("key_bits").and_then(Value::as_u64).unwrap_or(0);
    let min = |m: Option<u64>| Some(m.map_or(bits, |m| m.min(bits)));
    match text("key_type") {
        "RSA" | "DSA" => c.min_rsa = min(c.min_rsa),
        "EC" => c.min_ec = min(c.min_ec),
        _ => {}
    }
    if flag("self_signed") {
        c.self_signed.push(l.to_string());
    }
    // A self-signed trust anchor's own signature is never checked by clients.
    let chain = look.value(&format!("tls.{l}.chain")).unwrap_or(Value::Null);
    for i in chain.as_array().into_iter().flatten() {
        let f = |k: &str| i.get(k).and_then(Value::as_bool) == Some(true);
        if f("weak_signature") && !f("self_signed") {
            let g = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("?");
            let (alg, subj) = (g("signature_algorithm"), g("subject"));
            c.weak_signatures.push(format!("{l}: {alg} ({subj})"));
        }
    }
    if flag("weak_signature") && flag("self_signed") {
        let (alg, subj) = (text("signature_algorithm"), text("subject"));
        c.weak_signatures
            .push(format!("{l}: {alg} (self-signed leaf {subj})"));
    }
}

fn record_certs(certs: Obs<Certs>, facts: &mut Facts) {
    let key = |k: &str| format!("tls.summary.{k}");
    let c = match certs {
        Ok(c) if c.leaves > 0 => c,
        other => {
            let m = match other {
                Err(m) => m,
                Ok(_) => Missing::absent(
                    "no endpoint sent a certificate (no TLS endpoint accepted a handshake)",
                ),
            };
            facts.insert(
                key("certificates"),
                match m.reason.is_known_absent() {
                    true => Fact::value(SRC, 0),
                    false => Fact::from_missing(SRC, m.clone()),
                },
            );
            for k in CERT_KEYS {
                facts.insert(key(k), Fact::from_missing(SRC, m.clone()));
            }
            return;
        }
    };
    facts.set(key("certificates"), SRC, c.leaves);
    if let Some((t, l)) = c.earliest_not_after {
        facts.set(key("earliest_not_after"), SRC, t);
        facts.set(key("earliest_not_after_endpoint"), SRC, l);
    }
    match c.earliest_unexpired {
        Some((t, _)) => facts.set(key("earliest_unexpired_not_after"), SRC, t),
        None => facts.insert(
            key("earliest_unexpired_not_after"),
            Fact::from_missing(
                SRC,
                Missing::absent("every certificate observed has already expired"),
            ),
        ),
    }
    if let Some(b) = c.min_rsa {
        facts.set(key("min_rsa_key_bits"), SRC, b);
    }
    if let Some(b) = c.min_ec {
        facts.set(key("min_ec_key_bits"), SRC, b);
    }
    facts.set(key("weak_signatures"), SRC, c.weak_signatures);
    facts.set(key("self_signed"), SRC, c.self_signed);
}

/// One endpoint's `names` (its certificate against the names its clients use).
fn names(l: &str, look: &Layers, n: &mut Names) {
    match look.value(&format!("tls.{l}.names")) {
        Ok(v) => {
            n.checked += 1;
            if v.get("matches").and_then(Value::as_bool) != Some(true) {
                let subject = look
                    .value(&format!("tls.{l}.leaf"))
                    .ok()
                    .and_then(|x| x.get("subject").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| "?".into());
                let sans = |k: &str| {
                    let c = &v["certificate"][k];
                    let items: Vec<&str> = c
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    if items.is_empty() {
                        "none".to_string()
                    } else {
                        items.join(", ")
                    }
                };
                let carries = format!("DNS: {}; IP: {}", sans("dns"), sans("ip"));
                for m in v["mismatches"].as_array().into_iter().flatten() {
                    let m = m.as_str().unwrap_or("?");
                    n.mismatches.push(format!(
                        "{l}: certificate {subject} ({carries}) does not name {m}"
                    ));
                }
            }
        }
        Err(m) if m.reason.is_known_absent() => {}
        Err(m) => {
            n.unknown.get_or_insert(m.context(l));
        }
    }
}

fn record_names(n: Names, facts: &mut Facts) {
    let key = "tls.summary.name_mismatches";
    let f = if !n.mismatches.is_empty() {
        Fact::value(SRC, n.mismatches)
    } else if let Some(m) = n.unknown {
        Fact::from_missing(SRC, m)
    } else if n.checked > 0 {
        Fact::value(SRC, Value::Array(vec![]))
    } else {
        Fact::from_missing(
            SRC,
            Missing::absent("no endpoint has a name its clients use to compare with"),
        )
    };
    facts.insert(key, f);
}
