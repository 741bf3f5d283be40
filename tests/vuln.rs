//! Known-vulnerability matching, from the advisory table's own ranges: every range edge,
//! every fixed release, the three-part scheme, and where the version comes from.

use stackposture::facts::{Fact, Facts};
use stackposture::vuln::{self, Version};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|| panic!("{s}"))
}

#[test]
fn table_parses_with_all_50_advisories() {
    let t = vuln::parse_table(vuln::ADVISORIES_TSV).expect("shipped table parses");
    assert_eq!(t.len(), 50);
    let mut ids: Vec<&str> = t.iter().map(|a| a.cve.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "CVE ids are unique");
}

#[test]
fn every_range_edge_from_the_table() {
    let t = vuln::builtin();
    for a in &t {
        for r in &a.affected {
            if let Some(from) = &r.from {
                assert!(a.affects(from), "{}: lower edge {from} is affected", a.cve);
                // One step below the lower edge is outside this range.
                let mut below = from.0.clone();
                while below.len() < 4 {
                    below.push(0);
                }
                if let Some(i) = below.iter().rposition(|x| *x > 0) {
                    below[i] -= 1;
                    for x in below.iter_mut().skip(i + 1) {
                        *x = 999;
                    }
                    assert!(
                        !r.contains(&Version(below.clone())),
                        "{}: {below:?} below {from}",
                        a.cve
                    );
                }
            }
            if let Some(to) = &r.to {
                assert_eq!(r.contains(to), r.to_inclusive, "{}: upper edge {to}", a.cve);
                if r.to_inclusive {
                    let mut next = to.0.clone();
                    while next.len() < 4 {
                        next.push(0);
                    }
                    *next.last_mut().unwrap() += 1;
                    assert!(
                        !r.contains(&Version(next.clone())),
                        "{}: {next:?} above {to}",
                        a.cve
                    );
                }
            }
        }
        // The release the advisory tells users to upgrade to is never affected by it.
        for f in &a.fixed_in {
            assert!(!a.affects(f), "{}: fixed release {f} must not match", a.cve);
        }
    }
}

#[test]
fn known_versions() {
    let t = vuln::builtin();
    // 4.19.0.1 is the last affected 4.19 release of CVE-2024-38346; 4.19.0.2 fixes it.
    let m = vuln::match_version(&t, &v("4.19.0.1"));
    assert!(
        m.high
            .contains(&"CVE-2024-38346 (important; fixed in 4.19.0.2)".to_string()),
        "{m:?}"
    );
    let m2 = vuln::match_version(&t, &v("4.19.0.2"));
    assert!(!m2.high.iter().any(|x| x.starts_with("CVE-2024-38346")));
    // 4.18.2.0 (inclusive upper edge) is affected; 4.18.2.1 is not.
    assert!(vuln::match_version(&t, &v("4.18.2.0"))
        .high
        .iter()
        .any(|x| x.starts_with("CVE-2024-39864")));
    assert!(!vuln::match_version(&t, &v("4.18.2.1"))
        .high
        .iter()
        .any(|x| x.starts_with("CVE-2024-39864")));
    // Exclusive edge "4.0.0<4.20.2": 4.20.1.99 in, 4.20.2 (= 4.20.2.0) out.
    assert!(vuln::match_version(&t, &v("4.20.1.99"))
        .other
        .iter()
        .any(|x| x.starts_with("CVE-2025-59454")));
    assert!(!vuln::match_version(&t, &v("4.20.2"))
        .other
        .iter()
        .any(|x| x.starts_with("CVE-2025-59454")));
    // "4.19.1.0 only".
    assert!(vuln::match_version(&t, &v("4.19.1.0"))
        .high
        .iter()
        .any(|x| x.starts_with("CVE-2024-42222")));
    assert!(!vuln::match_version(&t, &v("4.19.1.1"))
        .high
        .iter()
        .any(|x| x.starts_with("CVE-2024-42222")));
    // A line with no fix (4.21: fixes only on 4.22).
    let m = vuln::match_version(&t, &v("4.21.0.0"));
    assert!(
        m.high.iter().any(|x| x.contains("no fix on the 4.21 line")),
        "{m:?}"
    );
    assert!(m.upgrade_to.unwrap().contains("4.22.1.1"));
    // Newest releases: nothing with a fix applies; the unfixed annotation CVE does.
    for s in ["4.22.1.1", "4.23.0.0", "24.0.0", "24.1.0"] {
        let m = vuln::match_version(&t, &v(s));
        assert!(m.high.is_empty() && m.other.is_empty(), "{s}: {m:?}");
        assert_eq!(m.unfixed.len(), 1, "{s}");
        assert_eq!(m.upgrade_to, None);
    }
    // 4.19.3.0 is the last 4.19 release; later advisories name no 4.19 fix.
    let u = vuln::match_version(&t, &v("4.19.3.0")).upgrade_to.unwrap();
    assert!(u.starts_with("no 4.19 release fixes every advisory"), "{u}");
    assert_eq!(
        vuln::match_version(&t, &v("4.20.3.0"))
            .upgrade_to
            .as_deref(),
        Some("4.20.3.1")
    );
}

