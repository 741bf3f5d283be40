//! The tests a leaf condition applies to a value, one type per op: how its operands are
//! parsed from the catalog, how it is evaluated and how it is described to a person,
//! side by side.

use super::history::ReleaseSet;
use super::spec::{ConditionSpec, Op, ParamValue};
use super::value::{
    as_f64, as_list, as_string, cidr_v4_prefix, java_bool, loose_eq, mode_of, parse_mode, short,
    str_eq, timestamp_of, toml_to_json,
};
use super::Profile;
use crate::vuln::version::Version;
use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The check parameters in force: the profile's overrides over the check's own values.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    pub profile: &'a Profile,
    pub check_id: &'a str,
    pub defaults: &'a BTreeMap<String, toml::Value>,
}

impl<'a> Params<'a> {
    /// A parameter the check declares, with the profile's value if it overrides it.
    pub fn get(&self, name: &str) -> Option<&'a toml::Value> {
        let own = self.defaults.get(name)?;
        let over = self
            .profile
            .params
            .get(self.check_id)
            .and_then(|m| m.get(name));
        Some(over.unwrap_or(own))
    }
}

/// What a test sees besides the value: the fact's key (for messages), the reference
/// time and the parameters.
pub struct Env<'a> {
    pub key: &'a str,
    pub now: i64,
    pub params: Params<'a>,
}

/// A leaf test. `eval` answers for an observed value (`Err` = the value has the wrong
/// type); `describe` says what is expected of `subject`.
pub trait Test: fmt::Debug + Send + Sync {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String>;
    fn describe(&self, subject: &str, params: &Params) -> String;
    /// The answer for a fact known to be absent, for tests about presence itself
    /// (`None`: the leaf's `if_absent` decides).
    fn when_absent(&self) -> Option<bool> {
        None
    }
    /// Whether the test is about the installed release (the evaluator hands it the
    /// release it works out, not the leaf's fact as stored).
    fn reads_release(&self) -> bool {
        false
    }
}

/// A literal operand, or a check parameter that a profile may override.
#[derive(Debug, Clone)]
enum Operand<T> {
    Literal { value: T, shown: String },
    Param(String),
}

impl<T: Clone> Operand<T> {
    fn get<'s>(&'s self, p: &Params, conv: fn(&toml::Value) -> Option<T>) -> Option<Cow<'s, T>> {
        match self {
            Operand::Literal { value, .. } => Some(Cow::Borrowed(value)),
            Operand::Param(name) => p.get(name).and_then(conv).map(Cow::Owned),
        }
    }

    fn shown(&self, p: &Params) -> String {
        match self {
            Operand::Literal { shown, .. } => shown.clone(),
            Operand::Param(name) => p
                .get(name)
                .map(|v| toml_to_json(v).to_string())
                .unwrap_or_else(|| format!("<{name}>")),
        }
    }
}

fn conv_number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

fn conv_json(v: &toml::Value) -> Option<Value> {
    Some(toml_to_json(v))
}

fn conv_text(v: &toml::Value) -> Option<String> {
    as_string(&toml_to_json(v))
}

fn conv_list(v: &toml::Value) -> Option<Vec<String>> {
    match v {
        toml::Value::Array(_) => as_list(&toml_to_json(v)),
        _ => None,
    }
}

fn tri_error(key: &str, what: &str, v: &Value) -> String {
    format!("{key}: {} is not {what}", short(v))
}

/// The operands of one leaf spec, handed out to the op that uses them; whatever the op
/// did not take is an error (an operand the op ignores is a mistake in the catalog).
pub(super) struct Args<'s> {
    spec: &'s ConditionSpec,
    path: &'s str,
    params: &'s BTreeMap<String, toml::Value>,
    used: Cell<[bool; 5]>,
}

const VALUE: usize = 0;
const VALUES: usize = 1;
const REGEX: usize = 2;
const MODE: usize = 3;
const IGNORE_CASE: usize = 4;

