//! Weak suites: the weak classes, CBC at TLS 1.2/1.1, static-RSA key exchange and the
//! finite-field group of the DHE suites.

use super::super::assess::Assessment;
use super::super::suites::suite_name;
use super::Out;
use crate::facts::Missing;
use std::collections::BTreeSet;

pub(in super::super) fn record(a: &Assessment, o: &mut Out) {
    match &a.weak {
        Ok(w) => {
            let items: Vec<String> = w
                .iter()
                .map(|(c, v, n)| format!("{c}: {n} at {v}"))
                .collect();
            let classes: BTreeSet<&String> = w.iter().map(|(c, _, _)| c).collect();
            o.set("weak_ciphers", items);
            o.set(
                "weak_cipher_classes",
                classes.into_iter().cloned().collect::<Vec<_>>(),
            );
        }
        Err(m) => {
            for k in ["weak_ciphers", "weak_cipher_classes"] {
                o.missing(k, m.clone());
            }
        }
    }
    let names = |s: &Option<u16>| s.iter().map(|c| suite_name(*c)).collect::<Vec<_>>();
    o.obs(
        "cbc_tls12",
        a.cbc12.as_ref().map(names).map_err(Clone::clone),
    );
    o.obs(
        "cbc_tls11",
        a.cbc11.as_ref().map(names).map_err(Clone::clone),
    );
    o.obs(
        "rsa_kx",
        a.rsa_kx
            .as_ref()
            .map(|x| {
                x.iter()
                    .map(|(v, c)| format!("{} at {}", suite_name(*c), v.name()))
                    .collect::<Vec<_>>()
            })
            .map_err(Clone::clone),
    );
    match &a.dhe {
        Ok(Some((v, suite, bits))) => {
            o.set("dhe_group_bits", *bits);
            o.set(
                "dhe_suite",
                format!("{} at {}", suite_name(*suite), v.name()),
            );
        }
        Ok(None) => {
            let m = Missing::absent("no DHE suite is accepted");
            o.missing("dhe_group_bits", m.clone());
            o.missing("dhe_suite", m);
        }
        Err(m) => {
            o.missing("dhe_group_bits", m.clone());
            o.missing("dhe_suite", m.clone());
        }
    }
}
