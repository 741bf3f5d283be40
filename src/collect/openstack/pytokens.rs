//! A tokenizer for the subset of Python that settings modules use: names, numbers,
//! string literals (prefixes, escapes, triple quotes) and operators, grouped into logical
//! lines (brackets, backslash continuations and triple-quoted strings joined), with each
//! logical line's first line number and whether it was indented.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Name(String),
    Num(String),
    /// A string literal: its value, or why it is not a plain literal (f-string, bytes).
    Str(Result<String, String>),
    Op(String),
}

#[derive(Debug, Clone)]
pub(super) struct Logical {
    pub line: usize,
    pub indented: bool,
    pub toks: Vec<Tok>,
}

/// Splits source into logical lines (brackets, backslashes and triple quotes joined).
pub(super) fn tokenize(src: &str) -> Result<Vec<Logical>, String> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut depth) = (0usize, 1usize, 0usize);
    let mut out = Vec::new();
    let mut cur: Option<Logical> = None;
    let mut at_line_start = true;
    while i < c.len() {
        let ch = c[i];
        if at_line_start && cur.is_none() {
            // Measure indentation of a new logical line.
            let mut j = i;
            while j < c.len() && (c[j] == ' ' || c[j] == '\t' || c[j] == '\x0c') {
                j += 1;
            }
            let indented = j > i;
            i = j;
            at_line_start = false;
            if i < c.len() && c[i] != '\n' && c[i] != '\r' && c[i] != '#' {
                cur = Some(Logical {
                    line,
                    indented,
                    toks: Vec::new(),
                });
            }
            continue;
        }
        match ch {
            '\n' | '\r' => {
                if ch == '\r' && c.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                i += 1;
                line += 1;
                if depth == 0 {
                    if let Some(l) = cur.take() {
                        out.push(l);
                    }
                    at_line_start = true;
                }
            }
            ' ' | '\t' | '\x0c' => i += 1,
            '#' => {
                while i < c.len() && c[i] != '\n' && c[i] != '\r' {
                    i += 1;
                }
            }
            '\\' if matches!(c.get(i + 1), Some('\n') | Some('\r')) => {
                i += 1;
                if c[i] == '\r' && c.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                i += 1;
                line += 1;
            }
            _ => {
                let l = cur.get_or_insert_with(|| Logical {
                    line,
                    indented: false,
                    toks: Vec::new(),
                });
                let (tok, next, lines) = token(&c, i, line)?;
                match &tok {
                    Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
                    Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => {
                        depth = depth
                            .checked_sub(1)
                            .ok_or_else(|| format!("line {line}: unmatched {o:?}"))?;
                    }
                    _ => {}
                }
                if depth > 200 {
                    return Err(format!("line {line}: brackets nested too deeply"));
                }
                l.toks.push(tok);
                i = next;
                line += lines;
            }
        }
    }
    if depth != 0 {
        return Err("unclosed bracket at end of file".into());
    }
    if let Some(l) = cur.take() {
        out.push(l);
    }
    Ok(out)
}

/// One token at `i`: the token, the index after it, and how many newlines it spanned.
fn token(c: &[char], i: usize, line: usize) -> Result<(Tok, usize, usize), String> {
    let ch = c[i];
    if ch.is_alphabetic() || ch == '_' {
        let mut j = i;
        while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
            j += 1;
        }
        let word: String = c[i..j].iter().collect();
        let lower = word.to_ascii_lowercase();
        let is_prefix = word.len() <= 2 && lower.chars().all(|p| "rubf".contains(p));
        if is_prefix && j < c.len() && (c[j] == '\'' || c[j] == '"') {
            return string(c, j, &lower, line);
        }
        return Ok((Tok::Name(word), j, 0));
    }
    if ch == '\'' || ch == '"' {
        return string(c, i, "", line);
    }
    if ch.is_ascii_digit() || (ch == '.' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
        let mut j = i;
        while j < c.len()
            && (c[j].is_ascii_alphanumeric()
                || c[j] == '_'
                || c[j] == '.'
                || ((c[j] == '+' || c[j] == '-') && matches!(c[j - 1], 'e' | 'E')))
        {
            j += 1;
        }
        return Ok((Tok::Num(c[i..j].iter().collect()), j, 0));
    }
    for op in [
        "**=", "//=", ">>=", "<<=", "...", "->", ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=",
        "^=", "@=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>",
    ] {
        let n = op.chars().count();
        if c.len() >= i + n && c[i..i + n].iter().copied().eq(op.chars()) {
            return Ok((Tok::Op(op.into()), i + n, 0));
        }
    }
    if "()[]{},:;.=+-*/%@&|^~<>!".contains(ch) {
        return Ok((Tok::Op(ch.to_string()), i + 1, 0));
    }
    Err(format!("line {line}: unexpected character {ch:?}"))
}

