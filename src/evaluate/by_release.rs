//! Settings by release: a setting the installed release does not have is not
//! applicable (or unknown when the release is); a missing or NULL setting takes the
//! installed release's default. The data is the catalog's `[[setting]]` entries
//! (`catalog::history`), attached to the leaves that read a setting.

use super::{Evaluator, Tri};
use crate::catalog::history::{installed_release, SettingHistory};
use crate::catalog::Leaf;
use crate::facts::Missing;
use crate::outcome::Observation;
use crate::vuln::version::Version;
use serde_json::Value;

/// A setting the installed release lacks: decided, or read under its former name (the
/// fact key, and why).
pub(super) enum NotInRelease<'a> {
    Decided(Tri),
    Former(&'a str, String),
}

/// The installed release, or why it is unknown.
pub(super) enum Release {
    Known(Version, String),
    Unknown(String),
}

impl<'a> Evaluator<'a> {
    fn release(&mut self) -> &Release {
        let facts = self.facts;
        self.release
            .get_or_insert_with(|| match installed_release(facts) {
                Ok((v, src)) => Release::Known(v, src),
                Err(why) => Release::Unknown(why),
            })
    }

    /// Whether the deployment has a row for the setting (then it has the setting,
    /// whatever the release table says).
    fn has_row(&self, name: &str) -> bool {
        let key = format!("cs.setting_info.{name}");
        self.facts.get(&key).is_some_and(|f| f.value.is_some())
    }

    /// For a leaf on a setting that has no row: not applicable when the installed release
    /// does not have the setting, unknown when the release is unknown; `None` otherwise.
    /// A renamed setting (`renamed_from`) is read under its former name instead, on a
    /// release before the rename or, release unknown, when the former name has a row.
    pub(super) fn setting_not_in_release(&mut self, l: &'a Leaf) -> Option<NotInRelease<'a>> {
        let h: &SettingHistory = l.history.as_deref()?;
        if h.spec.since.is_empty() || self.has_row(h.name()) {
            return None;
        }
        let since = h.since_text();
        let name = h.name().to_string();
        let former = l.former_fact.as_deref();
        let old = h.spec.renamed_from.clone().unwrap_or_default();
        let old_has_row = former.is_some() && self.has_row(&old);
        let t = match (self.release(), former) {
            (Release::Known(r, _), _) if h.present_in(r) => None,
            (Release::Known(r, src), Some(k)) => Some(NotInRelease::Former(
                k,
                format!("{name} is called {old} before {since}; installed {r} ({src})"),
            )),
            (Release::Known(r, src), None) => Some(NotInRelease::Decided(Tri::NotApplicable(
                format!("setting {name} was added in {since}; installed {r} ({src})"),
            ))),
            (Release::Unknown(_), Some(k)) if old_has_row => Some(NotInRelease::Former(
                k,
                format!("{name} has no row and {old}, its name before {since}, has one"),
            )),
            (Release::Unknown(why), _) => Some(NotInRelease::Decided(Tri::Unknown(format!(
                "setting {name} was added in {since} and has no row; the installed release is unknown ({why})"
            )))),
        };
        if matches!(t, Some(NotInRelease::Decided(Tri::Unknown(_)))) {
            self.observe_release();
        }
        t
    }

    /// A leaf on the installed release itself (op `release_at_least`): the test gets the
    /// release `installed_release` works out, the evidence names the fact it came from;
    /// unknown when the release is.
    pub(super) fn release_leaf(&mut self, l: &'a Leaf) -> Tri {
        let facts = self.facts;
        let (r, src) = match self.release() {
            Release::Known(r, src) => (r.clone(), src.clone()),
            Release::Unknown(why) => {
                let t = Tri::Unknown(format!("the installed release is unknown ({why})"));
                self.observe_release();
                return t;
            }
        };
        let field = (src != "cs.version").then(|| "version".to_string());
        let value = Value::from(r.to_string());
        self.push(Observation {
            fact: src.clone(),
            field,
            value: Some(value.clone()),
            missing: None,
            default_applied: false,
            named: None,
            source: facts
                .get(&src)
                .map(|f| f.source.clone())
                .unwrap_or_default(),
        });
        self.apply(l, &l.fact, &value)
    }

    /// Records how `cs.version` was seen, as evidence of an unknown release.
    fn observe_release(&mut self) {
        let key = "cs.version";
        let fact = self.facts.get(key);
        self.push(Observation {
            fact: key.into(),
            field: None,
            value: fact.as_ref().and_then(|f| f.value.clone()),
            missing: match &fact {
                Some(f) => f.missing.clone(),
                None => Some(Missing::not_collected("no collector produced this fact")),
            },
            default_applied: false,
            named: None,
            source: fact.map(|f| f.source.clone()).unwrap_or_default(),
        });
    }

    /// The default a missing setting takes: the installed release's when the history
    /// records defaults by release, else the check's `d`. With a note saying which.
    pub(super) fn release_default(
        &mut self,
        l: &Leaf,
        d: &Value,
    ) -> Result<(Value, Option<String>), Tri> {
        let Some(h) = l.history.as_deref().filter(|h| h.has_defaults()) else {
            return Ok((d.clone(), None));
        };
        let name = h.name().to_string();
        let d_text = d.as_str().map_or_else(|| d.to_string(), str::to_string);
        match self.release() {
            Release::Known(r, src) => match h.default_in(r) {
                Ok((from, v)) => Ok((
                    Value::from(v),
                    Some(format!(
                        "the default of {name} in {r} ({src}): {v:?}, as from {from}"
                    )),
                )),
                Err(e) => Err(Tri::Unknown(format!("{e}; installed {r} ({src})"))),
            },
            Release::Unknown(_) if h.default_never_changed_from(&d_text) => Ok((d.clone(), None)),
            Release::Unknown(why) => {
                let t = Tri::Unknown(format!(
                    "the default of {name} changed between releases and the installed release is unknown ({why})"
                ));
                self.observe_release();
                Err(t)
            }
        }
    }
}