#[test]
fn version_parsing() {
    assert_eq!(v("4.16.1"), v("4.16.1.0"));
    assert!(v("24.0.0") > v("4.23.0.0"));
    assert_eq!(v("24.0.0").line(), "24");
    assert_eq!(v("4.19.1.3").line(), "4.19");
    assert_eq!(v("4.19.1.3-SNAPSHOT"), v("4.19.1.3"));
    assert_eq!(v("4.19.1.3~focal"), v("4.19.1.3"));
    assert_eq!(v("1:4.20.0.0-1"), v("4.20.0.0"));
    for bad in ["", "x", "4", "Apache CloudStack*", "4..1"] {
        assert!(Version::parse(bad).is_none(), "{bad:?}");
    }
    assert!(vuln::parse_table("CVE-1\tlow\t4.0<\t4.1\n").is_err());
    assert!(vuln::parse_table("CVE-1\tsevere\t4.0\t4.1\n").is_err());
}

#[test]
fn database_version_wins_over_packages() {
    let mut f = Facts::new();
    f.insert(
        "pkg.dpkg.cloudstack-management",
        Fact::value("t", serde_json::json!({"version": "4.18.0.0"})),
    );
    f.insert("cs.version", Fact::value("db", "4.22.1.1"));
    vuln::annotate(&mut f);
    let ver = f.facts["vuln.cloudstack.version"].value.clone().unwrap();
    assert_eq!(ver["version"], "4.22.1.1");
    assert_eq!(ver["source"], "cs.version");
    let mut g = Facts::new();
    g.insert(
        "cs.version",
        Fact::missing("db", stackposture::facts::MissingReason::Timeout, "t"),
    );
    g.insert(
        "pkg.dpkg.cloudstack-management",
        Fact::value("t", serde_json::json!({"version": "4.18.0.0"})),
    );
    vuln::annotate(&mut g);
    assert_eq!(
        g.facts["vuln.cloudstack.version"].value.clone().unwrap()["version"],
        "4.18.0.0"
    );
    let mut h = Facts::new();
    vuln::annotate(&mut h);
    assert!(
        h.get("vuln.cloudstack.matched_high")
            .unwrap()
            .value
            .is_none(),
        "no version: unknown, never an empty (passing) list"
    );
}

#[test]
fn workaround_in_force_moves_the_advisory_to_mitigated() {
    assert_eq!(
        vuln::workaround_apis(),
        vec!["addAnnotation".to_string(), "listAnnotations".to_string()]
    );
    let unfixed = |denied: serde_json::Value, dynamic: &str| {
        let mut f = Facts::new();
        f.insert("cs.version", Fact::value("db", "4.22.1.1"));
        f.insert(
            "cs.setting.dynamic.apichecker.enabled",
            Fact::value("db", dynamic),
        );
        f.insert(
            "cs.api_access.denied_to_non_admin",
            Fact::value("db", denied),
        );
        vuln::annotate(&mut f);
        let get = |k: &str| f.facts[k].value.clone().unwrap();
        (
            get("vuln.cloudstack.matched_unfixed"),
            get("vuln.cloudstack.mitigated"),
        )
    };
    let both = serde_json::json!({"addAnnotation": true, "listAnnotations": true});
    let (u, m) = unfixed(both.clone(), "true");
    assert_eq!(u, serde_json::json!([]));
    assert!(m[0].as_str().unwrap().starts_with("CVE-2025-22828 (low;"));
    // Half the workaround, or the static checker (role permissions not enforced): open.
    let (u, m) = unfixed(
        serde_json::json!({"addAnnotation": true, "listAnnotations": false}),
        "true",
    );
    assert!(u[0].as_str().unwrap().starts_with("CVE-2025-22828"));
    assert_eq!(m, serde_json::json!([]));
    let (u, _) = unfixed(both, "false");
    assert!(u[0].as_str().unwrap().starts_with("CVE-2025-22828"));
    // The workaround column is validated.
    assert!(vuln::parse_table("CVE-1\tlow\t4.16.0+\tnone\tnote\tallow-all:x\n").is_err());
}
