//! Per-domain / per-account overrides by name, and whether each weakens the global value.
//!
//! CloudStack reads a setting with Domain or Account scope from `domain_details` /
//! `account_details` first (`ConfigKey.valueIn`, `DomainDetailsDaoImpl`,
//! `AccountDetailsDaoImpl`): a row there replaces the global value for that domain or
//! account. [`weakens`] says, per setting the catalog checks globally, whether an override
//! value is weaker than the global one; the collector names every domain and account
//! concerned (up to [`Named::MAX`], with the total) so that a finding says what to fix.

use super::session::{cell, cell_i64};
use super::Columns;
use crate::outcome::Named;
use mysql_async::Row;
use serde_json::{json, Map, Value};
use std::net::IpAddr;

/// Most rows of the named query: (setting, value) groups times at most [`Named::MAX`] rows.
pub const MAX_NAMED_ROWS: usize = 20_000;

/// The code defaults (`ConfigKey` default values at the reference commit) of the settings
/// whose overrides are compared, used when the global row is absent.
pub const GLOBAL_DEFAULTS: &[(&str, &str)] = &[
    ("enable.user.2fa", "false"),
    ("mandate.user.2fa", "false"),
    ("api.allowed.source.cidr.list", "0.0.0.0/0,::/0"),
    ("user.2fa.default.provider", "totp"),
    ("password.policy.minimum.length", "0"),
    ("password.policy.allowPasswordToContainUsername", "true"),
];

/// The query naming who overrides what: per (setting, value), the number of rows and the
/// first [`Named::MAX`] rows (in id order) with the owner's names.
pub fn named_sql(kind: &str, cols: &Columns, keys: &str) -> String {
    let opt = |ok: bool, expr: &str| if ok { expr } else { "NULL" }.to_string();
    let (owner_col, p, n, u, joins) = if kind == "domain" {
        (
            "domain_id",
            opt(cols.has("domain", "path"), "o.path"),
            "NULL".to_string(),
            opt(cols.has("domain", "uuid"), "o.uuid"),
            "LEFT JOIN domain o ON o.id = x.domain_id".to_string(),
        )
    } else {
        let dom = cols.has("account", "domain_id");
        (
            "account_id",
            opt(dom && cols.has("domain", "path"), "d.path"),
            opt(cols.has("account", "account_name"), "o.account_name"),
            opt(cols.has("account", "uuid"), "o.uuid"),
            format!(
                "LEFT JOIN account o ON o.id = x.account_id{}",
                if dom {
                    " LEFT JOIN domain d ON d.id = o.domain_id"
                } else {
                    ""
                }
            ),
        )
    };
    format!(
        "SELECT name, value, c, oid, p, n, u FROM (SELECT x.name, x.value, x.id, x.{owner_col} AS oid, \
           COUNT(*) OVER (PARTITION BY x.name, x.value) AS c, \
           ROW_NUMBER() OVER (PARTITION BY x.name, x.value ORDER BY x.id) AS rn, \
           {p} AS p, {n} AS n, {u} AS u \
         FROM {kind}_details x {joins} WHERE x.name IN ({keys})) w \
         WHERE rn <= {} ORDER BY name, c DESC, value, rn LIMIT {MAX_NAMED_ROWS}",
        Named::MAX
    )
}

/// `/` -> `ROOT`, `/eng/dev/` -> `ROOT/eng/dev` (CloudStack's domain paths).
pub fn domain_path(path: &str) -> String {
    let t = path.trim().trim_matches('/');
    if t.is_empty() {
        "ROOT".into()
    } else {
        format!("ROOT/{t}")
    }
}

/// How an owner is named: `ROOT/eng (uuid ...)` or `account alice in ROOT/eng (uuid ...)`.
pub fn owner_label(
    kind: &str,
    id: Option<i64>,
    path: Option<&str>,
    name: Option<&str>,
    uuid: Option<&str>,
) -> String {
    let id = id.map_or("?".into(), |i| i.to_string());
    let uuid = uuid.map(|u| format!(" (uuid {u})")).unwrap_or_default();
    if kind == "domain" {
        match path {
            Some(p) => format!("{}{uuid}", domain_path(p)),
            None => format!("domain id {id}{uuid}"),
        }
    } else {
        let who = name.map_or(format!("account id {id}"), |n| format!("account {n}"));
        match path {
            Some(p) => format!("{who} in {}{uuid}", domain_path(p)),
            None => format!("{who}{uuid}"),
        }
    }
}

/// One (setting, value) group of the named query.
pub struct Group {
    pub name: String,
    pub value: String,
    pub count: u64,
    /// (owner id, raw owner name for the sample, label).
    pub owners: Vec<(Option<i64>, Option<String>, String)>,
}