impl<'s> Args<'s> {
    pub(super) fn new(
        spec: &'s ConditionSpec,
        path: &'s str,
        params: &'s BTreeMap<String, toml::Value>,
    ) -> Args<'s> {
        Args {
            spec,
            path,
            params,
            used: Cell::new([false; 5]),
        }
    }

    fn mark(&self, i: usize) {
        let mut u = self.used.get();
        u[i] = true;
        self.used.set(u);
    }

    fn missing(&self, field: &str) -> String {
        format!(
            "field `{}.{field}`: required by op {}",
            self.path,
            self.spec.op.name()
        )
    }

    fn ignore_case(&self) -> bool {
        self.mark(IGNORE_CASE);
        self.spec.ignore_case
    }

    fn operand<T>(
        &self,
        what: &str,
        conv: fn(&toml::Value) -> Option<T>,
    ) -> Result<Operand<T>, String> {
        self.mark(VALUE);
        let path = self.path;
        match self.spec.value.as_ref().ok_or_else(|| self.missing("value"))? {
            ParamValue::Literal(lit) => match conv(lit) {
                Some(value) => Ok(Operand::Literal {
                    value,
                    shown: toml_to_json(lit).to_string(),
                }),
                None => Err(format!(
                    "field `{path}.value`: op {} needs {what}",
                    self.spec.op.name()
                )),
            },
            ParamValue::Param { param } => match self.params.get(param) {
                None => Err(format!(
                    "field `{path}.value`: unknown param {param:?} (declare it in the check's `params`)"
                )),
                Some(d) if conv(d).is_none() => Err(format!(
                    "field `params.{param}`: op {} needs {what}",
                    self.spec.op.name()
                )),
                Some(_) => Ok(Operand::Param(param.clone())),
            },
        }
    }

    fn values(&self) -> Result<&'s [toml::Value], String> {
        self.mark(VALUES);
        match self.spec.values.as_deref() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.missing("values")),
        }
    }

    fn shown_values(values: &[toml::Value]) -> String {
        let v: Vec<String> = values.iter().map(|x| toml_to_json(x).to_string()).collect();
        format!("[{}]", v.join(", "))
    }

    /// Fails on an operand the op did not take.
    pub(super) fn finish(self) -> Result<(), String> {
        let u = self.used.get();
        let s = self.spec;
        for (i, name, present) in [
            (VALUE, "value", s.value.is_some()),
            (VALUES, "values", s.values.is_some()),
            (REGEX, "regex", s.regex.is_some()),
            (MODE, "mode", s.mode.is_some()),
            (IGNORE_CASE, "ignore_case", s.ignore_case),
        ] {
            if present && !u[i] {
                return Err(format!(
                    "field `{}.{name}`: op {} does not take it",
                    self.path,
                    s.op.name()
                ));
            }
        }
        Ok(())
    }
}

/// Builds the test of a leaf op from its operands.
pub(super) fn compile(args: &Args) -> Result<Arc<dyn Test>, String> {
    use Op::*;
    let op = args.spec.op;
    Ok(match op {
        Equals | NotEquals => Arc::new(Equals_::new(args, op == NotEquals)?),
        OneOf | NotOneOf => Arc::new(OneOf_::new(args, op == NotOneOf)?),
        IsTrue | IsFalse => Arc::new(IsBool(op == IsTrue)),
        Gt | Ge | Lt | Le => Arc::new(Compare::new(args, op)?),
        Matches | NotMatches => Arc::new(Matches_::new(args, op == NotMatches)?),
        Contains | NotContains => Arc::new(Contains_::new(args, op == NotContains)?),
        Empty | NotEmpty => Arc::new(Empty_(op == NotEmpty)),
        ModeAtMost => Arc::new(ModeAtMost_::new(args)?),
        OwnerIn | GroupIn => Arc::new(Ownership::new(args, op == GroupIn)?),
        Present | Absent => Arc::new(Presence(op == Present)),
        DaysUntilAtLeast => Arc::new(DaysUntil(args.operand("a number", conv_number)?)),
        CidrPrefixAtLeast => Arc::new(CidrPrefix(args.operand("a number", conv_number)?)),
        SubsetOf => Arc::new(SubsetOf_ {
            allowed: args.operand("a list", conv_list)?,
            ignore_case: args.ignore_case(),
        }),
        ReleaseAtLeast => Arc::new(ReleaseAtLeast_::new(args)?),
        All | Any | Not => {
            return Err(format!(
                "field `{}.op`: {} is not a leaf",
                args.path,
                op.name()
            ))
        }
    })
}

