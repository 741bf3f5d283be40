//! Reachability of an endpoint (`reachable`, the source status) and the plain-HTTP facts.

use super::super::assess::Assessment;
use super::super::targets::Target;
use super::Out;
use crate::facts::{Fact, MissingReason, SourceStatus};
use serde_json::Value;

/// Records whether the endpoint answered. Returns `true` when the endpoint is reachable,
/// so that the rest of its facts can be recorded.
pub(in super::super) fn record(t: &Target, a: &Assessment, o: &mut Out) -> bool {
    let status = match &a.reachable {
        Ok(true) => SourceStatus::ok("tls", a.endpoint.clone()),
        Ok(false) => SourceStatus::failed(
            "tls",
            a.endpoint.clone(),
            MissingReason::Absent,
            format!("nothing listens ({})", t.origin),
        ),
        Err(m) => SourceStatus::failed("tls", a.endpoint.clone(), m.reason, m.detail.clone()),
    };
    o.facts.source(&format!("tls:{}", t.label), status);
    o.set("endpoint", a.endpoint.clone());
    o.facts.namespace_complete(&o.prefix, &o.src);
    match &a.reachable {
        Ok(true) => {
            o.set("reachable", true);
            true
        }
        Ok(false) => {
            o.set("reachable", false);
            // Nothing listens: the endpoint speaks neither TLS nor HTTP.
            o.set(if t.plain { "answers_http" } else { "tls" }, false);
            if !t.plain {
                o.set("protocols", Value::Array(vec![]));
            }
            false
        }
        Err(m) => {
            // Every fact of the endpoint is unknown, for the same reason.
            let f = Fact::from_missing(&o.src, m.clone());
            o.facts.namespaces.insert(o.prefix.clone(), f);
            false
        }
    }
}

/// The bounded `GET /` on a plain-HTTP endpoint.
pub(in super::super) fn record_http(a: &Assessment, o: &mut Out) {
    match &a.http {
        Some(Ok(h)) => {
            o.set("answers_http", h.status.is_some());
            if let Some(st) = h.status {
                o.set("status", st);
            }
            if let Some(l) = &h.location {
                o.set("location", l.clone());
            }
            let redirect = h.status.is_some_and(|c| (300..400).contains(&c))
                && h.location
                    .as_deref()
                    .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
            o.set("redirects_to_https", redirect);
        }
        Some(Err(m)) => {
            for k in ["answers_http", "redirects_to_https"] {
                o.missing(k, m.clone());
            }
        }
        None => {}
    }
}
