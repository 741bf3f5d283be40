//! A check's conditions, compiled: typed expressions whose leaves know which fact and
//! field they read, what an absent fact means, and carry their parsed test.

use super::ops::{self, Params, Test};
use super::spec::{ConditionSpec, Op};
use super::value::toml_to_json;
use super::{line_of, CheckSpec, IfAbsent};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Expr {
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Leaf(Leaf),
}

/// What a leaf makes of a fact that is known to be absent.
#[derive(Debug, Clone, PartialEq)]
pub enum Absent {
    Fail,
    Pass,
    NotApplicable,
    Unknown,
    /// Evaluate the test against the check's product default (as JSON).
    Default(Value),
}

#[derive(Debug, Clone)]
pub struct Leaf {
    /// The fact key the leaf reads.
    pub fact: String,
    /// A dotted path inside the fact's value.
    pub field: Option<String>,
    /// `fact` or `fact.field`, as the description names it.
    pub subject: String,
    pub if_absent: Absent,
    /// The leaf names its own `if_absent`: for `present`/`absent`, which otherwise decide a
    /// known-absent fact themselves, that choice wins (`if_absent = "unknown"`: the fact
    /// must have been observed, e.g. a key an older collector did not write).
    pub if_absent_own: bool,
    pub test: Arc<dyn Test>,
    /// The catalog line that names the fact (the leaf's own `fact`, else the check's).
    pub line: usize,
    /// For a leaf on a setting (`cs.setting.<name>` and the like): the setting's release
    /// history, when the catalog has one (attached once every file is loaded).
    pub history: Option<Arc<super::history::SettingHistory>>,
    /// The leaf's `note`, appended to its description.
    pub note: Option<String>,
    /// The fact under the setting's former name (`renamed_from`), read on releases
    /// before the rename (attached with the history).
    pub former_fact: Option<String>,
}

/// The fact a leaf on the installed release names (`Test::reads_release`); the evaluator
/// reads it as the settings history does, with `vuln.cloudstack.version` as fallback.
pub const RELEASE_FACT: &str = "cs.version";

/// The fact (and field) a subtree reads unless it names its own, with the line naming it.
#[derive(Clone, Copy)]
struct Inherited<'a> {
    fact: Option<(&'a str, usize)>,
    field: Option<&'a str>,
}

/// Compiles one of a check's conditions (`path` is `condition` or `when`).
pub(super) fn compile(
    check: &CheckSpec,
    cond: &ConditionSpec,
    path: &str,
    text: &str,
) -> Result<Expr, String> {
    let fact = check
        .fact
        .as_ref()
        .map(|f| (f.get_ref().as_str(), line_of(text, f.span().start)));
    let from_check = Inherited {
        fact,
        field: check.field.as_deref(),
    };
    compile_node(check, cond, path, from_check, text)
}

fn compile_node(
    check: &CheckSpec,
    cond: &ConditionSpec,
    path: &str,
    outer: Inherited,
    text: &str,
) -> Result<Expr, String> {
    // A node naming a fact reads it with its own field only; otherwise it reads the
    // inherited fact with its own field, else the inherited field.
    let here = match &cond.fact {
        Some(f) => Inherited {
            fact: Some((f.get_ref().as_str(), line_of(text, f.span().start))),
            field: cond.field.as_deref(),
        },
        None => Inherited {
            fact: outer.fact,
            field: cond.field.as_deref().or(outer.field),
        },
    };
    match cond.op {
        Op::All | Op::Any | Op::Not => compile_composite(check, cond, path, here, text),
        _ => compile_leaf(check, cond, path, here),
    }
}

fn compile_composite(
    check: &CheckSpec,
    cond: &ConditionSpec,
    path: &str,
    here: Inherited,
    text: &str,
) -> Result<Expr, String> {
    if cond.if_absent.is_some() || cond.note.is_some() {
        let f = if cond.note.is_some() {
            "note"
        } else {
            "if_absent"
        };
        return Err(format!(
            "field `{path}.{f}`: set it on the leaves, op {} has no fact of its own",
            cond.op.name()
        ));
    }
    ops::Args::new(cond, path, &check.params)
        .finish()
        .map_err(|_| format!("field `{path}`: op {} takes only `of`", cond.op.name()))?;
    let of = match cond.of.as_deref() {
        Some(of) if !of.is_empty() => of,
        _ => {
            return Err(format!(
                "field `{path}.of`: required by op {}",
                cond.op.name()
            ))
        }
    };
    let mut kids = Vec::with_capacity(of.len());
    for (i, c) in of.iter().enumerate() {
        kids.push(compile_node(
            check,
            c,
            &format!("{path}.of[{i}]"),
            here,
            text,
        )?);
    }
    Ok(match cond.op {
        Op::All => Expr::All(kids),
        Op::Any => Expr::Any(kids),
        _ => match <[Expr; 1]>::try_from(kids) {
            Ok([one]) => Expr::Not(Box::new(one)),
            Err(_) => {
                return Err(format!(
                    "field `{path}.of`: op not takes exactly one condition"
                ))
            }
        },
    })
}

