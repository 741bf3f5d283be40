//! Evaluation: checks + profile + facts -> outcomes. Pure: no I/O, no clock (the
//! reference time for date conditions is passed in).
//!
//! Truth is four-valued while a condition is evaluated: true, false, not applicable and
//! unknown (with a reason), plus error for data of the wrong type. A fact that could not
//! be collected is always unknown; only a fact known to be *absent* is interpreted by
//! `if_absent`.

use crate::catalog::{Check, Condition, IfAbsent, Op, ParamValue, Profile, Severity};
use crate::facts::{Facts, Missing, MissingReason};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fail,
    Error,
    Unknown,
    Pass,
    NotApplicable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Error => "error",
        }
    }
}

/// One fact as the check saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub fact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    /// True when the fact was absent and the check's product default was evaluated instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default_applied: bool,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub expected: String,
    pub observed: Vec<Observation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub duty: String,
    pub severity: Severity,
    pub outcome: Outcome,
    /// Why the outcome is what it is, for anything but a plain pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub evidence: Evidence,
    pub rationale: String,
    pub remediation: String,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    /// An operator's waiver for this finding (see `waivers`); the outcome is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<crate::waivers::AppliedWaiver>,
}

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

/// Evaluates every check the profile selects, in catalog (id) order.
pub fn evaluate(
    checks: &[Check],
    profile: &Profile,
    facts: &Facts,
    ctx: &EvalContext,
) -> Vec<CheckResult> {
    checks
        .iter()
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
        check,
        profile,
        facts,
        ctx,
        observed: Vec::new(),
    };
    let (outcome, reason) = ev.run();
    let expected = match &check.when {
        Some(w) => format!(
            "{} (applies when {})",
            describe(
                &check.condition,
                check.fact.as_deref(),
                check.field.as_deref(),
                check,
                profile
            ),
            describe(
                w,
                check.fact.as_deref(),
                check.field.as_deref(),
                check,
                profile
            )
        ),
        None => describe(
            &check.condition,
            check.fact.as_deref(),
            check.field.as_deref(),
            check,
            profile,
        ),
    };
    CheckResult {
        id: check.id.clone(),
        title: check.title.clone(),
        duty: check.duty.clone(),
        severity: profile.severity_of(check),
        outcome,
        reason,
        evidence: Evidence {
            expected,
            observed: ev.observed,
        },
        rationale: check.rationale.clone(),
        remediation: check.remediation.clone(),
        references: check.references.clone(),
        tags: check.tags.clone(),
        waiver: None,
    }
}

struct Evaluator<'a> {
    check: &'a Check,
    profile: &'a Profile,
    facts: &'a Facts,
    ctx: &'a EvalContext,
    observed: Vec<Observation>,
}

