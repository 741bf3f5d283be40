//! Protocol versions: the rustls handshakes (`tls13`, `tls12`), the hand-built hellos
//! (`protocol_probes`), and from them `protocols` and `tls`.

use super::super::assess::{Assessment, Obs};
use super::super::hello::Verdict;
use super::super::suites;
use super::Out;
use crate::facts::Missing;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Records the version facts. Returns what `tls` says: `Ok(true)` when some version was
/// accepted, `Ok(false)` when every probe was refused with a TLS answer, `Err` otherwise.
pub(in super::super) fn record(a: &Assessment, o: &mut Out) -> Obs<bool> {
    let mut protocols: Obs<BTreeSet<String>> = Ok(BTreeSet::new());
    let mut any_accepted = false;
    let first_err = |protocols: &mut Obs<BTreeSet<String>>, m: Missing| {
        if protocols.is_ok() {
            *protocols = Err(m);
        }
    };
    for (key, m, vname) in [
        ("tls13", &a.tls13, "TLSv1.3"),
        ("tls12", &a.tls12, "TLSv1.2"),
    ] {
        match m {
            Some(Ok(m)) => {
                let mut obj = serde_json::Map::new();
                obj.insert("accepted".into(), json!(m.negotiated.is_some()));
                if let Some((v, c)) = &m.negotiated {
                    obj.insert("version".into(), json!(v));
                    obj.insert("cipher".into(), json!(c));
                    any_accepted = true;
                    if let Ok(p) = &mut protocols {
                        p.insert(vname.to_string());
                    }
                } else if let Some(e) = &m.error {
                    obj.insert("error".into(), json!(e));
                }
                o.set(key, Value::Object(obj));
            }
            Some(Err(e)) => {
                o.missing(key, e.clone());
                first_err(&mut protocols, e.clone().context(vname));
            }
            None => {}
        }
    }
    let mut probes = serde_json::Map::new();
    for (v, r) in &a.legacy {
        let vname = v.name();
        let text = match r {
            Ok(Verdict::Accepted { suite }) => {
                any_accepted = true;
                if let Ok(p) = &mut protocols {
                    p.insert(vname.clone());
                }
                let n = suites::suite(*suite).map(|x| x.name).unwrap_or("?");
                format!("accepted ({n})")
            }
            Ok(Verdict::Refused(why) | Verdict::Closed(why)) => format!("refused ({why})"),
            Err(e) => {
                first_err(&mut protocols, e.clone().context(&vname));
                format!("unknown ({})", e.detail)
            }
        };
        probes.insert(vname, json!(text));
    }
    o.set("protocol_probes", Value::Object(probes));
    let tls = match &protocols {
        _ if any_accepted => Ok(true),
        Ok(_) => Ok(false),
        Err(e) => Err(e.clone()),
    };
    o.obs("tls", tls.clone());
    o.obs(
        "protocols",
        protocols.map(|set| set.into_iter().collect::<Vec<_>>()),
    );
    tls
}
