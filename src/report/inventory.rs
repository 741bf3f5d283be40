//! What `fleet` compares across hosts and no single host's checks can: the CloudStack
//! version, the management-server peers from `cloud.mshost`, keyed fingerprints of secrets
//! (never the secrets: HMAC-SHA256 with the operator's `--fingerprint-key-file`) and
//! whether the clock is synchronised. Part of the JSON report from schema 1.1.0.

use crate::facts::Facts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// `cs.version`: the version the `cloud` database records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `cs.mshost`: the management servers of this host's cluster (`msid`, `name`,
    /// `service_ip`, `version`, `state`, `last_update`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mshost: Vec<Value>,
    /// Fact key -> keyed fingerprint, for every fact that carries one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fingerprints: BTreeMap<String, String>,
    /// `clock.synchronized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_synchronized: Option<bool>,
}

impl Inventory {
    /// `None` when the facts hold none of it.
    pub fn from_facts(facts: &Facts) -> Option<Inventory> {
        let value = |k: &str| facts.get(k).and_then(|f| f.value.clone());
        let fingerprints = facts
            .facts
            .iter()
            .filter_map(|(k, f)| {
                let fp = f.value.as_ref()?.get("fingerprint")?.as_str()?;
                Some((k.clone(), fp.to_string()))
            })
            .collect();
        let inv = Inventory {
            version: value("cs.version").and_then(|v| v.as_str().map(str::to_string)),
            mshost: match value("cs.mshost") {
                Some(Value::Array(rows)) => rows.into_iter().take(1000).collect(),
                _ => Vec::new(),
            },
            fingerprints,
            clock_synchronized: value("clock.synchronized").and_then(|v| v.as_bool()),
        };
        (inv != Inventory::default()).then_some(inv)
    }
}