impl<'a> Evaluator<'a> {
    fn run(&mut self) -> (Outcome, Option<String>) {
        let c = self.check;
        if let Some(w) = &c.when {
            match self.eval(w, c.fact.as_deref(), c.field.as_deref()) {
                Tri::True => {}
                Tri::False => {
                    let cond = describe(w, c.fact.as_deref(), c.field.as_deref(), c, self.profile);
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
        match self.eval(&c.condition, c.fact.as_deref(), c.field.as_deref()) {
            Tri::True => (Outcome::Pass, None),
            Tri::False => (Outcome::Fail, None),
            Tri::NotApplicable(r) => (Outcome::NotApplicable, Some(r)),
            Tri::Unknown(r) => (Outcome::Unknown, Some(r)),
            Tri::Error(r) => (Outcome::Error, Some(r)),
        }
    }

    fn eval(&mut self, cond: &Condition, dfact: Option<&str>, dfield: Option<&str>) -> Tri {
        match cond.op {
            Op::All | Op::Any | Op::Not => {
                // A composite naming a fact passes it (and its field) down to its leaves.
                let (f, fl) = match &cond.fact {
                    Some(f) => (Some(f.as_str()), cond.field.as_deref()),
                    None => (dfact, cond.field.as_deref().or(dfield)),
                };
                let results: Vec<Tri> = cond
                    .of
                    .iter()
                    .flatten()
                    .map(|c| self.eval(c, f, fl))
                    .collect();
                combine(cond.op, results)
            }
            _ => self.leaf(cond, dfact, dfield),
        }
    }

    fn leaf(&mut self, cond: &Condition, dfact: Option<&str>, dfield: Option<&str>) -> Tri {
        let (key, field) = match &cond.fact {
            Some(f) => (f.as_str(), cond.field.as_deref()),
            None => (dfact.unwrap_or_default(), cond.field.as_deref().or(dfield)),
        };
        let if_absent = cond.if_absent.unwrap_or(self.check.if_absent);
        let mut obs = Observation {
            fact: key.to_string(),
            field: field.map(str::to_string),
            value: None,
            missing: None,
            default_applied: false,
            source: String::new(),
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
        let missing: Option<Missing> = match (&fact.missing, value) {
            (Some(m), _) => Some(m.clone()),
            (None, None) => Some(Missing {
                reason: MissingReason::Absent,
                detail: format!("field {} is not in the fact", field.unwrap_or("")),
            }),
            (None, Some(_)) => None,
        };
        if let Some(m) = missing {
            obs.missing = Some(m.clone());
            let what = match field {
                Some(f) => format!("{key} ({f})"),
                None => key.to_string(),
            };
            if !m.reason.is_known_absent() {
                self.push(obs);
                let detail = if m.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", m.detail)
                };
                return Tri::Unknown(format!("{what}: {}{detail}", m.reason.as_str()));
            }
            match cond.op {
                Op::Present => {
                    self.push(obs);
                    return Tri::False;
                }
                Op::Absent => {
                    self.push(obs);
                    return Tri::True;
                }
                _ => {}
            }
            match if_absent {
                IfAbsent::Pass => {
                    self.push(obs);
                    return Tri::True;
                }
                IfAbsent::Fail => {
                    self.push(obs);
                    return Tri::False;
                }
                IfAbsent::NotApplicable => {
                    self.push(obs);
                    return Tri::NotApplicable(format!("{what} is absent"));
                }
                IfAbsent::Unknown => {
                    self.push(obs);
                    return Tri::Unknown(format!("{what} is absent"));
                }
                IfAbsent::Default => {
                    let Some(d) = self.check.default.as_ref() else {
                        self.push(obs);
                        return Tri::Error(
                            "if_absent = default but the check has no default".into(),
                        );
                    };
                    let dv = toml_to_json(d);
                    obs.value = Some(dv.clone());
                    obs.default_applied = true;
                    self.push(obs);
                    return self.apply(cond, &dv, key);
                }
            }
        }
        let v = value.cloned().unwrap_or(Value::Null);
        obs.value = Some(v.clone());
        self.push(obs);
        match cond.op {
            Op::Present => Tri::True,
            Op::Absent => Tri::False,
            _ => self.apply(cond, &v, key),
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

    fn operand(&self, cond: &Condition) -> Option<Value> {
        match cond.value.as_ref()? {
            ParamValue::Literal(l) => Some(toml_to_json(l)),
            ParamValue::Param { param } => self.profile.param(self.check, param).map(toml_to_json),
        }
    }

    fn apply(&self, cond: &Condition, v: &Value, key: &str) -> Tri {
        let ic = cond.ignore_case;
        let tri = |b: bool| if b { Tri::True } else { Tri::False };
        match cond.op {
            Op::Equals | Op::NotEquals => {
                let Some(want) = self.operand(cond) else {
                    return Tri::Error("missing operand".into());
                };
                match loose_eq(v, &want, ic) {
                    Ok(eq) => tri(eq == (cond.op == Op::Equals)),
                    Err(e) => Tri::Error(format!("{key}: {e}")),
                }
            }
            Op::OneOf | Op::NotOneOf => {
                let mut any = false;
                for w in cond.values.iter().flatten() {
                    match loose_eq(v, &toml_to_json(w), ic) {
                        Ok(true) => any = true,
                        Ok(false) => {}
                        Err(e) => return Tri::Error(format!("{key}: {e}")),
                    }
                }
                tri(any == (cond.op == Op::OneOf))
            }
            Op::IsTrue | Op::IsFalse => match java_bool(v) {
                Some(b) => tri(b == (cond.op == Op::IsTrue)),
                None => Tri::Error(format!("{key}: {} is not a boolean", short(v))),
            },
            Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                let Some(want) = self.operand(cond).as_ref().and_then(as_f64) else {
                    return Tri::Error("threshold is not a number".into());
                };
                let Some(have) = as_f64(v) else {
                    return Tri::Error(format!("{key}: {} is not a number", short(v)));
                };
                tri(match cond.op {
                    Op::Gt => have > want,
                    Op::Ge => have >= want,
                    Op::Lt => have < want,
                    _ => have <= want,
                })
            }
            Op::Matches | Op::NotMatches => {
                let pat = cond.regex.as_deref().unwrap_or_default();
                let pat = if ic {
                    format!("(?i){pat}")
                } else {
                    pat.to_string()
                };
                let re = match regex::Regex::new(&pat) {
                    Ok(r) => r,
                    Err(e) => return Tri::Error(format!("invalid regex: {e}")),
                };
                let Some(s) = as_string(v) else {
                    return Tri::Error(format!("{key}: {} is not text", short(v)));
                };
                tri(re.is_match(&s) == (cond.op == Op::Matches))
            }
            Op::Contains | Op::NotContains => {
                let Some(want) = self.operand(cond).as_ref().and_then(as_string) else {
                    return Tri::Error("missing operand".into());
                };
                let Some(items) = as_list(v) else {
                    return Tri::Error(format!("{key}: {} is not a list", short(v)));
                };
                let has = items.iter().any(|i| str_eq(i, &want, ic));
                tri(has == (cond.op == Op::Contains))
            }
            Op::Empty | Op::NotEmpty => {
                let empty = match v {
                    Value::Null => true,
                    Value::String(s) => s.trim().is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                tri(empty == (cond.op == Op::Empty))
            }
            Op::ModeAtMost => {
                let allowed = crate::catalog::parse_mode(cond.mode.as_deref().unwrap_or_default())
                    .unwrap_or(0);
                let mode = match v {
                    Value::Object(o) => o.get("mode").and_then(mode_of),
                    other => mode_of(other),
                };
                match mode {
                    Some(m) => tri(m & 0o7777 & !allowed == 0),
                    None => Tri::Error(format!("{key}: no file mode in {}", short(v))),
                }
            }
            Op::OwnerIn | Op::GroupIn => {
                let (name_k, id_k) = if cond.op == Op::OwnerIn {
                    ("owner", "uid")
                } else {
                    ("group", "gid")
                };
                let (name, id) = match v {
                    Value::Object(o) => (
                        o.get(name_k).and_then(Value::as_str).map(str::to_string),
                        o.get(id_k).and_then(Value::as_u64),
                    ),
                    Value::String(s) => (Some(s.clone()), None),
                    Value::Number(n) => (None, n.as_u64()),
                    _ => (None, None),
                };
                if name.is_none() && id.is_none() {
                    return Tri::Error(format!("{key}: no {name_k} in {}", short(v)));
                }
                let hit = cond.values.iter().flatten().any(|w| match w {
                    toml::Value::String(s) => name.as_deref() == Some(s.as_str()),
                    toml::Value::Integer(i) => {
                        id.is_some_and(|x| i64::try_from(x).ok() == Some(*i))
                    }
                    _ => false,
                });
                tri(hit)
            }
            Op::DaysUntilAtLeast => {
                let Some(want) = self.operand(cond).as_ref().and_then(as_f64) else {
                    return Tri::Error("threshold is not a number".into());
                };
                let t = match v {
                    Value::Object(o) => o.get("not_after").and_then(timestamp_of),
                    other => timestamp_of(other),
                };
                match t {
                    Some(t) => {
                        let days = (t - self.ctx.now).div_euclid(86_400) as f64;
                        tri(days >= want)
                    }
                    None => Tri::Error(format!("{key}: {} is not a date", short(v))),
                }
            }
            Op::CidrPrefixAtLeast => {
                let Some(want) = self.operand(cond).as_ref().and_then(as_f64) else {
                    return Tri::Error("threshold is not a number".into());
                };
                let Some(items) = as_list(v) else {
                    return Tri::Error(format!("{key}: {} is not a list", short(v)));
                };
                if items.is_empty() {
                    return Tri::False;
                }
                for i in &items {
                    match cidr_v4_prefix(i) {
                        Some(p) if f64::from(p) >= want => {}
                        Some(_) => return Tri::False,
                        None => return Tri::Error(format!("{key}: {i:?} is not a CIDR")),
                    }
                }
                Tri::True
            }
            Op::SubsetOf => {
                let Some(allowed) = self.operand(cond).as_ref().and_then(as_list) else {
                    return Tri::Error("subset_of: the allowed set is not a list".into());
                };
                let Some(items) = as_list(v) else {
                    return Tri::Error(format!("{key}: {} is not a list", short(v)));
                };
                tri(items
                    .iter()
                    .all(|i| allowed.iter().any(|a| str_eq(i, a, ic))))
            }
            Op::Present | Op::Absent | Op::All | Op::Any | Op::Not => {
                Tri::Error("internal: composite op in leaf".into())
            }
        }
    }
}

fn combine(op: Op, results: Vec<Tri>) -> Tri {
    let first = |pred: &dyn Fn(&Tri) -> bool| results.iter().find(|t| pred(t)).cloned();
    let is_err = |t: &Tri| matches!(t, Tri::Error(_));
    let is_unk = |t: &Tri| matches!(t, Tri::Unknown(_));
    let is_na = |t: &Tri| matches!(t, Tri::NotApplicable(_));
    match op {
        Op::Not => match results.into_iter().next() {
            Some(Tri::True) => Tri::False,
            Some(Tri::False) => Tri::True,
            Some(other) => other,
            None => Tri::Error("empty not".into()),
        },
        Op::All => {
            if results.contains(&Tri::False) {
                return Tri::False;
            }
            first(&is_err)
                .or_else(|| first(&is_unk))
                .or_else(|| first(&is_na))
                .unwrap_or(Tri::True)
        }
        _ => {
            if results.contains(&Tri::True) {
                return Tri::True;
            }
            first(&is_err)
                .or_else(|| first(&is_unk))
                .or_else(|| first(&is_na))
                .unwrap_or(Tri::False)
        }
    }
}

/// Follows a dotted path into a JSON value. A key containing dots can be reached
/// because every split is tried from the longest key first.
pub fn get_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    let mut idx = path.len();
    while let Some(pos) = path[..idx].rfind('.') {
        if let Some(x) = obj.get(&path[..pos]) {
            if let Some(r) = get_path(x, &path[pos + 1..]) {
                return Some(r);
            }
        }
        idx = pos;
    }
    None
}

pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Java's `Boolean.parseBoolean` for strings (only "true", any case, is true), so that
/// a value CloudStack would read as false is read as false here too.
pub fn java_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        Value::Null => Some(false),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        Value::Array(a) => Some(a.len() as f64),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// A JSON array, or a comma-separated string (CloudStack's CSV settings).
fn as_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => Some(a.iter().filter_map(as_string).collect()),
        Value::String(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// The prefix length of a CIDR (or a bare address), IPv6 mapped onto the IPv4 scale
/// (prefix - 96, at least 0) so one threshold covers both.
pub fn cidr_v4_prefix(s: &str) -> Option<u8> {
    let (addr, len) = match s.trim().split_once('/') {
        Some((a, l)) => (a.trim(), Some(l.trim().parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(_) => {
            let l = len.unwrap_or(32);
            (l <= 32).then_some(l)
        }
        std::net::IpAddr::V6(_) => {
            let l = len.unwrap_or(128);
            (l <= 128).then_some(l.saturating_sub(96))
        }
    }
}

fn str_eq(a: &str, b: &str, ic: bool) -> bool {
    if ic {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Equality between an observed value and a catalog literal, by the literal's type.
fn loose_eq(have: &Value, want: &Value, ic: bool) -> Result<bool, String> {
    match want {
        Value::Bool(b) => java_bool(have)
            .map(|h| h == *b)
            .ok_or_else(|| format!("{} is not a boolean", short(have))),
        Value::Number(_) => match (as_f64(have), as_f64(want)) {
            (Some(h), Some(w)) => Ok(h == w),
            _ => Ok(false),
        },
        Value::String(w) => Ok(as_string(have).is_some_and(|h| str_eq(&h, w, ic))),
        other => Ok(have == other),
    }
}

fn mode_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|m| u32::try_from(m).ok()),
        Value::String(s) => crate::catalog::parse_mode(s),
        _ => None,
    }
}

/// Unix seconds from a number or an RFC 3339 / `YYYY-MM-DD` string.
pub fn timestamp_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

/// Minimal RFC 3339 parser (UTC `Z` or `+HH:MM` offsets; a bare date is midnight UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if b.len() > 10 {
        if !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') || b.len() < 19 {
            return None;
        }
        secs += num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
        let mut rest = &s[19..];
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        match rest {
            "" | "Z" | "z" => {}
            off if off.len() == 6 && (off.starts_with('+') || off.starts_with('-')) => {
                let h: i64 = off.get(1..3)?.parse().ok()?;
                let m: i64 = off.get(4..6)?.parse().ok()?;
                let o = h * 3600 + m * 60;
                secs -= if off.starts_with('+') { o } else { -o };
            }
            _ => return None,
        }
    }
    Some(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s
    }
}

/// A person-readable rendering of what a condition expects.
pub fn describe(
    cond: &Condition,
    dfact: Option<&str>,
    dfield: Option<&str>,
    check: &Check,
    profile: &Profile,
) -> String {
    if matches!(cond.op, Op::All | Op::Any | Op::Not) {
        let (f, fl) = match &cond.fact {
            Some(f) => (Some(f.as_str()), cond.field.as_deref()),
            None => (dfact, cond.field.as_deref().or(dfield)),
        };
        let parts: Vec<String> = cond
            .of
            .iter()
            .flatten()
            .map(|c| describe(c, f, fl, check, profile))
            .collect();
        return match cond.op {
            Op::Not => format!("not ({})", parts.join("")),
            Op::All => format!("({})", parts.join(" and ")),
            _ => format!("({})", parts.join(" or ")),
        };
    }
    let (key, field) = match &cond.fact {
        Some(f) => (f.as_str(), cond.field.as_deref()),
        None => (dfact.unwrap_or_default(), cond.field.as_deref().or(dfield)),
    };
    let subject = match field {
        Some(f) => format!("{key}.{f}"),
        None => key.to_string(),
    };
    let operand = || match &cond.value {
        Some(ParamValue::Literal(l)) => toml_to_json(l).to_string(),
        Some(ParamValue::Param { param }) => profile
            .param(check, param)
            .map(|v| toml_to_json(v).to_string())
            .unwrap_or_else(|| format!("<{param}>")),
        None => String::new(),
    };
    let values = || {
        let v: Vec<String> = cond
            .values
            .iter()
            .flatten()
            .map(|x| toml_to_json(x).to_string())
            .collect();
        format!("[{}]", v.join(", "))
    };
    match cond.op {
        Op::Equals => format!("{subject} = {}", operand()),
        Op::NotEquals => format!("{subject} != {}", operand()),
        Op::OneOf => format!("{subject} in {}", values()),
        Op::NotOneOf => format!("{subject} not in {}", values()),
        Op::IsTrue => format!("{subject} is true"),
        Op::IsFalse => format!("{subject} is false"),
        Op::Gt => format!("{subject} > {}", operand()),
        Op::Ge => format!("{subject} >= {}", operand()),
        Op::Lt => format!("{subject} < {}", operand()),
        Op::Le => format!("{subject} <= {}", operand()),
        Op::Matches => format!(
            "{subject} matches /{}/",
            cond.regex.as_deref().unwrap_or("")
        ),
        Op::NotMatches => format!(
            "{subject} does not match /{}/",
            cond.regex.as_deref().unwrap_or("")
        ),
        Op::Contains => format!("{subject} contains {}", operand()),
        Op::NotContains => format!("{subject} does not contain {}", operand()),
        Op::Empty => format!("{subject} is empty"),
        Op::NotEmpty => format!("{subject} is not empty"),
        Op::ModeAtMost => format!(
            "{subject} mode no more permissive than {}",
            cond.mode.as_deref().unwrap_or("")
        ),
        Op::OwnerIn => format!("{subject} owner in {}", values()),
        Op::GroupIn => format!("{subject} group in {}", values()),
        Op::Present => format!("{subject} is present"),
        Op::Absent => format!("{subject} is absent"),
        Op::DaysUntilAtLeast => format!("{subject} at least {} days away", operand()),
        Op::CidrPrefixAtLeast => format!(
            "{subject} is a non-empty list of CIDRs each at least /{} (IPv6: /{}+96)",
            operand(),
            operand()
        ),
        Op::SubsetOf => format!("every item of {subject} in {}", operand()),
        Op::All | Op::Any | Op::Not => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod cidr_tests {
    use super::cidr_v4_prefix;

    #[test]
    fn cidr_prefixes() {
        assert_eq!(cidr_v4_prefix("10.0.0.0/8"), Some(8));
        assert_eq!(cidr_v4_prefix(" 192.0.2.7 "), Some(32));
        assert_eq!(cidr_v4_prefix("0.0.0.0/0"), Some(0));
        assert_eq!(cidr_v4_prefix("::/0"), Some(0));
        assert_eq!(cidr_v4_prefix("2001:db8::/120"), Some(24));
        assert_eq!(cidr_v4_prefix("10.0.0.0/33"), None);
        assert_eq!(cidr_v4_prefix("nope/8"), None);
    }
}