#[derive(Debug)]
struct Equals_ {
    want: Operand<Value>,
    negate: bool,
    ignore_case: bool,
}

impl Equals_ {
    fn new(a: &Args, negate: bool) -> Result<Self, String> {
        Ok(Equals_ {
            want: a.operand("a value", conv_json)?,
            negate,
            ignore_case: a.ignore_case(),
        })
    }
}

impl Test for Equals_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let want = self
            .want
            .get(&env.params, conv_json)
            .ok_or("missing operand")?;
        let eq = loose_eq(v, &want, self.ignore_case).map_err(|e| format!("{}: {e}", env.key))?;
        Ok(eq != self.negate)
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        let op = if self.negate { "!=" } else { "=" };
        format!("{subject} {op} {}", self.want.shown(p))
    }
}

#[derive(Debug)]
struct OneOf_ {
    values: Vec<Value>,
    shown: String,
    negate: bool,
    ignore_case: bool,
}

impl OneOf_ {
    fn new(a: &Args, negate: bool) -> Result<Self, String> {
        let values = a.values()?;
        Ok(OneOf_ {
            values: values.iter().map(toml_to_json).collect(),
            shown: Args::shown_values(values),
            negate,
            ignore_case: a.ignore_case(),
        })
    }
}

impl Test for OneOf_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let mut any = false;
        for w in &self.values {
            any |= loose_eq(v, w, self.ignore_case).map_err(|e| format!("{}: {e}", env.key))?;
        }
        Ok(any != self.negate)
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        let op = if self.negate { "not in" } else { "in" };
        format!("{subject} {op} {}", self.shown)
    }
}

/// `is_true` (true) or `is_false` (false), read as Java reads a boolean setting.
#[derive(Debug)]
struct IsBool(bool);

impl Test for IsBool {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        match java_bool(v) {
            Some(b) => Ok(b == self.0),
            None => Err(tri_error(env.key, "a boolean", v)),
        }
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        format!("{subject} is {}", self.0)
    }
}

#[derive(Debug)]
struct Compare {
    op: Op,
    threshold: Operand<f64>,
}

impl Compare {
    fn new(a: &Args, op: Op) -> Result<Self, String> {
        Ok(Compare {
            op,
            threshold: a.operand("a number", conv_number)?,
        })
    }
    fn symbol(&self) -> &'static str {
        match self.op {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            _ => "<=",
        }
    }
}

impl Test for Compare {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let want = *self
            .threshold
            .get(&env.params, conv_number)
            .ok_or("threshold is not a number")?;
        let have = as_f64(v).ok_or_else(|| tri_error(env.key, "a number", v))?;
        Ok(match self.op {
            Op::Gt => have > want,
            Op::Ge => have >= want,
            Op::Lt => have < want,
            _ => have <= want,
        })
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        format!("{subject} {} {}", self.symbol(), self.threshold.shown(p))
    }
}

#[derive(Debug)]
struct Matches_ {
    re: Regex,
    source: String,
    negate: bool,
}

impl Matches_ {
    fn new(a: &Args, negate: bool) -> Result<Self, String> {
        a.mark(REGEX);
        let source = a.spec.regex.clone().ok_or_else(|| a.missing("regex"))?;
        let pattern = if a.ignore_case() {
            format!("(?i){source}")
        } else {
            source.clone()
        };
        let re = Regex::new(&pattern)
            .map_err(|e| format!("field `{}.regex`: invalid regex: {e}", a.path))?;
        Ok(Matches_ { re, source, negate })
    }
}

impl Test for Matches_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let hit = match v {
            Value::String(s) => self.re.is_match(s),
            other => {
                let s = as_string(other).ok_or_else(|| tri_error(env.key, "text", v))?;
                self.re.is_match(&s)
            }
        };
        Ok(hit != self.negate)
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        let op = if self.negate {
            "does not match"
        } else {
            "matches"
        };
        format!("{subject} {op} /{}/", self.source)
    }
}

