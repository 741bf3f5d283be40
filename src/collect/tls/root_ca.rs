//! `tls.root_ca.*`: the CloudStack root CA certificate from `cs.root_ca.certificate_pem`
//! (put there by the DB collector), checked against `ca.framework.cert.keysize` (the root
//! key is twice it) and `ca.framework.cert.signature.algorithm`.

use super::assess::Obs;
use super::cert;
use super::record::Layers;
use crate::facts::{Fact, Facts, Missing};
use serde_json::Value;

const PREFIX: &str = "tls.root_ca.";
const SRC: &str = "tls:cs.root_ca.certificate_pem";

/// The DER of the root CA certificate, or why there is none.
pub(super) fn root_der(look: &Layers) -> Obs<Vec<u8>> {
    let key = "cs.root_ca.certificate_pem";
    if look.get(key).is_none() {
        return Err(Missing::not_collected(format!(
            "{key} was not collected (needs the database collector)"
        )));
    }
    let pem = match look.value(key) {
        Ok(Value::String(s)) => s,
        Ok(_) => return Err(Missing::error("the root CA fact is not text")),
        Err(m) => return Err(m.context(key)),
    };
    cert::pem_certs(&pem)
        .into_iter()
        .next()
        .ok_or_else(|| Missing::error(format!("no PEM certificate in {key}")))
}

/// Records `tls.root_ca.*`.
pub(super) fn record(look: &Layers, now: i64, facts: &mut Facts) {
    let info = root_der(look).and_then(|der| cert::analyze(&der, now).map_err(Missing::error));
    let info = match info {
        Ok(i) => i,
        Err(m) => {
            facts.namespace_missing(PREFIX, SRC, m.reason, m.detail);
            return;
        }
    };
    facts.namespace_complete(PREFIX, SRC);
    let key = |k: &str| format!("{PREFIX}{k}");
    facts.set(
        key("cert"),
        SRC,
        serde_json::to_value(&info).unwrap_or(Value::Null),
    );
    let keysize = setting(look, "cs.setting.ca.framework.cert.keysize", "2048").and_then(|k| {
        k.parse::<u32>()
            .map_err(|_| Missing::error("ca.framework.cert.keysize is not a number"))
    });
    match keysize {
        Ok(k) => {
            facts.set(key("expected_key_bits"), SRC, 2 * k);
            facts.set(key("keysize_matches"), SRC, info.key_bits == 2 * k);
        }
        Err(m) => facts.insert(key("keysize_matches"), Fact::from_missing(SRC, m)),
    }
    let alg = setting(
        look,
        "cs.setting.ca.framework.cert.signature.algorithm",
        "SHA256withRSA",
    )
    .and_then(|alg| {
        cert::java_sigalg_to_sn(&alg)
            .ok_or_else(|| Missing::unsupported(format!("unknown algorithm name {alg:?}")))
    });
    match alg {
        Ok(sn) => {
            facts.set(key("expected_signature_algorithm"), SRC, sn);
            let same = info.signature_algorithm.eq_ignore_ascii_case(sn);
            facts.set(key("signature_algorithm_matches"), SRC, same);
        }
        Err(m) => facts.insert(
            key("signature_algorithm_matches"),
            Fact::from_missing(SRC, m),
        ),
    }
}

/// A setting, or its code default when the row is known absent; unknown otherwise.
fn setting(look: &Layers, key: &str, default: &str) -> Obs<String> {
    if look.get(key).is_none() {
        return Err(Missing::not_collected(format!("{key} was not collected")));
    }
    match look.value(key) {
        Ok(Value::String(s)) => Ok(s.trim().to_string()),
        Ok(other) => Ok(other.to_string()),
        Err(m) if m.reason.is_known_absent() => Ok(default.to_string()),
        Err(m) => Err(m.context(key)),
    }
}