/// The named query's rows as groups, in reply order.
pub fn groups(kind: &str, rows: &[Row]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for r in rows {
        let (Some(name), Some(value)) = (cell(r, 0), cell(r, 1)) else {
            continue;
        };
        let count = cell_i64(r, 2).unwrap_or(1).max(1) as u64;
        let (id, path, n, uuid) = (cell_i64(r, 3), cell(r, 4), cell(r, 5), cell(r, 6));
        let label = owner_label(kind, id, path.as_deref(), n.as_deref(), uuid.as_deref());
        let raw = if kind == "domain" { path } else { n };
        match out.last_mut() {
            Some(g) if g.name == name && g.value == value => g.owners.push((id, raw, label)),
            _ => out.push(Group {
                name,
                value,
                count,
                owners: vec![(id, raw, label)],
            }),
        }
    }
    out
}

/// Whether `value` at a narrower scope is weaker than the `global` value of `setting`;
/// `Some(why)` when it is. Settings not listed here are never called weaker.
pub fn weakens(setting: &str, global: &str, value: &str) -> Option<String> {
    let is_true = |s: &str| s.trim().eq_ignore_ascii_case("true");
    match setting {
        "enable.user.2fa" | "mandate.user.2fa" if is_true(global) && !is_true(value) => {
            Some("2FA switched off".into())
        }
        "password.policy.allowPasswordToContainUsername" if !is_true(global) && is_true(value) => {
            Some("passwords may contain the username".into())
        }
        "user.2fa.default.provider"
            if value.trim().eq_ignore_ascii_case("staticpin")
                && !global.trim().eq_ignore_ascii_case("staticpin") =>
        {
            Some("static PIN instead of TOTP".into())
        }
        "password.policy.minimum.length" => {
            let g: i64 = global.trim().parse().unwrap_or(0);
            match value.trim().parse::<i64>() {
                Ok(v) if v < g => Some(format!("minimum length {v} < global {g}")),
                Ok(_) => None,
                Err(_) => Some("not an integer".into()),
            }
        }
        "api.allowed.source.cidr.list" => cidr_wider(global, value),
        _ => None,
    }
}

/// A parsed CIDR (`NetUtils.isValidIp4Cidr` / `isValidIp6Cidr`): address and prefix.
fn cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, p) = s.trim().split_once('/')?;
    let a: IpAddr = a.parse().ok()?;
    let p: u8 = p.parse().ok()?;
    let max = if a.is_ipv4() { 32 } else { 128 };
    (p <= max).then_some((a, p))
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
        IpAddr::V6(v) => u128::from(v),
    }
}

/// `inner` lies inside `outer` (same family, prefix at least as long, same network).
fn within(inner: (IpAddr, u8), outer: (IpAddr, u8)) -> bool {
    if inner.0.is_ipv4() != outer.0.is_ipv4() || inner.1 < outer.1 {
        return false;
    }
    // IPv4 addresses sit in the top 32 bits (see `bits`), so one mask fits both.
    let plen = u32::from(outer.1);
    if plen == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - plen);
    (bits(inner.0) & mask) == (bits(outer.0) & mask)
}

/// An allow-list wider than the global one: an entry open to every address (`/0`), or an
/// entry not inside any global entry. Entries CloudStack cannot parse match nothing
/// (`NetUtils.isIpInCidrList` skips them) and are not wider.
fn cidr_wider(global: &str, value: &str) -> Option<String> {
    // ApiServer removes every whitespace before splitting (`replaceAll("\\s", "")`).
    let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (global, value) = (strip(global), strip(value));
    let (global, value) = (global.as_str(), value.as_str());
    let globals: Vec<(IpAddr, u8)> = global.split(',').filter_map(cidr).collect();
    let mut wider = Vec::new();
    for e in value.split(',').filter_map(cidr) {
        if e.1 == 0 || !globals.iter().any(|g| within(e, *g)) {
            wider.push(format!("{}/{}", e.0, e.1));
        }
    }
    (!wider.is_empty()).then(|| {
        if wider.iter().any(|w| w.ends_with("/0")) {
            format!("open to every address ({})", wider.join(", "))
        } else {
            format!("not inside the global list: {}", wider.join(", "))
        }
    })
}

/// Shortens a value for a label (values reach the report; the view escapes them).
fn short(v: &str) -> String {
    if v.chars().count() > 60 {
        v.chars().take(57).collect::<String>() + "..."
    } else {
        v.to_string()
    }
}

/// Items (at most [`Named::MAX`] kept) and their total.
#[derive(Default)]
struct List(Vec<String>, u64);