#[derive(Debug)]
struct Contains_ {
    want: Operand<String>,
    negate: bool,
    ignore_case: bool,
}

impl Contains_ {
    fn new(a: &Args, negate: bool) -> Result<Self, String> {
        Ok(Contains_ {
            want: a.operand("a text value", conv_text)?,
            negate,
            ignore_case: a.ignore_case(),
        })
    }
}

impl Test for Contains_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let want = self
            .want
            .get(&env.params, conv_text)
            .ok_or("missing operand")?;
        let items = as_list(v).ok_or_else(|| tri_error(env.key, "a list", v))?;
        let has = items.iter().any(|i| str_eq(i, &want, self.ignore_case));
        Ok(has != self.negate)
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        let op = if self.negate {
            "does not contain"
        } else {
            "contains"
        };
        format!("{subject} {op} {}", self.want.shown(p))
    }
}

/// `empty` (false) or `not_empty` (true).
#[derive(Debug)]
struct Empty_(bool);

impl Test for Empty_ {
    fn eval(&self, v: &Value, _: &Env) -> Result<bool, String> {
        let empty = match v {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        Ok(empty != self.0)
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        let op = if self.0 { "is not empty" } else { "is empty" };
        format!("{subject} {op}")
    }
}

#[derive(Debug)]
struct ModeAtMost_ {
    allowed: u32,
    shown: String,
}

impl ModeAtMost_ {
    fn new(a: &Args) -> Result<Self, String> {
        a.mark(MODE);
        let shown = a.spec.mode.clone().ok_or_else(|| a.missing("mode"))?;
        let allowed = parse_mode(&shown).ok_or_else(|| {
            format!(
                "field `{}.mode`: {shown:?} is not an octal mode like \"0640\"",
                a.path
            )
        })?;
        Ok(ModeAtMost_ { allowed, shown })
    }
}

impl Test for ModeAtMost_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let mode = match v {
            Value::Object(o) => o.get("mode").and_then(mode_of),
            other => mode_of(other),
        };
        match mode {
            Some(m) => Ok(m & 0o7777 & !self.allowed == 0),
            None => Err(format!("{}: no file mode in {}", env.key, short(v))),
        }
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        format!("{subject} mode no more permissive than {}", self.shown)
    }
}

/// `owner_in` / `group_in`: by name (a string) or numeric id (an integer).
#[derive(Debug)]
struct Ownership {
    group: bool,
    names: Vec<String>,
    ids: Vec<i64>,
    shown: String,
}

impl Ownership {
    fn new(a: &Args, group: bool) -> Result<Self, String> {
        let values = a.values()?;
        let (mut names, mut ids) = (Vec::new(), Vec::new());
        for v in values {
            match v {
                toml::Value::String(s) => names.push(s.clone()),
                toml::Value::Integer(i) => ids.push(*i),
                other => {
                    return Err(format!(
                        "field `{}.values`: {other} is neither a name nor a numeric id",
                        a.path
                    ))
                }
            }
        }
        Ok(Ownership {
            group,
            names,
            ids,
            shown: Args::shown_values(values),
        })
    }
}

impl Test for Ownership {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let (name_k, id_k) = if self.group {
            ("group", "gid")
        } else {
            ("owner", "uid")
        };
        let (name, id) = match v {
            Value::Object(o) => (
                o.get(name_k).and_then(Value::as_str),
                o.get(id_k).and_then(Value::as_u64),
            ),
            Value::String(s) => (Some(s.as_str()), None),
            Value::Number(n) => (None, n.as_u64()),
            _ => (None, None),
        };
        if name.is_none() && id.is_none() {
            return Err(format!("{}: no {name_k} in {}", env.key, short(v)));
        }
        let by_name = name.is_some_and(|n| self.names.iter().any(|x| x == n));
        let by_id = id
            .and_then(|x| i64::try_from(x).ok())
            .is_some_and(|x| self.ids.contains(&x));
        Ok(by_name || by_id)
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        let what = if self.group { "group" } else { "owner" };
        format!("{subject} {what} in {}", self.shown)
    }
}

