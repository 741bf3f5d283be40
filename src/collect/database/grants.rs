//! `SHOW GRANTS FOR CURRENT_USER()` parsed, so that the DB account's own privileges are
//! decided even when it cannot read `mysql.user` (a narrow account is a pass, not unknown).
//!
//! Forms understood (MariaDB 10.x/11.x and MySQL 8): `GRANT <privs> ON [TABLE|FUNCTION|
//! PROCEDURE|PACKAGE [BODY]] <object> TO <user>@<host> [IDENTIFIED ...] [REQUIRE ...]
//! [WITH GRANT OPTION | WITH ADMIN OPTION | WITH MAX_...]`, column lists
//! (`SELECT (a, b)`), identifiers quoted with backticks, single or double quotes,
//! `GRANT PROXY ON ...`, role grants (`GRANT r1, \`r2\`@\`%\` TO ...`), `SET DEFAULT ROLE`
//! and MySQL 8 partial `REVOKE` lines (ignored: they only remove privileges). Anything else
//! is an error: the caller records the fact as unknown. No line text is kept (older
//! servers print password hashes in them).

use crate::outcome::Named;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word, upper-cased.
    Word(String),
    /// A quoted identifier or string, unquoted.
    Quoted(String),
    Punct(char),
}

/// Longest line looked at; a longer one is not understood.
const MAX_LINE: usize = 64 * 1024;

fn tokens(line: &str) -> Result<Vec<Tok>, String> {
    if line.len() > MAX_LINE {
        return Err("line too long".into());
    }
    let mut out = Vec::new();
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '`' | '\'' | '"' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        None => return Err("unterminated quote".into()),
                        Some('\\') if c != '`' => match it.next() {
                            Some(e) => s.push(e),
                            None => return Err("unterminated quote".into()),
                        },
                        Some(q) if q == c => {
                            if it.peek() == Some(&c) {
                                it.next();
                                s.push(c);
                            } else {
                                break;
                            }
                        }
                        Some(o) => s.push(o),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut s = c.to_string();
                while let Some(&n) = it.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '$' || n == '-' {
                        s.push(n);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(s.to_uppercase()));
            }
            ',' | '(' | ')' | '.' | '*' | '@' | ';' | '=' | '%' => out.push(Tok::Punct(c)),
            _ => {
                return Err(format!(
                    "unexpected character {:?}",
                    c.escape_default().to_string()
                ))
            }
        }
    }
    Ok(out)
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(x) if x == w)
}

/// One GRANT line, understood.
#[derive(Debug, Default, PartialEq)]
struct Grant {
    /// Privileges (upper case, column lists dropped), empty for a role grant.
    privs: Vec<String>,
    /// `*.*`, `cloud.*`, `cloud.user`, or the proxied user for PROXY.
    object: String,
    roles: Vec<String>,
    host: String,
    grant_option: bool,
}

/// Position of the first word `w` at parenthesis depth 0, from `from`.
fn find_word(t: &[Tok], from: usize, w: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, tok) in t.iter().enumerate().skip(from) {
        match tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            _ if depth == 0 && is_word(tok, w) => return Some(i),
            _ => {}
        }
    }
    None
}

/// Comma-separated items at depth 0, each as its words joined by a space (parenthesised
/// column lists dropped; `@` and quoted names kept for role grants).
fn items(t: &[Tok]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut depth = 0i32;
    for tok in t {
        match tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced parenthesis".into());
                }
            }
            _ if depth > 0 => {}
            Tok::Punct(',') => out.push(std::mem::take(&mut cur).join(" ")),
            Tok::Word(w) => cur.push(w.clone()),
            Tok::Quoted(q) => cur.push(format!("`{q}`")),
            Tok::Punct('@') => cur.push("@".into()),
            Tok::Punct('%') => cur.push("%".into()),
            Tok::Punct(c) => return Err(format!("unexpected {c:?} in a privilege list")),
        }
    }
    if depth != 0 {
        return Err("unbalanced parenthesis".into());
    }
    out.push(cur.join(" "));
    if out.iter().any(String::is_empty) {
        return Err("empty item in a privilege list".into());
    }
    Ok(out)
}