/// A string literal starting at the quote `c[q]`, with lower-cased `prefix`.
fn string(c: &[char], q: usize, prefix: &str, line: usize) -> Result<(Tok, usize, usize), String> {
    let quote = c[q];
    let triple = c.get(q + 1) == Some(&quote) && c.get(q + 2) == Some(&quote);
    let raw = prefix.contains('r');
    let mut j = q + if triple { 3 } else { 1 };
    let mut s = String::new();
    let mut lines = 0;
    let mut bad: Option<String> = None;
    loop {
        let Some(&ch) = c.get(j) else {
            return Err(format!("line {line}: unterminated string"));
        };
        if ch == quote {
            if !triple {
                j += 1;
                break;
            }
            if c.get(j + 1) == Some(&quote) && c.get(j + 2) == Some(&quote) {
                j += 3;
                break;
            }
        }
        if (ch == '\n' || ch == '\r') && !triple {
            return Err(format!("line {line}: unterminated string"));
        }
        if ch == '\n' {
            lines += 1;
        }
        if ch == '\\' {
            let Some(&n) = c.get(j + 1) else {
                return Err(format!("line {line}: unterminated string"));
            };
            if n == '\n' {
                lines += 1;
            }
            if raw {
                s.push('\\');
                s.push(n);
            } else {
                match escape(c, j + 1) {
                    Ok((text, used)) => {
                        s.push_str(&text);
                        j += 1 + used;
                        continue;
                    }
                    Err(e) => bad = Some(e),
                }
            }
            j += 2;
            continue;
        }
        s.push(ch);
        j += 1;
    }
    let val = if prefix.contains('f') {
        Err("an f-string (evaluated at run time)".to_string())
    } else if prefix.contains('b') {
        Err("a bytes literal".to_string())
    } else if let Some(e) = bad {
        Err(e)
    } else {
        Ok(s)
    };
    Ok((Tok::Str(val), j, lines))
}

/// A backslash escape whose character is `c[k]`: its text and how many chars it used.
fn escape(c: &[char], k: usize) -> Result<(String, usize), String> {
    let hex = |n: usize| -> Result<(String, usize), String> {
        let h: String = c.get(k + 1..k + 1 + n).unwrap_or(&[]).iter().collect();
        u32::from_str_radix(&h, 16)
            .ok()
            .filter(|_| h.len() == n)
            .and_then(char::from_u32)
            .map(|ch| (ch.to_string(), n + 1))
            .ok_or_else(|| format!("invalid \\{} escape", c[k]))
    };
    let simple = |s: &str| Ok((s.to_string(), 1));
    match c[k] {
        '\n' => Ok((String::new(), 1)),
        '\r' if c.get(k + 1) == Some(&'\n') => Ok((String::new(), 2)),
        '\r' => Ok((String::new(), 1)),
        '\\' => simple("\\"),
        '\'' => simple("'"),
        '"' => simple("\""),
        'a' => simple("\x07"),
        'b' => simple("\x08"),
        'f' => simple("\x0c"),
        'n' => simple("\n"),
        'r' => simple("\r"),
        't' => simple("\t"),
        'v' => simple("\x0b"),
        'x' => hex(2),
        'u' => hex(4),
        'U' => hex(8),
        'N' => Err("a \\N{...} escape (not decoded here)".into()),
        '0'..='7' => {
            let mut n = 0;
            let mut v = 0u32;
            while n < 3 && c.get(k + n).is_some_and(|d| ('0'..='7').contains(d)) {
                v = v * 8 + c[k + n].to_digit(8).unwrap_or(0);
                n += 1;
            }
            char::from_u32(v)
                .map(|ch| (ch.to_string(), n))
                .ok_or_else(|| "invalid octal escape".into())
        }
        other => Ok((format!("\\{other}"), 1)),
    }
}
