//! Fact recording: one endpoint's assessment becomes `tls.<label>.*` facts
//! ([`reachability`], [`protocols`], [`weak`], [`chain`]); [`summary`] aggregates the
//! per-endpoint facts of every probed TLS endpoint into `tls.summary.*`, reading them back
//! from the facts so that endpoints probed in another step count as well.
//!
//! Every fact says whether it was observed: a value, or a [`Missing`] with the reason.

pub(super) mod chain;
pub(super) mod names;
pub(super) mod protocols;
pub(super) mod reachability;
pub(super) mod summary;
pub(super) mod weak;

use super::assess::{Assessment, Obs};
use super::targets::Target;
use crate::facts::{Fact, Facts, Missing};
use serde_json::Value;
use std::borrow::Cow;

/// Where one endpoint's facts go: the `tls.<label>.` prefix and the source.
pub(super) struct Out<'f> {
    pub prefix: String,
    pub src: String,
    pub facts: &'f mut Facts,
}

impl Out<'_> {
    pub fn set(&mut self, key: &str, v: impl Into<Value>) {
        self.facts
            .set(format!("{}{key}", self.prefix), &self.src, v);
    }
    pub fn missing(&mut self, key: &str, m: Missing) {
        let f = Fact::from_missing(&self.src, m);
        self.facts.insert(format!("{}{key}", self.prefix), f);
    }
    pub fn obs<T: Into<Value>>(&mut self, key: &str, o: Obs<T>) {
        match o {
            Ok(v) => self.set(key, v),
            Err(m) => self.missing(key, m),
        }
    }
}

/// Facts seen through layers: the first layer that has something for a key answers
/// (this step's own facts first, then what earlier steps collected).
pub(super) struct Layers<'a>(pub Vec<&'a Facts>);

impl<'a> Layers<'a> {
    pub fn get(&self, key: &str) -> Option<Cow<'a, Fact>> {
        self.0.iter().find_map(|f| f.get(key))
    }
    /// The value of `key`, or why there is none.
    pub fn value(&self, key: &str) -> Obs<Value> {
        match self.get(key) {
            Some(f) => match (&f.value, &f.missing) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(m)) => Err(m.clone()),
                (None, None) => Err(Missing::error(format!("{key} has no value"))),
            },
            None => Err(Missing::not_collected(format!("{key} was not collected"))),
        }
    }
    /// The host name recorded with the facts (`--host`, else the tree's `/etc/hostname`).
    pub fn host(&self) -> Option<String> {
        self.0
            .iter()
            .find_map(|f| f.host.clone())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
    }
    /// A trimmed, non-empty string or number fact.
    pub fn text(&self, key: &str) -> Option<String> {
        let s = match self.value(key).ok()? {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!s.is_empty()).then_some(s)
    }
}

/// Records one endpoint: `tls.<label>.*` and the source `tls:<label>`. The leaf is
/// checked against the root CA `root` when given.
pub(super) fn record(t: &Target, a: &Assessment, now: i64, root: Option<&[u8]>, facts: &mut Facts) {
    let mut o = Out {
        prefix: format!("tls.{}.", t.label),
        src: format!("tls:{}", a.endpoint),
        facts,
    };
    if !reachability::record(t, a, &mut o) {
        return;
    }
    if t.plain {
        reachability::record_http(a, &mut o);
        return;
    }
    let tls = protocols::record(a, &mut o);
    weak::record(a, &mut o);
    chain::record(a, &tls, now, root, &mut o);
}

/// Records `tls.<label>.names` for the TLS endpoints `labels` whose leaf is in `look`: the
/// names their clients use (`explicit`: the `--endpoint`s, whose host is one of them)
/// against what the certificate carries.
pub(super) fn names_of(labels: &[String], explicit: &[Target], look: &Layers, facts: &mut Facts) {
    let own: Vec<String> = look.host().into_iter().collect();
    for l in labels {
        let Some(leaf) = look.get(&format!("tls.{l}.leaf")) else {
            continue;
        };
        let Some(v) = &leaf.value else { continue };
        let given = explicit
            .iter()
            .find(|t| &t.label == l)
            .map(|t| t.host.as_str());
        let groups = names::expected(l, given, &own, look);
        let mut o = Out {
            prefix: format!("tls.{l}."),
            src: leaf.source.clone(),
            facts,
        };
        names::record(v, groups, &mut o);
    }
}
