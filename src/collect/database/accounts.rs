//! Accounts, users and roles: per-domain / per-account setting overrides, admin users
//! without 2FA, user 2 (`admin`), the schema version and role permissions.

use super::session::{cell, cell_i64, sql_list, Session};
use super::{scoped, Columns, SOURCE};
use crate::facts::{Fact, Facts, Missing};
use crate::outcome::Named;
use mysql_async::Row;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Settings whose per-domain / per-account overrides are collected.
pub const OVERRIDE_KEYS: &[&str] = &[
    "enable.user.2fa",
    "mandate.user.2fa",
    "api.allowed.source.cidr.list",
    "api.key.access",
    "api.source.cidr.checks.enabled",
    "user.2fa.default.provider",
    "password.policy.minimum.length",
    "password.policy.regex",
    "password.policy.allowPasswordToContainUsername",
    "user.allow.multiple.accounts",
];

/// `cs.<kind>_override.<setting>` (kind `domain` or `account`): two queries whatever the
/// table size: one scan giving, per setting, the total, the `true` count and the 20 most
/// frequent values; and one naming, per (setting, value), the first [`Named::MAX`] owners
/// ([`scoped::named_sql`]), from which the fact names who overrides, and who weakens the
/// global value (`globals`: the global value of each compared setting).
pub async fn overrides(
    s: &mut Session,
    kind: &str,
    cols: &Columns,
    db: &str,
    globals: &BTreeMap<String, String>,
    facts: &mut Facts,
) {
    let prefix = format!("cs.{kind}_override.");
    let src = format!("{SOURCE}:{db}.{kind}_details");
    if !cols.has(&format!("{kind}_details"), "name") {
        let m = Missing::unsupported(format!("no {kind}_details table in this schema"));
        facts.namespace_missing(&prefix, &src, m.reason, m.detail);
        return;
    }
    let keys = sql_list(OVERRIDE_KEYS);
    let agg_sql = format!(
        "SELECT name, v, c, tot, tru FROM (SELECT name, v, c, \
           SUM(c) OVER (PARTITION BY name) AS tot, SUM(t) OVER (PARTITION BY name) AS tru, \
           ROW_NUMBER() OVER (PARTITION BY name ORDER BY c DESC, v) AS rn \
         FROM (SELECT name, LEFT(value, 128) AS v, COUNT(*) AS c, SUM(TRIM(value) = 'true') AS t \
               FROM {kind}_details WHERE name IN ({keys}) GROUP BY name, LEFT(value, 128)) g) w \
         WHERE rn <= 20 ORDER BY name, rn"
    );
    let agg = match s.query(&agg_sql, 5).await {
        Ok(r) => r,
        Err(m) => {
            facts.namespace_missing(&prefix, &src, m.reason, m.detail);
            return;
        }
    };
    // Each fact holds both replies: without the names it would be incomplete, so the
    // namespace is then unknown too (found by the soak in bench/hostile-db.sh).
    let named = match s.query(&scoped::named_sql(kind, cols, &keys), 7).await {
        Ok(r) if r.len() >= scoped::MAX_NAMED_ROWS => {
            let m = Missing::unsupported(format!(
                "more than {} distinct {kind} overrides: not named",
                scoped::MAX_NAMED_ROWS
            ));
            facts.namespace_missing(&prefix, &src, m.reason, m.detail);
            return;
        }
        Ok(r) => r,
        Err(m) => {
            facts.namespace_missing(&prefix, &src, m.reason, m.detail);
            return;
        }
    };
    facts.namespace_complete(&prefix, &src);
    let groups = scoped::groups(kind, &named);
    for (name, mut v) in override_values(&agg) {
        let mine: Vec<&scoped::Group> = groups.iter().filter(|g| g.name == name).collect();
        // Account scope is read only for Account-scope settings (ConfigKey.Scope.Account);
        // the other settings' account_details rows are never consulted.
        let applies = kind == "domain" || name == "api.allowed.source.cidr.list";
        let global = globals.get(&name).filter(|_| applies).map(String::as_str);
        scoped::annotate(kind, &mut v, &mine, global);
        facts.set(format!("{prefix}{name}"), &src, v);
    }
}

fn override_values(agg: &[Row]) -> BTreeMap<String, Value> {
    let mut per: BTreeMap<String, Value> = BTreeMap::new();
    for r in agg {
        let (Some(name), Some(c), Some(tot)) = (cell(r, 0), cell_i64(r, 2), cell_i64(r, 3)) else {
            continue;
        };
        // Boolean.parseBoolean: only "true" (any case) is true.
        let t = cell_i64(r, 4).unwrap_or(0);
        let e = per.entry(name).or_insert_with(
            || json!({"count": tot, "true_count": t, "false_count": tot - t, "values": {}}),
        );
        if let Some(m) = e["values"].as_object_mut() {
            m.insert(cell(r, 1).unwrap_or_default(), Value::from(c));
        }
    }
    per
}

