//! The certificate chain as sent (`chain`, `chain_pem`), its leaf (`leaf`, matched
//! against the expected name and the root CA), and client authentication (`client_auth`).

use super::super::assess::{Assessment, Obs};
use super::super::cert::{self, CertInfo};
use super::Out;
use crate::facts::Missing;
use serde_json::{json, Value};

/// At most this many certificates of a chain are kept (as sent, leaf first).
const MAX_CHAIN: usize = 16;

pub(in super::super) fn record(
    a: &Assessment,
    tls: &Obs<bool>,
    now: i64,
    root: Option<&[u8]>,
    o: &mut Out,
) {
    client_auth(a, o);
    let chain = match chain_of(a, tls) {
        Ok(c) => c,
        Err(m) => {
            for k in ["chain", "chain_pem", "leaf"] {
                o.missing(k, m.clone());
            }
            return;
        }
    };
    let infos: Vec<Result<CertInfo, String>> =
        chain.iter().map(|d| cert::analyze(d, now)).collect();
    o.set(
        "chain",
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
    o.set("chain_pem", cert::to_pem(&chain));
    match &infos[0] {
        Ok(leaf) => {
            let v = annotate(
                serde_json::to_value(leaf).unwrap_or(Value::Null),
                &chain,
                root,
            );
            o.set("leaf", v);
        }
        Err(e) => o.missing("leaf", Missing::error(e.clone())),
    }
}

/// The chain as sent: from the first rustls handshake that got one, else from a legacy
/// hello's flight. `Err` says why no certificate was observed.
fn chain_of(a: &Assessment, tls: &Obs<bool>) -> Obs<Vec<Vec<u8>>> {
    let mut chain = a
        .modern()
        .iter()
        .find(|m| !m.chain.is_empty())
        .map(|m| m.chain.clone())
        .unwrap_or_default();
    if chain.is_empty() {
        if let Some(c) = &a.legacy_chain {
            chain = c.clone()?;
        }
    }
    chain.truncate(MAX_CHAIN);
    if !chain.is_empty() {
        return Ok(chain);
    }
    Err(match tls {
        Ok(true) => Missing::unsupported("the server sent no certificate (anonymous suites only?)"),
        Ok(false) => Missing::absent("no TLS version was accepted, so no certificate was sent"),
        // No certificate was observed, which says nothing about what the server sends.
        Err(m) => m.clone().context("no certificate observed"),
    })
}

/// Adds to a leaf's analysis whether the root CA `root` issued the chain (`chain`: DER,
/// leaf first). Whether it names its clients' names is `names.rs`.
pub(in super::super) fn annotate(mut leaf: Value, chain: &[Vec<u8>], root: Option<&[u8]>) -> Value {
    if let Value::Object(obj) = &mut leaf {
        if let (Some(root), Some(first)) = (root, chain.first()) {
            let by_root = chain.iter().any(|c| c.as_slice() == root)
                || cert::issued_by(first, root)
                || chain.iter().skip(1).any(|c| cert::issued_by(c, root));
            obj.insert("issued_by_root_ca".into(), json!(by_root));
        }
    }
    leaf
}

/// From whichever rustls handshake saw a CertificateRequest.
fn client_auth(a: &Assessment, o: &mut Out) {
    let ms = a.modern();
    let requested = ms.iter().any(|m| m.client_cert_requested);
    let required = ms.iter().find_map(|m| m.client_cert_required);
    if requested {
        let v = if required == Some(true) {
            "required"
        } else {
            "requested"
        };
        o.set("client_auth", v);
    } else if ms.iter().any(|m| m.negotiated.is_some()) {
        o.set("client_auth", "none");
    } else {
        o.missing(
            "client_auth",
            Missing::unsupported("no TLS 1.2/1.3 handshake with rustls got far enough to tell"),
        );
    }
}

/// Completes the leaf of an endpoint recorded by an earlier step (`tls.<label>.leaf` and
/// `chain_pem` in `look`) with the root CA check that needed later facts.
pub(in super::super) fn complete(
    label: &str,
    root: Option<&[u8]>,
    look: &super::Layers,
    facts: &mut crate::facts::Facts,
) {
    if root.is_none() {
        return;
    }
    let key = format!("tls.{label}.leaf");
    let Some(leaf) = look.get(&key).filter(|f| f.value.is_some()) else {
        return;
    };
    let pem = look
        .text(&format!("tls.{label}.chain_pem"))
        .unwrap_or_default();
    let chain = cert::pem_certs(&pem);
    let v = annotate(leaf.value.clone().unwrap_or(Value::Null), &chain, root);
    facts.set(key, &leaf.source, v);
}