impl List {
    fn add(&mut self, g: &Group, item: impl Fn(&str) -> String) {
        for (_, _, l) in &g.owners {
            if self.0.len() < Named::MAX {
                self.0.push(item(l));
            }
        }
        self.1 += g.count;
    }
    fn json(&self) -> Value {
        let mut n = Named::to_json(&self.0);
        n["total"] = Value::from(self.1);
        n
    }
}

/// Adds `sample`, `names` (`count`, `true_count`, `false_count`, `weakening`), `weakening`
/// and `global` to the override fact of one setting.
pub fn annotate(kind: &str, fact: &mut Value, groups: &[&Group], global: Option<&str>) {
    let id_key = format!("{kind}_id");
    let mut sample = Vec::new();
    let (mut all, mut tru, mut fal, mut weak) = (
        List::default(),
        List::default(),
        List::default(),
        List::default(),
    );
    for g in groups {
        for (id, raw, _) in &g.owners {
            if sample.len() < 50 {
                sample.push(json!({id_key.as_str(): id, kind: raw, "value": g.value}));
            }
        }
        let v = short(&g.value);
        all.add(g, |l| format!("{l} = {v}"));
        if g.value.trim().eq_ignore_ascii_case("true") {
            tru.add(g, str::to_string);
        } else {
            fal.add(g, |l| format!("{l} = {v}"));
        }
        if let Some(why) = global.and_then(|gl| weakens(&g.name, gl, &g.value)) {
            weak.add(g, |l| format!("{l} = {v} ({why})"));
        }
    }
    let mut names = Map::new();
    names.insert("count".into(), all.json());
    names.insert("true_count".into(), tru.json());
    names.insert("false_count".into(), fal.json());
    if let Some(gl) = global {
        names.insert("weakening".into(), weak.json());
        fact["weakening"] = Value::from(weak.1);
        fact["global"] = Value::from(gl);
    }
    fact["sample"] = Value::Array(sample);
    fact["names"] = Value::Object(names);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_labels() {
        assert_eq!(domain_path("/"), "ROOT");
        assert_eq!(domain_path("/eng/dev/"), "ROOT/eng/dev");
        assert_eq!(
            owner_label(
                "account",
                Some(5),
                Some("/eng/"),
                Some("alice"),
                Some("a-5")
            ),
            "account alice in ROOT/eng (uuid a-5)"
        );
        assert_eq!(
            owner_label("domain", Some(3), None, None, None),
            "domain id 3"
        );
    }

    #[test]
    fn cidr_lists_wider_or_narrower() {
        let g = "10.0.0.0/8,2001:db8::/32";
        assert!(weakens("api.allowed.source.cidr.list", g, "10.1.0.0/16").is_none());
        assert!(weakens(
            "api.allowed.source.cidr.list",
            g,
            "2001:db8:1::/48, 10.2.3.4/32"
        )
        .is_none());
        let w = weakens("api.allowed.source.cidr.list", g, "0.0.0.0/0").unwrap();
        assert!(w.contains("every address"), "{w}");
        assert!(weakens("api.allowed.source.cidr.list", g, "::/0").is_some());
        assert!(weakens("api.allowed.source.cidr.list", g, " 0.0.0.0 / 0 ").is_some());
        assert!(weakens("api.allowed.source.cidr.list", g, "192.0.2.0/24").is_some());
        assert!(weakens("api.allowed.source.cidr.list", g, "10.0.0.0/7").is_some());
        // Unparseable entries match nothing in CloudStack: not wider.
        assert!(weakens("api.allowed.source.cidr.list", g, "garbage,10.0.0.0/33").is_none());
        // An open global list: only /0 entries are reported.
        let open = "0.0.0.0/0,::/0";
        assert!(weakens("api.allowed.source.cidr.list", open, "192.0.2.0/24").is_none());
        assert!(weakens("api.allowed.source.cidr.list", open, "0.0.0.0/0").is_some());
    }

    #[test]
    fn other_settings() {
        assert!(weakens("enable.user.2fa", "true", "false").is_some());
        assert!(weakens("enable.user.2fa", "true", "TRUE").is_none());
        assert!(weakens("enable.user.2fa", "false", "false").is_none());
        assert!(weakens("password.policy.minimum.length", "12", "8").is_some());
        assert!(weakens("password.policy.minimum.length", "12", "16").is_none());
        assert!(weakens("password.policy.minimum.length", "12", "x").is_some());
        assert!(weakens(
            "password.policy.allowPasswordToContainUsername",
            "false",
            "true"
        )
        .is_some());
        assert!(weakens(
            "password.policy.allowPasswordToContainUsername",
            "true",
            "true"
        )
        .is_none());
        assert!(weakens("user.2fa.default.provider", "totp", "staticpin").is_some());
        assert!(weakens("api.key.access", "false", "true").is_none());
    }
}
