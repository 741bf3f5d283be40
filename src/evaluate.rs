//! Evaluation: compiled checks + profile + facts -> outcomes. Pure: no I/O, no clock (the
//! reference time for date conditions is passed in).
//!
//! Truth is four-valued while a condition is evaluated: true, false, not applicable and
//! unknown (with a reason), plus error for data of the wrong type. A fact that could not
//! be collected is always unknown; only a fact known to be *absent* is interpreted by
//! the leaf's `if_absent`.

use crate::catalog::{Absent, Check, Env, Expr, Leaf, Profile};
use crate::facts::{Facts, Missing, MissingReason};
use by_release::{NotInRelease, Release};
use serde_json::Value;

pub use crate::catalog::value::{get_path, java_bool, toml_to_json};
pub use crate::dates::parse_rfc3339;
pub use crate::outcome::{CheckResult, Evidence, Observation, Outcome};

mod by_release;

/// Inputs that are not facts: the reference time (unix seconds) for date conditions.
#[derive(Debug, Clone, Copy)]
pub struct EvalContext {
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq)]
enum Tri {
    True,
    False,
    NotApplicable(String),
    Unknown(String),
    Error(String),
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

/// Evaluates every check the profile selects, in the order given (catalog id order).
pub fn evaluate<'a>(
    checks: impl IntoIterator<Item = &'a Check>,
    profile: &Profile,
    facts: &Facts,
    ctx: &EvalContext,
) -> Vec<CheckResult> {
    checks
        .into_iter()
        .filter(|c| profile.selects(c))
        .map(|c| evaluate_check(c, profile, facts, ctx))
        .collect()
}

pub fn evaluate_check(
    check: &Check,
    profile: &Profile,
    facts: &Facts,
    ctx: &EvalContext,
) -> CheckResult {
    let mut ev = Evaluator {
        env: Env {
            key: "",
            now: ctx.now,
            params: check.params_under(profile),
        },
        facts,
        observed: Vec::new(),
        release: None,
    };
    let (outcome, reason) = ev.run(check);
    CheckResult {
        id: check.id.clone(),
        title: check.title.clone(),
        duty: check.duty.clone(),
        severity: profile.severity_of(check),
        outcome,
        reason,
        evidence: crate::outcome::Evidence {
            expected: check.expected(profile),
            observed: ev.observed,
        },
        rationale: check.rationale.clone(),
        remediation: check.remediation.clone(),
        references: check.references.clone(),
        tags: check.tags.clone(),
        controls: check.controls.clone(),
        waiver: None,
        skipped: None,
    }
}

struct Evaluator<'a> {
    env: Env<'a>,
    facts: &'a Facts,
    observed: Vec<Observation>,
    /// The installed release, worked out on first use (`catalog::history::installed_release`).
    release: Option<Release>,
}

impl<'a> Evaluator<'a> {
    fn run(&mut self, c: &'a Check) -> (Outcome, Option<String>) {
        if let Some(w) = &c.when {
            match self.eval(w) {
                Tri::True => {}
                Tri::False => {
                    let cond = w.describe(&self.env.params);
                    return (
                        Outcome::NotApplicable,
                        Some(format!(
                            "the check's applicability condition does not hold ({cond})"
                        )),
                    );
                }
                Tri::NotApplicable(r) => return (Outcome::NotApplicable, Some(r)),
                Tri::Unknown(r) => {
                    return (
                        Outcome::Unknown,
                        Some(format!("cannot tell whether the check applies: {r}")),
                    )
                }
                Tri::Error(r) => return (Outcome::Error, Some(r)),
            }
        }
        match self.eval(&c.condition) {
            Tri::True => (Outcome::Pass, None),
            Tri::False => (Outcome::Fail, None),
            Tri::NotApplicable(r) => (Outcome::NotApplicable, Some(r)),
            Tri::Unknown(r) => (Outcome::Unknown, Some(r)),
            Tri::Error(r) => (Outcome::Error, Some(r)),
        }
    }

