//! Literal assignments of a Django settings module (Horizon's `local_settings.py`), read
//! without running Python.
//!
//! Only module-level `NAME = <literal>` statements are evaluated, where a literal is what
//! `ast.literal_eval` accepts for settings: `True`/`False`/`None`, numbers, strings
//! (adjacent ones concatenated; no f-strings or bytes), tuples, lists and dicts of those.
//! A later assignment wins. Anything else makes the name **unknown with the reason**:
//! a non-literal right-hand side (`os.environ.get(...)`, `'a' + b`), an assignment inside
//! `if`/`try`/`for`/`with`/`while` blocks, augmented or item assignment
//! (`X += ...`, `X['k'] = ...`), tuple unpacking, `from m import X` or `import X`, a
//! `global X` in a function, and every name assigned before a `from m import *`. A file
//! that calls `exec`, `eval`, `globals()`, `locals()`, `vars()` or `setattr` at any place,
//! or that Python could not tokenize, makes every name unknown.
//! Assignments inside `def`/`class` bodies are local and ignored.

use super::pytokens::{tokenize, Tok};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

/// What the module binds a name to, as far as can be told without running it.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Known { value: Value, line: usize },
    Unknown(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    names: BTreeMap<String, Setting>,
    /// When set, every name is unknown for this reason (syntax error, exec, globals()).
    pub whole_file: Option<String>,
    /// The last `from m import *`: (line, module). Names not assigned after it may come
    /// from it.
    star: Option<(usize, String)>,
}

impl Settings {
    /// The binding of `name`: `None` when the module never assigns it.
    pub fn get(&self, name: &str) -> Option<Setting> {
        if let Some(why) = &self.whole_file {
            return Some(Setting::Unknown(why.clone()));
        }
        let star = |(line, module): &(usize, String)| {
            Setting::Unknown(format!(
                "{name} may be bound by `from {module} import *` at line {line}"
            ))
        };
        match (self.names.get(name), &self.star) {
            (Some(Setting::Known { line, .. }), Some(st)) if st.0 > *line => Some(star(st)),
            (None, Some(st)) => Some(star(st)),
            (found, _) => found.cloned(),
        }
    }
}

const MAX_DEPTH: usize = 64;
const DYNAMIC: &[&str] = &[
    "exec",
    "eval",
    "globals",
    "locals",
    "vars",
    "setattr",
    "__import__",
];
const CONDITIONAL: &[&str] = &[
    "if", "elif", "else", "try", "except", "finally", "for", "while", "with", "async", "match",
];

/// Reads the literal settings of a module (see the module docs).
pub fn parse(src: &str) -> Settings {
    let mut st = Settings::default();
    let lines = match tokenize(src) {
        Ok(l) => l,
        Err(e) => {
            st.whole_file = Some(format!("not valid Python: {e}"));
            return st;
        }
    };
    // The kind of the current top-level compound statement: Some(true) = conditional
    // block, Some(false) = def/class body.
    let mut block: Option<bool> = None;
    for l in &lines {
        for t in &l.toks {
            if let Tok::Name(n) = t {
                if DYNAMIC.contains(&n.as_str()) {
                    st.whole_file = Some(format!(
                        "the file uses {n} at line {} (names may be bound at run time)",
                        l.line
                    ));
                    return st;
                }
            }
        }
        for stmt in l.toks.split(|t| *t == Tok::Op(";".into())) {
            statement(&mut st, stmt, l.line, l.indented, &mut block);
        }
    }
    st
}

fn unknown(st: &mut Settings, name: &str, why: String) {
    st.names.insert(name.to_string(), Setting::Unknown(why));
}

fn statement(
    st: &mut Settings,
    toks: &[Tok],
    line: usize,
    indented: bool,
    block: &mut Option<bool>,
) {
    let first = match toks.first() {
        Some(Tok::Name(n)) => n.as_str(),
        Some(_) => "",
        None => return,
    };
    if indented {
        match *block {
            Some(false) => {
                if first == "global" {
                    for t in &toks[1..] {
                        if let Tok::Name(n) = t {
                            unknown(
                                st,
                                n,
                                format!("declared global in a function at line {line}"),
                            );
                        }
                    }
                }
            }
            _ => mark_targets(st, toks, format!("assigned inside a block at line {line}")),
        }
        return;
    }
    if CONDITIONAL.contains(&first) {
        *block = Some(true);
        // A body on the same line (`if x: A = 1`).
        if let Some(p) = toks.iter().position(|t| *t == Tok::Op(":".into())) {
            mark_targets(
                st,
                &toks[p + 1..],
                format!("assigned conditionally at line {line}"),
            );
        }
        return;
    }
    if first == "def" || first == "class" || toks.first() == Some(&Tok::Op("@".into())) {
        *block = Some(false);
        return;
    }
    *block = None;
    if first == "from" || first == "import" {
        import(st, toks, line);
        return;
    }
    assignment(st, toks, line);
}