fn compile_leaf(
    check: &CheckSpec,
    cond: &ConditionSpec,
    path: &str,
    here: Inherited,
) -> Result<Expr, String> {
    if cond.of.is_some() {
        return Err(format!(
            "field `{path}.of`: only all/any/not take sub-conditions"
        ));
    }
    let Some((fact, line)) = here.fact else {
        return Err(format!(
            "field `{path}.fact`: no fact named here or on the check"
        ));
    };
    let args = ops::Args::new(cond, path, &check.params);
    let test = ops::compile(&args)?;
    args.finish()?;
    if test.reads_release() && (fact != RELEASE_FACT || here.field.is_some()) {
        return Err(format!(
            "field `{path}.fact`: op {} reads the installed release: write fact = \"{RELEASE_FACT}\" (no field)",
            cond.op.name()
        ));
    }
    let if_absent = match cond.if_absent.unwrap_or(check.if_absent) {
        IfAbsent::Fail => Absent::Fail,
        IfAbsent::Pass => Absent::Pass,
        IfAbsent::NotApplicable => Absent::NotApplicable,
        IfAbsent::Unknown => Absent::Unknown,
        IfAbsent::Default => match &check.default {
            Some(d) => Absent::Default(toml_to_json(d)),
            None => {
                return Err(format!(
                    "field `{path}.if_absent`: \"default\" needs the check's `default`"
                ))
            }
        },
    };
    let field = here.field.map(str::to_string);
    Ok(Expr::Leaf(Leaf {
        subject: match &field {
            Some(f) => format!("{fact}.{f}"),
            None => fact.to_string(),
        },
        fact: fact.to_string(),
        field,
        if_absent,
        if_absent_own: cond.if_absent.is_some(),
        test,
        line,
        history: None,
        note: cond.note.clone(),
        former_fact: None,
    }))
}

impl Expr {
    /// A person-readable rendering of what the expression expects.
    pub fn describe(&self, params: &Params) -> String {
        let join = |kids: &[Expr], sep: &str| {
            let parts: Vec<String> = kids.iter().map(|k| k.describe(params)).collect();
            format!("({})", parts.join(sep))
        };
        match self {
            Expr::All(kids) => join(kids, " and "),
            Expr::Any(kids) => join(kids, " or "),
            Expr::Not(kid) => format!("not ({})", kid.describe(params)),
            Expr::Leaf(l) => {
                let d = l.test.describe(&l.subject, params);
                match &l.note {
                    Some(n) => format!("{d} [{n}]"),
                    None => d,
                }
            }
        }
    }

    /// Every leaf, depth first.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Expr::All(kids) | Expr::Any(kids) => {
                kids.iter().for_each(|k| k.collect_leaves(out));
            }
            Expr::Not(kid) => kid.collect_leaves(out),
            Expr::Leaf(l) => out.push(l),
        }
    }

    /// Every leaf, depth first, for changing it (attaching a setting's history).
    pub fn leaves_mut(&mut self) -> Vec<&mut Leaf> {
        let mut out = Vec::new();
        self.collect_leaves_mut(&mut out);
        out
    }

    fn collect_leaves_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Leaf>) {
        match self {
            Expr::All(kids) | Expr::Any(kids) => {
                kids.iter_mut().for_each(|k| k.collect_leaves_mut(out));
            }
            Expr::Not(kid) => kid.collect_leaves_mut(out),
            Expr::Leaf(l) => out.push(l),
        }
    }

    /// Every fact key the expression reads, each once, in order of first use.
    pub fn facts<'a>(&'a self, out: &mut Vec<&'a str>) {
        for l in self.leaves() {
            if !out.contains(&l.fact.as_str()) {
                out.push(&l.fact);
            }
        }
    }
}