/// `cs.admin_users_without_2fa` and `cs.user2.*`.
pub async fn users(s: &mut Session, cols: &Columns, db: &str, facts: &mut Facts) {
    let src = format!("{SOURCE}:{db}.user");
    admins_without_2fa(s, cols, &src, facts).await;
    user2(s, cols, &src, facts).await;
}

async fn admins_without_2fa(s: &mut Session, cols: &Columns, src: &str, facts: &mut Facts) {
    let key = "cs.admin_users_without_2fa";
    if !cols.has("user", "is_user_2fa_enabled") || !cols.has("account", "type") {
        let m = Missing::unsupported("this schema has no user 2FA columns (added in 4.18)");
        facts.insert(key, Fact::from_missing(src, m));
        return;
    }
    let dom = cols.has("domain", "path");
    let acct = if cols.has("account", "account_name") {
        "a.account_name"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT u.id, u.username, a.type, {}, COUNT(*) OVER (), {acct} FROM user u \
         JOIN account a ON a.id = u.account_id {} \
         WHERE u.removed IS NULL AND a.removed IS NULL AND a.type IN (1, 2) AND a.id <> 1 \
         AND u.state = 'enabled' AND u.is_user_2fa_enabled = 0 ORDER BY u.id LIMIT 100",
        if dom { "d.path" } else { "NULL" },
        if dom {
            "LEFT JOIN domain d ON d.id = a.domain_id"
        } else {
            ""
        }
    );
    match s.query(&sql, 6).await {
        Ok(rows) => {
            let count = rows.first().and_then(|r| cell_i64(r, 4)).unwrap_or(0);
            let role = |r: &Row| {
                if cell_i64(r, 2) == Some(1) {
                    "root_admin"
                } else {
                    "domain_admin"
                }
            };
            let list: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": cell_i64(r, 0),
                        "username": cell(r, 1),
                        "role": role(r),
                        "domain": cell(r, 3),
                        "account": cell(r, 5),
                    })
                })
                .collect();
            let items: Vec<String> = rows
                .iter()
                .take(Named::MAX)
                .map(|r| user_label(r, role(r)))
                .collect();
            let mut n = Named::to_json(&items);
            n["total"] = Value::from(count);
            facts.set(
                key,
                src,
                json!({"count": count, "users": list, "names": {"count": n}}),
            );
        }
        Err(m) => facts.insert(key, Fact::from_missing(src, m)),
    }
}

/// `user bob of account ops in ROOT/eng (domain_admin)`.
fn user_label(r: &Row, role: &str) -> String {
    let user = cell(r, 1).unwrap_or_else(|| format!("id {}", cell(r, 0).unwrap_or_default()));
    let acct = cell(r, 5)
        .map(|a| format!(" of account {a}"))
        .unwrap_or_default();
    let dom = cell(r, 3)
        .map(|p| format!(" in {}", scoped::domain_path(&p)))
        .unwrap_or_default();
    format!("user {user}{acct}{dom} ({role})")
}

/// User 2 (`admin`): H1 re-enables it with password `password` at every start when it
/// is disabled. The password hash is read only to be compared in memory with the hash
/// of the default `password`; it is never kept.
async fn user2(s: &mut Session, cols: &Columns, src: &str, facts: &mut Facts) {
    if !cols.has("user", "state") {
        let m = Missing::unsupported("no user.state column");
        facts.namespace_missing("cs.user2.", src, m.reason, m.detail);
        return;
    }
    let pw_col = if cols.has("user", "password") {
        "password"
    } else {
        "NULL"
    };
    let sql =
        format!("SELECT state, username, removed IS NOT NULL, {pw_col} FROM user WHERE id = 2");
    let rows = match s.query(&sql, 4).await {
        Ok(rows) => rows,
        Err(m) => {
            facts.namespace_missing("cs.user2.", src, m.reason, m.detail);
            return;
        }
    };
    facts.namespace_complete("cs.user2.", src);
    let Some(r) = rows.first() else { return };
    if cell_i64(r, 2) == Some(1) {
        facts.set("cs.user2.state", src, "removed");
    } else if let Some(st) = cell(r, 0) {
        facts.set("cs.user2.state", src, st);
    }
    if let Some(u) = cell(r, 1) {
        facts.set("cs.user2.username", src, u);
    }
    let key = "cs.user2.default_password";
    use crate::collect::userpass;
    match cell(r, 3).map(|h| userpass::matches(&h, userpass::DEFAULT_ADMIN_PASSWORD)) {
        Some(Some(m)) => facts.set(key, src, m),
        Some(None) => facts.insert(
            key,
            Fact::from_missing(
                src,
                Missing::unsupported("the stored password is in no format this auditor knows"),
            ),
        ),
        None => facts.insert(
            key,
            Fact::from_missing(src, Missing::unsupported("no user.password column")),
        ),
    }
}