/// Names bound by `from m import a, b as c` / `import a.b as c`, and star imports.
fn import(st: &mut Settings, toks: &[Tok], line: usize) {
    let module: String = toks
        .iter()
        .skip(1)
        .take_while(|t| **t != Tok::Name("import".into()))
        .map(|t| match t {
            Tok::Name(n) => n.clone(),
            Tok::Op(o) => o.clone(),
            _ => String::new(),
        })
        .collect();
    if toks.iter().any(|t| *t == Tok::Op("*".into())) {
        st.star = Some((line, module));
        return;
    }
    let names: Vec<&Tok> = if toks[0] == Tok::Name("from".into()) {
        let p = toks.iter().position(|t| *t == Tok::Name("import".into()));
        toks[p.map(|p| p + 1).unwrap_or(toks.len())..]
            .iter()
            .collect()
    } else {
        toks[1..].iter().collect()
    };
    // The bound name is the one after `as`, else the first component.
    let mut prev_as = false;
    let mut expect = true;
    for t in names {
        match t {
            Tok::Name(n) if n == "as" => prev_as = true,
            Tok::Name(n) if expect || prev_as => {
                unknown(st, n, format!("imported from {module} at line {line}"));
                prev_as = false;
                expect = false;
            }
            Tok::Op(o) if o == "," => expect = true,
            _ => {}
        }
    }
}

/// Marks every `NAME` directly before a top-level `=` in `toks` as unknown.
fn mark_targets(st: &mut Settings, toks: &[Tok], why: String) {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth = depth.saturating_sub(1),
            Tok::Op(o)
                if depth == 0
                    && (o == "="
                        || o.ends_with('=')
                            && o.len() > 1
                            && !matches!(o.as_str(), "==" | "!=" | "<=" | ">=")) =>
            {
                if let Some(Tok::Name(n)) = i.checked_sub(1).and_then(|p| toks.get(p)) {
                    unknown(st, n, why.clone());
                }
            }
            _ => {}
        }
    }
}

fn assignment(st: &mut Settings, toks: &[Tok], line: usize) {
    // Targets: NAME = NAME = ... = value (split on top-level `=`).
    let mut parts: Vec<&[Tok]> = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth = depth.saturating_sub(1),
            Tok::Op(o) if o == "=" && depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        // Augmented assignment or an expression statement.
        if let (Some(Tok::Name(n)), Some(Tok::Op(o))) = (toks.first(), toks.get(1)) {
            if o.len() >= 2 && o.ends_with('=') && !matches!(o.as_str(), "==" | "!=" | "<=" | ">=")
            {
                unknown(st, n, format!("changed by `{n} {o} ...` at line {line}"));
            }
        }
        return;
    }
    let rhs = &toks[start..];
    let value = literal(rhs);
    for target in parts {
        match target {
            [Tok::Name(n)] => match &value {
                Ok(v) => {
                    st.names.insert(
                        n.clone(),
                        Setting::Known {
                            value: v.clone(),
                            line,
                        },
                    );
                }
                Err(why) => unknown(st, n, format!("not a literal at line {line}: {why}")),
            },
            [Tok::Name(n), Tok::Op(o), ..] if o == ":" => unknown(
                st,
                n,
                format!("annotated assignment at line {line} (not evaluated)"),
            ),
            [Tok::Name(n), Tok::Op(o), ..] if o == "[" || o == "." => unknown(
                st,
                n,
                format!("modified by an item or attribute assignment at line {line}"),
            ),
            other => {
                for t in other {
                    if let Tok::Name(n) = t {
                        unknown(
                            st,
                            n,
                            format!("bound by an unpacking assignment at line {line}"),
                        );
                    }
                }
            }
        }
    }
}

/// Evaluates a whole token slice as one literal.
fn literal(toks: &[Tok]) -> Result<Value, String> {
    let mut p = 0;
    let v = expr(toks, &mut p, 0)?;
    // A bare tuple `A = 1, 2`.
    if p < toks.len() && toks[p] == Tok::Op(",".into()) {
        let mut items = vec![v.clone()];
        while p < toks.len() && toks[p] == Tok::Op(",".into()) {
            p += 1;
            if p == toks.len() {
                break;
            }
            items.push(expr(toks, &mut p, 0)?);
        }
        if p == toks.len() {
            return Ok(Value::Array(items));
        }
    }
    if p != toks.len() {
        return Err(format!("unexpected {} after the value", show(&toks[p])));
    }
    Ok(v)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("name `{n}`"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(_) => "a string".into(),
        Tok::Op(o) => format!("`{o}`"),
    }
}