/// `present` (true) or `absent` (false).
#[derive(Debug)]
struct Presence(bool);

impl Test for Presence {
    fn eval(&self, _: &Value, _: &Env) -> Result<bool, String> {
        Ok(self.0)
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        let op = if self.0 { "is present" } else { "is absent" };
        format!("{subject} {op}")
    }
    fn when_absent(&self) -> Option<bool> {
        Some(!self.0)
    }
}

/// A date (or an object's `not_after`) at least this many days after the reference time.
#[derive(Debug)]
struct DaysUntil(Operand<f64>);

impl Test for DaysUntil {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let want = *self
            .0
            .get(&env.params, conv_number)
            .ok_or("threshold is not a number")?;
        let t = match v {
            Value::Object(o) => o.get("not_after").and_then(timestamp_of),
            other => timestamp_of(other),
        };
        let t = t.ok_or_else(|| tri_error(env.key, "a date", v))?;
        let days = (t - env.now).div_euclid(86_400) as f64;
        Ok(days >= want)
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        format!("{subject} at least {} days away", self.0.shown(p))
    }
}

/// Every CIDR of a non-empty list at least this narrow (IPv6 prefixes minus 96).
#[derive(Debug)]
struct CidrPrefix(Operand<f64>);

impl Test for CidrPrefix {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let want = *self
            .0
            .get(&env.params, conv_number)
            .ok_or("threshold is not a number")?;
        let items = as_list(v).ok_or_else(|| tri_error(env.key, "a list", v))?;
        if items.is_empty() {
            return Ok(false);
        }
        for i in &items {
            match cidr_v4_prefix(i) {
                Some(p) if f64::from(p) >= want => {}
                Some(_) => return Ok(false),
                None => return Err(format!("{}: {i:?} is not a CIDR", env.key)),
            }
        }
        Ok(true)
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        let n = self.0.shown(p);
        format!("{subject} is a non-empty list of CIDRs each at least /{n} (IPv6: /{n}+96)")
    }
}

#[derive(Debug)]
struct SubsetOf_ {
    allowed: Operand<Vec<String>>,
    ignore_case: bool,
}

impl Test for SubsetOf_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let allowed = self
            .allowed
            .get(&env.params, conv_list)
            .ok_or("subset_of: the allowed set is not a list")?;
        let items = as_list(v).ok_or_else(|| tri_error(env.key, "a list", v))?;
        Ok(items
            .iter()
            .all(|i| allowed.iter().any(|a| str_eq(i, a, self.ignore_case))))
    }
    fn describe(&self, subject: &str, p: &Params) -> String {
        format!("every item of {subject} in {}", self.allowed.shown(p))
    }
}

/// The installed release is in a set of releases given one per line (`ReleaseSet`).
#[derive(Debug)]
struct ReleaseAtLeast_(ReleaseSet);

impl ReleaseAtLeast_ {
    fn new(a: &Args) -> Result<Self, String> {
        a.mark(VALUE);
        let what = format!("field `{}.value`", a.path);
        let list: Vec<String> = match a.spec.value.as_ref() {
            None => return Err(a.missing("value")),
            Some(ParamValue::Literal(toml::Value::String(one))) => vec![one.clone()],
            Some(ParamValue::Literal(lit @ toml::Value::Array(_))) => conv_list(lit)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| format!("{what}: a release or a non-empty list of releases"))?,
            Some(_) => {
                return Err(format!(
                    "{what}: op release_at_least needs a literal release or list of releases"
                ))
            }
        };
        Ok(ReleaseAtLeast_(ReleaseSet::parse(&list, &what)?))
    }
}

impl Test for ReleaseAtLeast_ {
    fn eval(&self, v: &Value, env: &Env) -> Result<bool, String> {
        let r = v
            .as_str()
            .and_then(Version::parse)
            .ok_or_else(|| tri_error(env.key, "a release", v))?;
        Ok(self.0.contains(&r))
    }
    fn describe(&self, subject: &str, _: &Params) -> String {
        format!(
            "{subject} (the installed release) at least {}",
            self.0.text()
        )
    }
    fn reads_release(&self) -> bool {
        true
    }
}
