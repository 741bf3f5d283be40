//! Making untrusted text safe to show. Bytes from the audited tree (file names, link
//! targets, `/etc/hostname`), from a database server (error messages) or from a TLS peer
//! (certificate subjects) must never reach a terminal, a spreadsheet or an XML parser raw:
//! an escape sequence in a file name owned by `cloud` could otherwise clear or rewrite the
//! terminal of the root user reading the report.
//!
//! Every human-facing line goes through [`text`]: each control character is replaced by
//! a visible escape (`\x1b`, `\u{202e}`), whatever `--color` says. Escaped are:
//! - C0 controls (U+0000-U+001F, tab and newline included: a value is one line), DEL
//!   (U+007F) and C1 controls (U+0080-U+009F, which some terminals read as CSI);
//! - bidirectional overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E,
//!   U+2066-U+2069), which reorder what is shown ("Trojan Source", CVE-2021-42574);
//! - line and paragraph separators (U+2028, U+2029);
//! - noncharacters (U+FDD0-U+FDEF and every U+xxFFFE/U+xxFFFF), which XML 1.0 forbids.

use std::borrow::Cow;

/// True for a character that [`text`] replaces by a visible escape.
pub fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || matches!(u, 0x061c | 0x200e | 0x200f | 0x2028 | 0x2029)
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || (0xfdd0..=0xfdef).contains(&u)
        || (u & 0xfffe) == 0xfffe
}

fn push_escaped(out: &mut String, c: char) {
    let u = c as u32;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        _ if u < 0x100 => out.push_str(&format!("\\x{u:02x}")),
        _ => out.push_str(&format!("\\u{{{u:x}}}")),
    }
}

/// One line of untrusted text, with every unsafe character escaped (see the module doc).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Several lines (remediation, rationale): each line escaped, the line breaks kept.
pub fn lines(s: &str) -> Vec<String> {
    s.lines().map(|l| text(l).into_owned()).collect()
}

/// A value in double quotes, `"` and `\` escaped, then [`text`].
pub fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    text(&q).into_owned()
}

/// XML 1.0 character data or attribute value: markup escaped, and every unsafe character
/// (which includes all that XML 1.0 forbids) replaced by its visible escape. `\n` is kept
/// when `keep_newlines` (element bodies), escaped otherwise.
pub fn xml(s: &str, keep_newlines: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' if keep_newlines => o.push('\n'),
            c if is_unsafe(c) => push_escaped(&mut o, c),
            c => o.push(c),
        }
    }
    o
}

/// HTML text or attribute value (double-quoted attributes), unsafe characters escaped.
pub fn html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if is_unsafe(c) => push_escaped(&mut o, c),
            c => o.push(c),
        }
    }
    o
}

/// Markdown inline text: unsafe characters escaped, then every character Markdown (GFM)
/// gives a meaning backslash-escaped, so a value cannot open a link, an image, raw HTML or
/// a table cell.
pub fn markdown(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in text(s).chars() {
        if c == '&' {
            o.push_str("&amp;");
            continue;
        }
        if "\\`*_[]<>|~".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// A Prometheus label value: `\` and `"` escaped as the text format defines; every
/// unsafe character (NUL and newline included) replaced by its visible escape, written
/// with an escaped backslash so parsers read it as text (`\x00`, `\n`).
pub fn prometheus_label(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            c if is_unsafe(c) => {
                let mut e = String::new();
                push_escaped(&mut e, c);
                o.push_str(&e.replace('\\', "\\\\"));
            }
            c => o.push(c),
        }
    }
    o
}

/// A CSV field (RFC 4180): unsafe characters escaped; a field a spreadsheet would read as
/// a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading
/// `'`; fields with `"`, `,` or a line break are quoted with `"` doubled.
pub fn csv(s: &str) -> String {
    let mut v = String::with_capacity(s.len() + 2);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.push('\'');
    }
    // Line breaks inside a field are structural (several evidence lines): keep `\n`.
    for (i, l) in s.split('\n').enumerate() {
        if i > 0 {
            v.push('\n');
        }
        v.push_str(&text(l));
    }
    if v.contains(['"', ',', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(text("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(text("\u{9b}31m"), "\\x9b31m");
        assert_eq!(text("x\u{202e}y\u{2066}"), "x\\u{202e}y\\u{2066}");
        assert_eq!(text("nul\0"), "nul\\x00");
        assert_eq!(
            text("\u{fffe}\u{ffff}\u{1fffe}"),
            "\\u{fffe}\\u{ffff}\\u{1fffe}"
        );
        assert_eq!(text("line\nnext\t"), "line\\nnext\\t");
        assert!(matches!(text("plain ascii, üñí"), Cow::Borrowed(_)));
    }

    #[test]
    fn xml_has_no_illegal_characters() {
        let x = xml("a\0b\u{fffe}c\u{ffff}<&>\n", true);
        assert_eq!(x, "a\\x00b\\u{fffe}c\\u{ffff}&lt;&amp;&gt;\n");
        assert_eq!(xml("a\nb", false), "a\\nb");
    }

    #[test]
    fn csv_is_formula_safe_and_quoted() {
        assert_eq!(csv("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv("-1"), "'-1");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("l1\nl2"), "\"l1\nl2\"");
        assert_eq!(csv("plain"), "plain");
    }

    #[test]
    fn prometheus_labels_carry_no_raw_control_bytes() {
        let l = prometheus_label("h\0o\"s\\t\n\x1b");
        assert_eq!(l, "h\\\\x00o\\\"s\\\\t\\\\n\\\\x1b");
        assert!(!l.chars().any(|c| (c as u32) < 0x20));
    }

    #[test]
    fn markdown_cannot_open_links_or_cells() {
        assert_eq!(
            markdown("[x](http://e)|<b>&"),
            "\\[x\\](http://e)\\|\\<b\\>&amp;"
        );
    }
}