fn expr(toks: &[Tok], p: &mut usize, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply".into());
    }
    let Some(t) = toks.get(*p) else {
        return Err("missing value".into());
    };
    *p += 1;
    match t {
        Tok::Name(n) => match n.as_str() {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            _ => Err(format!("name `{n}` (an expression)")),
        },
        Tok::Num(n) => number(n, false),
        Tok::Op(o) if o == "-" || o == "+" => match toks.get(*p) {
            Some(Tok::Num(n)) => {
                *p += 1;
                number(n, o == "-")
            }
            _ => Err("a unary operator on a non-number".into()),
        },
        Tok::Str(s) => {
            let mut out = s.clone()?;
            while let Some(Tok::Str(next)) = toks.get(*p) {
                out.push_str(&next.clone()?);
                *p += 1;
            }
            Ok(Value::String(out))
        }
        Tok::Op(o) if o == "(" || o == "[" => {
            let close = if o == "(" { ")" } else { "]" };
            let (items, trailing) = sequence(toks, p, close, depth)?;
            if o == "(" && items.len() == 1 && !trailing {
                return Ok(items.into_iter().next().unwrap_or(Value::Null));
            }
            Ok(Value::Array(items))
        }
        Tok::Op(o) if o == "{" => dict(toks, p, depth),
        other => Err(format!("{} where a value was expected", show(other))),
    }
}

/// Items up to `close`; whether a trailing comma was seen (for `(x,)`).
fn sequence(
    toks: &[Tok],
    p: &mut usize,
    close: &str,
    depth: usize,
) -> Result<(Vec<Value>, bool), String> {
    let mut items = Vec::new();
    let mut trailing = false;
    loop {
        if toks.get(*p) == Some(&Tok::Op(close.into())) {
            *p += 1;
            return Ok((items, trailing));
        }
        items.push(expr(toks, p, depth + 1)?);
        trailing = false;
        match toks.get(*p) {
            Some(Tok::Op(o)) if o == "," => {
                *p += 1;
                trailing = true;
            }
            Some(Tok::Op(o)) if o == close => {}
            Some(t) => return Err(format!("unexpected {} in a sequence", show(t))),
            None => return Err("unterminated sequence".into()),
        }
    }
}

fn dict(toks: &[Tok], p: &mut usize, depth: usize) -> Result<Value, String> {
    let mut m = Map::new();
    loop {
        if toks.get(*p) == Some(&Tok::Op("}".into())) {
            *p += 1;
            return Ok(Value::Object(m));
        }
        let key = match expr(toks, p, depth + 1)? {
            Value::String(s) => s,
            _ => return Err("a dict key that is not a string".into()),
        };
        if toks.get(*p) != Some(&Tok::Op(":".into())) {
            return Err("a set or dict comprehension, not a dict literal".into());
        }
        *p += 1;
        let v = expr(toks, p, depth + 1)?;
        m.insert(key, v);
        match toks.get(*p) {
            Some(Tok::Op(o)) if o == "," => *p += 1,
            Some(Tok::Op(o)) if o == "}" => {}
            Some(t) => return Err(format!("unexpected {} in a dict", show(t))),
            None => return Err("unterminated dict".into()),
        }
    }
}