fn object(t: &[Tok]) -> Result<String, String> {
    let mut s = String::new();
    let skip = match t.first() {
        Some(Tok::Word(w)) if matches!(w.as_str(), "TABLE" | "FUNCTION" | "PROCEDURE") => 1,
        Some(Tok::Word(w)) if w == "PACKAGE" => {
            if t.get(1).is_some_and(|x| is_word(x, "BODY")) {
                2
            } else {
                1
            }
        }
        _ => 0,
    };
    for tok in &t[skip..] {
        match tok {
            Tok::Quoted(q) => s.push_str(q),
            Tok::Word(w) => s.push_str(&w.to_lowercase()),
            Tok::Punct(c @ ('.' | '*' | '@' | '%')) => s.push(*c),
            Tok::Punct(c) => return Err(format!("unexpected {c:?} in an object")),
        }
    }
    if s.is_empty() {
        return Err("no object".into());
    }
    Ok(s)
}

/// `<user>@<host>` at the start of `t`: the host (MariaDB prints a bare user for roles).
fn grantee_host(t: &[Tok]) -> Result<String, String> {
    match t {
        [Tok::Quoted(_) | Tok::Word(_), Tok::Punct('@'), Tok::Quoted(h), ..] => Ok(h.clone()),
        [Tok::Quoted(_) | Tok::Word(_), Tok::Punct('@'), Tok::Punct('%'), ..] => Ok("%".into()),
        [Tok::Quoted(_) | Tok::Word(_), Tok::Punct('@'), Tok::Word(h), ..] => Ok(h.to_lowercase()),
        [Tok::Quoted(_) | Tok::Word(_), ..] => Ok(String::new()),
        _ => Err("no grantee".into()),
    }
}

/// One line: `Ok(None)` for lines that grant nothing (`SET DEFAULT ROLE`, `REVOKE`).
fn parse_line(line: &str) -> Result<Option<Grant>, String> {
    let t = tokens(line)?;
    match t.first() {
        Some(Tok::Word(w)) if w == "GRANT" => {}
        Some(Tok::Word(w)) if w == "SET" || w == "REVOKE" => return Ok(None),
        _ => return Err("not a GRANT statement".into()),
    }
    let to = find_word(&t, 1, "TO").ok_or("no TO")?;
    let mut g = Grant::default();
    match find_word(&t[..to], 1, "ON") {
        Some(on) => {
            g.privs = items(&t[1..on])?;
            g.object = object(&t[on + 1..to])?;
        }
        None => g.roles = items(&t[1..to])?,
    }
    g.host = grantee_host(&t[to + 1..])?;
    g.grant_option = t
        .windows(3)
        .any(|w| is_word(&w[0], "WITH") && is_word(&w[1], "GRANT") && is_word(&w[2], "OPTION"));
    Ok(Some(g))
}

/// Global privileges that hand over more than the `cloud` databases.
const DANGEROUS_GLOBAL: &[&str] = &["ALL", "ALL PRIVILEGES", "SUPER", "FILE", "CREATE USER"];

