//! Server-side facts (`dbserver.*`: the connecting account, its grants and hosts, TLS and
//! bind variables) and the management-server registry (`cs.mshost`).

use super::session::{cell, cell_i64, Session};
use super::{Columns, SOURCE};
use crate::facts::{Fact, Facts, Missing};
use serde_json::{json, Value};

const SRC: &str = "db:server";

/// Server-side facts: grants of the connecting account, TLS, bind address.
pub async fn collect(s: &mut Session, facts: &mut Facts) {
    facts.namespace_complete("dbserver.", SRC);
    current_user(s, facts).await;
    let fact = match s.query("SHOW GRANTS FOR CURRENT_USER()", 1).await {
        Ok(rows) => {
            let lines: Vec<String> = rows.iter().filter_map(|r| cell(r, 0)).collect();
            grants_fact(&lines)
        }
        Err(m) => Fact::from_missing(SRC, m),
    };
    facts.insert("dbserver.grants", fact);
    variables(s, facts).await;
}

/// `dbserver.current_user`, `dbserver.user_hosts`, `dbserver.user_any_host`.
async fn current_user(s: &mut Session, facts: &mut Facts) {
    let cu = match s.query("SELECT CURRENT_USER()", 1).await {
        Ok(rows) => rows.first().and_then(|r| cell(r, 0)),
        Err(m) => {
            for k in ["current_user", "user_hosts", "user_any_host"] {
                facts.insert(format!("dbserver.{k}"), Fact::from_missing(SRC, m.clone()));
            }
            return;
        }
    };
    let Some(cu) = cu else {
        let m = Missing::error("CURRENT_USER() gave no value");
        for k in ["current_user", "user_hosts", "user_any_host"] {
            facts.insert(format!("dbserver.{k}"), Fact::from_missing(SRC, m.clone()));
        }
        return;
    };
    let (u, h) = cu.rsplit_once('@').unwrap_or((cu.as_str(), ""));
    facts.set("dbserver.current_user", SRC, json!({"user": u, "host": h}));
    let user_esc = u.replace('\\', "\\\\").replace('\'', "''");
    let sql = format!("SELECT Host FROM mysql.user WHERE User = '{user_esc}' LIMIT 1000");
    match s.query(&sql, 1).await {
        Ok(rows) => {
            let hosts: Vec<String> = rows.iter().filter_map(|r| cell(r, 0)).collect();
            facts.set(
                "dbserver.user_any_host",
                SRC,
                hosts.iter().any(|h| h == "%"),
            );
            facts.set("dbserver.user_hosts", SRC, hosts);
        }
        Err(m) => {
            facts.insert("dbserver.user_hosts", Fact::from_missing(SRC, m));
            // Without mysql.user, the account in use decides: the server matched this
            // login to CURRENT_USER(), and its host part says where that account may
            // connect from (`%`: anywhere, H11's cloud@'%'). Other accounts of the same
            // name are not visible to an account that cannot read mysql.user.
            facts.set(
                "dbserver.user_any_host",
                "db:server:CURRENT_USER()",
                h == "%",
            );
        }
    }
}

async fn variables(s: &mut Session, facts: &mut Facts) {
    const VARS: [&str; 4] = [
        "have_ssl",
        "require_secure_transport",
        "bind_address",
        "version",
    ];
    let sql = "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
               ('have_ssl','require_secure_transport','bind_address','version')";
    match s.query(sql, 2).await {
        Ok(rows) => {
            for r in &rows {
                if let (Some(k), Some(v)) = (cell(r, 0), cell(r, 1)) {
                    let k = k.to_ascii_lowercase();
                    if VARS.contains(&k.as_str()) {
                        facts.set(format!("dbserver.{k}"), SRC, v);
                    }
                }
            }
        }
        Err(m) => {
            for k in VARS {
                facts.insert(format!("dbserver.{k}"), Fact::from_missing(SRC, m.clone()));
            }
        }
    }
}

/// `dbserver.grants` from the lines of `SHOW GRANTS FOR CURRENT_USER()`: unknown when a
/// line is not understood, or when privileges come through roles (not expanded).
fn grants_fact(lines: &[String]) -> Fact {
    match super::grants::parse_grants(lines) {
        Ok(v) if v["role_grants"].as_u64().unwrap_or(0) > 0 => Fact::from_missing(
            SRC,
            Missing::unsupported(format!(
                "{} role(s) granted to the account: privileges through roles are not expanded",
                v["role_grants"]
            )),
        ),
        Ok(v) => Fact::value(SRC, v),
        Err(e) => Fact::from_missing(SRC, Missing::unsupported(e)),
    }
}

/// Most management servers recorded in `cs.mshost`.
pub const MAX_MSHOSTS: usize = 1000;

/// `cs.mshost`: the live rows of `mshost` (`setup/db/create-schema.sql`: msid, name,
/// service_ip, version, state, last_update, removed), at most [`MAX_MSHOSTS`], in msid
/// order.
pub async fn mshost(s: &mut Session, cols: &Columns, db: &str, facts: &mut Facts) {
    let key = "cs.mshost";
    let src = format!("{SOURCE}:{db}.mshost");
    let needed = [
        "msid",
        "name",
        "service_ip",
        "version",
        "state",
        "last_update",
        "removed",
    ];
    if let Some(c) = needed.iter().find(|c| !cols.has("mshost", c)) {
        let m = Missing::unsupported(format!("no mshost.{c} column in this schema"));
        facts.insert(key, Fact::from_missing(&src, m));
        return;
    }
    let sql = format!(
        "SELECT msid, name, service_ip, version, state, \
         DATE_FORMAT(last_update, '%Y-%m-%dT%H:%i:%sZ') FROM mshost \
         WHERE removed IS NULL ORDER BY msid LIMIT {MAX_MSHOSTS}"
    );
    let fact = match s.query(&sql, 6).await {
        Ok(rows) => {
            let list: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "msid": cell_i64(r, 0).map(Value::from).or_else(|| cell(r, 0).map(Value::from)),
                        "name": cell(r, 1),
                        "service_ip": cell(r, 2),
                        "version": cell(r, 3),
                        "state": cell(r, 4),
                        "last_update": cell(r, 5),
                    })
                })
                .collect();
            Fact::value(&src, Value::Array(list))
        }
        Err(m) => Fact::from_missing(&src, m),
    };
    facts.insert(key, fact);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_summary_drops_hashes() {
        let f = grants_fact(&[
            "GRANT PROCESS ON *.* TO `cloud`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'".into(),
            "GRANT ALL PRIVILEGES ON `cloud`.* TO `cloud`@`%` WITH GRANT OPTION".into(),
        ]);
        let g = f.value.unwrap();
        assert!(!g.to_string().contains("ABCDEF"));
        assert_eq!(g["all_privileges_on"], json!(["cloud.*"]));
        assert_eq!(g["global_privileges"], json!(["PROCESS"]));
        assert_eq!(g["with_grant_option"], json!(true));
        let r = grants_fact(&["GRANT `r1` TO `cloud`@`%`".into()]);
        assert!(r.value.is_none() && r.missing.is_some());
    }
}