fn number(text: &str, neg: bool) -> Result<Value, String> {
    let t = text.replace('_', "");
    let lower = t.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.chars().all(|c| c.is_ascii_digit()) {
        lower.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Ok(Value::Number(Number::from(if neg { -i } else { i })));
    }
    if lower.ends_with('j') {
        return Err(format!("complex number {text}"));
    }
    match lower.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(f) if !lower.starts_with("0x") => Ok(Value::Number(if neg {
            Number::from_f64(-f.as_f64().unwrap_or(0.0)).unwrap_or(f)
        } else {
            f
        })),
        _ => Err(format!("number {text} out of range or malformed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(s: &Settings, n: &str) -> Value {
        match s.get(n) {
            Some(Setting::Known { value, .. }) => value,
            other => panic!("{n}: {other:?}"),
        }
    }
    fn why(s: &Settings, n: &str) -> String {
        match s.get(n) {
            Some(Setting::Unknown(w)) => w,
            other => panic!("{n}: {other:?}"),
        }
    }

    #[test]
    fn literals() {
        let s = parse(
            "import os\nfrom django.utils.translation import gettext_lazy as _\n\
             DEBUG = False\nCSRF_COOKIE_SECURE = True  # comment\n\
             PASSWORD_AUTOCOMPLETE = 'off'\nSECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')\n\
             PASSWORD_VALIDATOR = {\n    'regex': r'^(?=.*\\d).{8,}$',  # x\n    \"help_text\": _(\"x\"),\n}\n\
             A = B = 5\nN = -0x10\nL = [1, 2.5, \"a\" 'b', None,]\nT = (1,)\nP = (1)\n\
             S = '''multi\nline'''\nE = 'a\\tb\\x41\\u00e9'\n",
        );
        assert_eq!(known(&s, "DEBUG"), json!(false));
        assert_eq!(known(&s, "CSRF_COOKIE_SECURE"), json!(true));
        assert_eq!(known(&s, "PASSWORD_AUTOCOMPLETE"), json!("off"));
        assert_eq!(
            known(&s, "SECURE_PROXY_SSL_HEADER"),
            json!(["HTTP_X_FORWARDED_PROTO", "https"])
        );
        assert!(why(&s, "PASSWORD_VALIDATOR").contains("name `_`"));
        assert_eq!(known(&s, "A"), json!(5));
        assert_eq!(known(&s, "B"), json!(5));
        assert_eq!(known(&s, "N"), json!(-16));
        assert_eq!(known(&s, "L"), json!([1, 2.5, "ab", null]));
        assert_eq!(known(&s, "T"), json!([1]));
        assert_eq!(known(&s, "P"), json!(1));
        assert_eq!(known(&s, "S"), json!("multi\nline"));
        assert_eq!(known(&s, "E"), json!("a\tbAé"));
        assert!(why(&s, "_").contains("imported"));
        assert_eq!(s.get("MISSING"), None);
    }

    #[test]
    fn hostile_and_odd() {
        let s = parse("X = True\nif os.environ.get('A'):\n    X = False\n");
        assert!(why(&s, "X").contains("inside a block"));
        let s = parse("def f():\n    X = 1\n    global Y\nX = True\n");
        assert_eq!(known(&s, "X"), json!(true));
        assert!(why(&s, "Y").contains("global"));
        let s = parse("X = True\nfrom local_settings_d import *\nY = 1\n");
        assert!(why(&s, "X").contains("import *"));
        assert!(why(&s, "NEVER_ASSIGNED").contains("import *"));
        assert_eq!(known(&s, "Y"), json!(1));
        // Linear on hostile sizes: many assignments interleaved with star imports.
        let t0 = std::time::Instant::now();
        let big: String = (0..50_000)
            .map(|i| format!("N{i} = [{i}, 'x']\nfrom m import *\n"))
            .collect();
        assert!(why(&parse(&big), "N0").contains("import *"));
        assert!(t0.elapsed() < std::time::Duration::from_secs(120));
        let s = parse("X = True\nglobals()['X'] = False\n");
        assert!(why(&s, "X").contains("globals"));
        let s = parse("X = 'unterminated\n");
        assert!(why(&s, "X").contains("not valid Python"));
        let s = parse("X = True; Y = 'a'\nZ = f'{X}'\nW = b'x'\nV += 1\nU['k'] = 1\nQ, R = 1, 2\n");
        assert_eq!(known(&s, "Y"), json!("a"));
        assert!(why(&s, "Z").contains("f-string"));
        assert!(why(&s, "W").contains("bytes"));
        assert!(why(&s, "Q").contains("unpacking"));
        let s = parse("X = 1\nX += 1\nU = {}\nU['k'] = 1\n");
        assert!(why(&s, "X").contains("+="));
        assert!(why(&s, "U").contains("item"));
        let s = parse("if True: X = 1\n");
        assert!(why(&s, "X").contains("conditionally"));
        let deep = format!("X = {}1{}\n", "[".repeat(150), "]".repeat(150));
        assert!(why(&parse(&deep), "X").contains("deeply"));
        let deeper = format!("X = {}\n", "(".repeat(100_000));
        assert!(parse(&deeper).get("X").is_some());
        let s = parse("X = (True\n  )\nY = \\\n  'z'\r\nZ = 1\r");
        assert_eq!(known(&s, "X"), json!(true));
        assert_eq!(known(&s, "Y"), json!("z"));
        assert_eq!(known(&s, "Z"), json!(1));
        assert!(why(&parse("X = 10**400\n"), "X").contains("`**`"));
        // Beyond i64: read as a float, as JSON cannot hold the exact integer.
        assert_eq!(
            known(&parse("X = 99999999999999999999999\n"), "X"),
            json!(1e23)
        );
        assert!(why(&parse("X = {'a', 'b'}\n"), "X").contains("set"));
        assert!(why(&parse("X = {1: 2}\n"), "X").contains("dict key"));
    }
}