    /// Every child is evaluated (each records its evidence) before the results combine.
    fn eval(&mut self, e: &'a Expr) -> Tri {
        match e {
            Expr::Leaf(l) => self.leaf(l),
            Expr::Not(kid) => match self.eval(kid) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                other => other,
            },
            Expr::All(kids) => self.combine(kids, Tri::False, Tri::True),
            Expr::Any(kids) => self.combine(kids, Tri::True, Tri::False),
        }
    }

    /// `decisive` (false for all, true for any) wins; then the first error, unknown or
    /// not-applicable; else `otherwise`.
    fn combine(&mut self, kids: &'a [Expr], decisive: Tri, otherwise: Tri) -> Tri {
        let (mut decided, mut err, mut unk, mut na) = (false, None, None, None);
        for k in kids {
            match self.eval(k) {
                t if t == decisive => decided = true,
                Tri::Error(r) => {
                    err.get_or_insert(Tri::Error(r));
                }
                Tri::Unknown(r) => {
                    unk.get_or_insert(Tri::Unknown(r));
                }
                Tri::NotApplicable(r) => {
                    na.get_or_insert(Tri::NotApplicable(r));
                }
                _ => {}
            }
        }
        if decided {
            return decisive;
        }
        err.or(unk).or(na).unwrap_or(otherwise)
    }

    fn leaf(&mut self, l: &'a Leaf) -> Tri {
        if l.test.reads_release() {
            return self.release_leaf(l);
        }
        self.read(l, &l.fact, true)
    }

    /// A leaf's test on fact `key` (the leaf's own, or its setting's former name; only
    /// the former with `by_release` false).
    fn read(&mut self, l: &'a Leaf, key: &'a str, by_release: bool) -> Tri {
        let field = l.field.as_deref();
        let mut obs = Observation {
            fact: key.to_string(),
            field: l.field.clone(),
            value: None,
            missing: None,
            default_applied: false,
            source: String::new(),
            named: None,
        };
        let Some(fact) = self.facts.get(key) else {
            obs.missing = Some(Missing {
                reason: MissingReason::NotCollected,
                detail: "no collector produced this fact".into(),
            });
            self.push(obs);
            return Tri::Unknown(format!("{key}: not collected"));
        };
        obs.source = fact.source.clone();
        // Navigate to the field; a missing field in a present object counts as absent.
        let value: Option<&Value> = match (&fact.value, field) {
            (Some(v), Some(f)) => get_path(v, f),
            (Some(v), None) => Some(v),
            (None, _) => None,
        };
        let missing = match (&fact.missing, value) {
            (Some(m), _) => m.clone(),
            // A NULL setting is not a value: CloudStack applies the release's default.
            (None, Some(Value::Null)) if key.starts_with("cs.setting.") => Missing {
                reason: MissingReason::Absent,
                detail: "the value is NULL: the release's default applies".into(),
            },
            (None, None) => Missing {
                reason: MissingReason::Absent,
                detail: format!("field {} is not in the fact", field.unwrap_or("")),
            },
            (None, Some(v)) => {
                obs.value = Some(v.clone());
                if let (Some(whole), Some(f)) = (&fact.value, field) {
                    obs.named = crate::outcome::Named::from_fact(whole, f);
                }
                self.push(obs);
                return self.apply(l, key, v);
            }
        };
        let what = match field {
            Some(f) => format!("{key} ({f})"),
            None => key.to_string(),
        };
        let known_absent = missing.reason.is_known_absent();
        let reason = missing.reason;
        let detail = if known_absent || missing.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", missing.detail)
        };
        obs.missing = Some(missing);
        if !known_absent {
            self.push(obs);
            return Tri::Unknown(format!("{what}: {}{detail}", reason.as_str()));
        }
        match by_release.then(|| self.setting_not_in_release(l)).flatten() {
            Some(NotInRelease::Decided(t)) => {
                self.push(obs);
                return t;
            }
            Some(NotInRelease::Former(old, why)) => {
                if let Some(m) = obs.missing.as_mut() {
                    m.detail = why;
                }
                self.push(obs);
                return self.read(l, old, false);
            }
            None => {}
        }
        if let Some(b) = l.test.when_absent().filter(|_| !l.if_absent_own) {
            self.push(obs);
            return tri(b);
        }
        let outcome = match &l.if_absent {
            Absent::Pass => Tri::True,
            Absent::Fail => Tri::False,
            Absent::NotApplicable => Tri::NotApplicable(format!("{what} is absent")),
            Absent::Unknown => Tri::Unknown(format!("{what} is absent")),
            Absent::Default(d) => return self.with_default(l, key, d, obs),
        };
        self.push(obs);
        outcome
    }

    /// An absent fact read as its default: the installed release's when the setting's
    /// history records one (the observation says which), else the check's `d`.
    fn with_default(&mut self, l: &'a Leaf, key: &'a str, d: &Value, mut obs: Observation) -> Tri {
        let d = match self.release_default(l, d) {
            Ok((d, note)) => {
                if let (Some(n), Some(m)) = (note, obs.missing.as_mut()) {
                    m.detail = if m.detail.is_empty() {
                        n
                    } else {
                        format!("{}; {n}", m.detail)
                    };
                }
                d
            }
            Err(t) => {
                self.push(obs);
                return t;
            }
        };
        obs.value = Some(d.clone());
        obs.default_applied = true;
        self.push(obs);
        self.apply(l, key, &d)
    }

    fn apply(&mut self, l: &'a Leaf, key: &'a str, v: &Value) -> Tri {
        self.env.key = key;
        let r = l.test.eval(v, &self.env);
        self.env.key = "";
        match r {
            Ok(b) => tri(b),
            Err(e) => Tri::Error(e),
        }
    }

    fn push(&mut self, obs: Observation) {
        if !self
            .observed
            .iter()
            .any(|o| o.fact == obs.fact && o.field == obs.field)
        {
            self.observed.push(obs);
        }
    }
}