/// Summarises `SHOW GRANTS` lines without keeping them. An error names the line number
/// and what was not understood (never the line).
pub fn parse_grants(lines: &[String]) -> Result<Value, String> {
    let mut all_on: Vec<String> = Vec::new();
    let mut global: Vec<String> = Vec::new();
    let mut dangerous: Vec<String> = Vec::new();
    let mut grant_option = false;
    let mut roles: Vec<String> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let g = match parse_line(l) {
            Ok(Some(g)) => g,
            Ok(None) => continue,
            Err(e) => return Err(format!("SHOW GRANTS line {} not understood: {e}", i + 1)),
        };
        if !hosts.contains(&g.host) {
            hosts.push(g.host.clone());
        }
        if !g.roles.is_empty() {
            roles.extend(g.roles);
            continue;
        }
        let on = g.object.as_str();
        if g.grant_option {
            grant_option = true;
            dangerous.push(format!("GRANT OPTION on {on}"));
        }
        for p in &g.privs {
            if p.starts_with("ALL") {
                all_on.push(on.to_string());
            }
            if p == "PROXY" {
                dangerous.push(format!("PROXY on {on}"));
            }
            if on == "*.*" && p != "USAGE" {
                global.push(p.clone());
                if DANGEROUS_GLOBAL.contains(&p.as_str()) {
                    dangerous.push(format!("{p} on *.*"));
                }
            }
            // Write access to the grant tables is control of every account.
            if (on == "mysql.*" || on.starts_with("mysql.")) && p != "USAGE" && p != "SELECT" {
                dangerous.push(format!("{p} on {on}"));
            }
        }
    }
    let process = global
        .iter()
        .any(|p| p == "PROCESS" || p.starts_with("ALL"));
    Ok(json!({
        "all_privileges_on": all_on,
        "global_privileges": global,
        "with_grant_option": grant_option,
        "all_on_everything": all_on.iter().any(|o| o == "*.*"),
        "role_grants": roles.len(),
        "roles": roles,
        "dangerous_count": dangerous.len(),
        "process": process,
        "hosts": hosts,
        "to_any_host": hosts.iter().any(|h| h == "%"),
        "names": {"dangerous_count": Named::to_json(&dangerous)},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lines: &[&str]) -> Result<Value, String> {
        parse_grants(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn narrow_mariadb_account() {
        let g = p(&[
            "GRANT USAGE ON *.* TO `cloud`@`10.0.0.5` IDENTIFIED BY PASSWORD '*ABCDEF0123'",
            "GRANT ALL PRIVILEGES ON `cloud`.* TO `cloud`@`10.0.0.5`",
            "GRANT ALL PRIVILEGES ON `cloud_usage`.* TO `cloud`@`10.0.0.5`",
        ])
        .unwrap();
        assert!(!g.to_string().contains("ABCDEF"));
        assert_eq!(g["dangerous_count"], 0, "{g}");
        assert_eq!(g["process"], false);
        assert_eq!(g["to_any_host"], false);
        assert_eq!(g["all_privileges_on"], json!(["cloud.*", "cloud_usage.*"]));
    }

    #[test]
    fn broad_accounts_are_named() {
        let g = p(&[
            "GRANT PROCESS, FILE, SUPER ON *.* TO 'cloud'@'%' WITH GRANT OPTION",
            "GRANT SELECT (`id`, `name`), INSERT ON `cloud`.`user` TO 'cloud'@'%'",
            "GRANT PROXY ON ''@'%' TO 'cloud'@'%'",
        ])
        .unwrap();
        assert_eq!(g["to_any_host"], true);
        assert_eq!(g["process"], true);
        let names = g["names"]["dangerous_count"]["items"].to_string();
        for w in [
            "FILE on *.*",
            "SUPER on *.*",
            "GRANT OPTION on *.*",
            "PROXY on @%",
        ] {
            assert!(names.contains(w), "{w}: {names}");
        }
        let all = p(&["GRANT ALL ON *.* TO cloud@localhost"]).unwrap();
        assert_eq!(all["all_on_everything"], true);
        assert_eq!(all["dangerous_count"], 1);
    }

    #[test]
    fn mysql8_roles_and_dynamic_privileges() {
        let g = p(&[
            "GRANT USAGE ON *.* TO `cloud`@`localhost`",
            "GRANT BACKUP_ADMIN ON *.* TO `cloud`@`localhost`",
            "GRANT `app_rw`@`%`,`r2` TO `cloud`@`localhost`",
            "REVOKE INSERT ON `mysql`.* FROM `cloud`@`localhost`",
            "SET DEFAULT ROLE `app_rw` FOR `cloud`@`localhost`",
        ])
        .unwrap();
        assert_eq!(g["role_grants"], 2, "{g}");
        assert_eq!(g["global_privileges"], json!(["BACKUP_ADMIN"]));
        let m = p(&["GRANT INSERT ON mysql.user TO x@y"]).unwrap();
        assert_eq!(m["dangerous_count"], 1);
    }

    #[test]
    fn odd_output_is_an_error_never_a_panic() {
        for bad in [
            "",
            "GRANT",
            "GRANT ALL ON",
            "GRANT ALL ON *.* TO",
            "GRANT ALL ON `cloud.* TO x",
            "GRANT ((ALL ON *.* TO x",
            "GRANT ALL) ON *.* TO x",
            "hello world",
            "GRANT ALL ON *.* TO x@y \u{0}",
            "GRANT , ON *.* TO x",
        ] {
            assert!(p(&[bad]).is_err(), "{bad:?}");
        }
        let long = format!("GRANT ALL ON *.* TO `{}`@`%`", "a".repeat(MAX_LINE));
        assert!(p(&[&long]).is_err());
        // Quotes and escapes inside names.
        let g = p(&["GRANT SELECT ON `we``ird`.* TO 'o\\'brien'@'h''x'"]).unwrap();
        assert_eq!(g["hosts"], json!(["h'x"]));
    }
}