/// `cs.version`: the newest row of the `version` table.
pub async fn version(s: &mut Session, cols: &Columns, db: &str, facts: &mut Facts) {
    let src = format!("{SOURCE}:{db}.version");
    if !cols.has("version", "version") {
        let m = Missing::unsupported("no version table");
        facts.insert("cs.version", Fact::from_missing(&src, m));
        return;
    }
    let sql = "SELECT version FROM version ORDER BY id DESC LIMIT 1";
    let fact = match s.query(sql, 1).await {
        Ok(rows) => match rows.first().and_then(|r| cell(r, 0)) {
            Some(v) => Fact::value(&src, v.trim().to_string()),
            None => Fact::absent(&src, "the version table is empty"),
        },
        Err(m) => Fact::from_missing(&src, m),
    };
    facts.insert("cs.version", fact);
}

/// Most role-permission rows read; more is reported as not fully inspected.
const MAX_ROLE_RULES: usize = 50_000;

/// Whether a role-permission rule (`api/.../acl/Rule.java`: API name or `*` wildcards,
/// case-insensitive, whole-name match) matches an API name.
pub fn rule_matches(rule: &str, api: &str) -> bool {
    let (rule, api) = (rule.to_ascii_lowercase(), api.to_ascii_lowercase());
    let parts: Vec<&str> = rule.split('*').collect();
    if parts.len() == 1 {
        return rule == api;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !api.starts_with(first) || api.len() < first.len() + last.len() || !api.ends_with(last) {
        return false;
    }
    let mut rest = &api[first.len()..api.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `cs.api_access.denied_to_non_admin`: for each API an advisory workaround names
/// (`vuln::workaround_apis`), whether every live role whose type is not `Admin` denies it,
/// i.e. its first matching rule in `sort_order` is not ALLOW (an API no rule matches falls
/// back to the command's annotation, which allows it:
/// `DynamicRoleBasedAPIAccessChecker.checkApiPermissionByRole`).
pub async fn api_access(s: &mut Session, cols: &Columns, db: &str, facts: &mut Facts) {
    let key = "cs.api_access.denied_to_non_admin";
    let src = format!("{SOURCE}:{db}.role_permissions");
    let apis = crate::vuln::workaround_apis();
    if apis.is_empty() {
        facts.insert(
            key,
            Fact::absent(&src, "no advisory workaround names an API"),
        );
        return;
    }
    if !(cols.has("roles", "role_type")
        && cols.has("role_permissions", "rule")
        && cols.has("role_permissions", "permission"))
    {
        let m =
            Missing::unsupported("no roles/role_permissions tables (dynamic roles came in 4.9)");
        facts.insert(key, Fact::from_missing(&src, m));
        return;
    }
    let removed = if cols.has("roles", "removed") {
        "r.removed IS NULL AND "
    } else {
        ""
    };
    let order = if cols.has("role_permissions", "sort_order") {
        "p.sort_order, p.id"
    } else {
        "p.id"
    };
    let sql = format!(
        "SELECT r.id, p.rule, p.permission FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id \
         WHERE {removed}r.role_type <> 'Admin' ORDER BY r.id, {order} LIMIT {}",
        MAX_ROLE_RULES + 1
    );
    let fact = match s.query(&sql, 3).await {
        Ok(rows) if rows.len() > MAX_ROLE_RULES => Fact::from_missing(
            &src,
            Missing::unsupported(format!(
                "more than {MAX_ROLE_RULES} role permissions; not inspected"
            )),
        ),
        Ok(rows) => Fact::value(&src, denied_per_api(&rows, &apis)),
        Err(m) => Fact::from_missing(&src, m),
    };
    facts.insert(key, fact);
}

fn denied_per_api(rows: &[Row], apis: &[String]) -> Value {
    // Per role, the decision of its first matching rule for each API (None: no rule).
    let mut per_role: BTreeMap<i64, BTreeMap<&str, bool>> = BTreeMap::new();
    for r in rows {
        let Some(id) = cell_i64(r, 0) else { continue };
        let decided = per_role.entry(id).or_default();
        let (Some(rule), Some(perm)) = (cell(r, 1), cell(r, 2)) else {
            continue;
        };
        for api in apis {
            if !decided.contains_key(api.as_str()) && rule_matches(&rule, api) {
                decided.insert(api.as_str(), !perm.trim().eq_ignore_ascii_case("ALLOW"));
            }
        }
    }
    let mut out = serde_json::Map::new();
    for api in apis {
        let denied = !per_role.is_empty()
            && per_role
                .values()
                .all(|d| d.get(api.as_str()).copied().unwrap_or(false));
        out.insert(api.clone(), Value::Bool(denied));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::rule_matches;

    #[test]
    fn role_rules_match_like_cloudstack() {
        assert!(rule_matches("listAnnotations", "listannotations"));
        assert!(rule_matches("list*", "listAnnotations"));
        assert!(rule_matches("*", "addAnnotation"));
        assert!(rule_matches("*Annotation*", "addAnnotation"));
        assert!(rule_matches("l*t*s", "listAnnotations"));
        assert!(!rule_matches("list*", "addAnnotation"));
        assert!(!rule_matches("listAnnotation", "listAnnotations"));
        assert!(!rule_matches("*s", "addAnnotation"));
    }
}
