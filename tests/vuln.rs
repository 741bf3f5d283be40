//! Known-vulnerability matching, from the advisory table's own ranges: every range edge,
//! every fixed release, the three-part scheme, and where the version comes from.

use stackposture::facts::{Fact, Facts};
use stackposture::vuln::{self, Feed, Version};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|| panic!("{s}"))
}

#[test]
fn feed_parses_with_all_50_advisories_dated_and_sourced() {
    let mut f = Feed::default();
    f.apply("builtin", vuln::feed::BUILTIN_TOML)
        .expect("shipped feed parses");
    assert_eq!(f.advisories.len(), 50);
    let mut ids: Vec<&str> = f.advisories.iter().map(|a| a.cve.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "CVE ids are unique");
    assert_eq!(f.date(), Some("2026-09-03"));
    for a in &f.advisories {
        assert!(a.source.starts_with("https://"), "{}: {}", a.cve, a.source);
        // Every fixed release has an announcement date in the feed, never before 2021.
        for x in &a.fixed_in {
            let r = f
                .release(x)
                .unwrap_or_else(|| panic!("{}: no date for {x}", a.cve));
            assert!(r.date.as_str() > "2021", "{x}");
            assert!(r.source.starts_with("https://"), "{x}");
        }
    }
    // The shipped feed never cites material a user cannot open.
    assert!(!vuln::feed::BUILTIN_TOML.contains("shared/"));
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
    let bad = |adv: &str| {
        let text = format!("[feed]\ndate = \"2026-01-01\"\n[[advisory]]\n{adv}\n");
        Feed::default().apply("t", &text)
    };
    let ok = "id = \"CVE-1\"\nseverity = \"low\"\naffected = [\"4.0-4.1\"]\npublished = \"2026-01-01\"\nsource = \"s\"";
    assert!(bad(ok).is_ok());
    for (from, to) in [
        ("4.0-4.1", "4.0<"),
        ("\"low\"", "\"severe\""),
        ("2026-01-01", "2026-13-01"),
        ("2026-01-01", "yesterday"),
        ("source = \"s\"", "source = \"s\"\nunknown = 1"),
        (
            "source = \"s\"",
            "source = \"s\"\nworkaround = [{ setting = \"x\" }]",
        ),
        (
            "source = \"s\"",
            "source = \"s\"\nworkaround = [{ deny_non_admin = [] }]",
        ),
        ("source = \"s\"", "source = \"s\"\nfixed_in = [\"x\"]"),
    ] {
        let e = bad(&ok.replace(from, to)).expect_err(to);
        assert!(e.starts_with("t: "), "{e}");
    }
}

/// Unix seconds of a date.
fn day(d: &str) -> i64 {
    stackposture::evaluate::parse_rfc3339(d).unwrap()
}

fn annotate(f: &mut Facts, feed: &Feed, now: &str) {
    vuln::annotate(f, feed, day(now));
}

fn val(f: &Facts, k: &str) -> serde_json::Value {
    f.facts[k]
        .value
        .clone()
        .unwrap_or_else(|| panic!("{k}: {:?}", f.facts[k]))
}

#[test]
fn lowest_version_wins_and_skew_is_reported() {
    let feed = Feed::builtin();
    let mut f = Facts::new();
    f.insert(
        "pkg.dpkg.cloudstack-management",
        Fact::value("t", serde_json::json!({"version": "4.20.3.0~bookworm"})),
    );
    f.insert("cs.version", Fact::value("db", "4.22.1.1"));
    annotate(&mut f, &feed, "2026-11-28");
    let ver = val(&f, "vuln.cloudstack.version");
    // The schema is newer than the package: the package's code runs, and is matched.
    assert_eq!(ver["version"], "4.20.3.0");
    assert_eq!(ver["source"], "pkg.dpkg.cloudstack-management");
    let skew = val(&f, "vuln.cloudstack.version_skew");
    assert!(
        skew[0]
            .as_str()
            .unwrap()
            .starts_with("the database schema (4.22.1.1) is newer than the dpkg package (4.20.3.0~bookworm): an upgrade in progress or a rolled-back package"),
        "{skew}"
    );
    let inst = val(&f, "vuln.cloudstack.installed");
    assert_eq!(inst["cs.version"], "4.22.1.1");
    assert_eq!(
        inst["pkg.rpm.cloudstack-management"],
        "unknown: not collected"
    );

    // Packages ahead of the schema: the other direction.
    let mut g = Facts::new();
    g.insert("cs.version", Fact::value("db", "4.20.3.0"));
    g.insert(
        "pkg.rpm.cloudstack-management",
        Fact::value(
            "t",
            serde_json::json!({"version": "4.20.3.1", "release": "1.el9"}),
        ),
    );
    annotate(&mut g, &feed, "2026-11-28");
    assert!(val(&g, "vuln.cloudstack.version_skew")[0]
        .as_str()
        .unwrap()
        .contains("RPM package (4.20.3.1) is newer than the database schema (4.20.3.0)"));
    assert_eq!(val(&g, "vuln.cloudstack.version")["version"], "4.20.3.0");

    // Agreeing sources: an empty list; one source: nothing to compare (absent).
    let mut h = Facts::new();
    h.insert("cs.version", Fact::value("db", "4.22.1.1"));
    h.insert(
        "pkg.jar.cloudstack-management",
        Fact::value("t", serde_json::json!({"version": "4.22.1.1"})),
    );
    annotate(&mut h, &feed, "2026-11-28");
    assert_eq!(
        val(&h, "vuln.cloudstack.version_skew"),
        serde_json::json!([])
    );
    let mut one = Facts::new();
    one.insert("cs.version", Fact::value("db", "4.22.1.1"));
    annotate(&mut one, &feed, "2026-11-28");
    assert!(one.facts["vuln.cloudstack.version_skew"].value.is_none());

    // No version at all: unknown, never an empty (passing) list; the feed is still named.
    let mut none = Facts::new();
    none.insert(
        "cs.version",
        Fact::missing("db", stackposture::facts::MissingReason::Timeout, "t"),
    );
    annotate(&mut none, &feed, "2026-11-28");
    assert!(none
        .get("vuln.cloudstack.matched_high")
        .unwrap()
        .value
        .is_none());
    assert_eq!(val(&none, "vuln.cloudstack.feed")["date"], "2026-09-03");
    assert!(val(&none, "vuln.cloudstack.installed")["cs.version"]
        .as_str()
        .unwrap()
        .starts_with("unknown: timeout"));
}

fn with_settings(version: &str, settings: &[(&str, &str)]) -> Facts {
    let mut f = Facts::new();
    f.insert("cs.version", Fact::value("db", version));
    for (k, v) in settings {
        f.insert(
            format!("cs.setting.{k}"),
            Fact::value("db:cloud.configuration", *v),
        );
    }
    f
}

#[test]
fn workaround_in_force_moves_the_advisory_to_mitigated() {
    let feed = Feed::builtin();
    assert_eq!(
        vuln::workaround_apis(),
        vec!["addAnnotation".to_string(), "listAnnotations".to_string()]
    );
    let unfixed = |denied: serde_json::Value, dynamic: &str| {
        let mut f = with_settings("4.22.1.1", &[("dynamic.apichecker.enabled", dynamic)]);
        f.insert(
            "cs.api_access.denied_to_non_admin",
            Fact::value("db", denied),
        );
        annotate(&mut f, &feed, "2026-11-28");
        (
            val(&f, "vuln.cloudstack.matched_unfixed"),
            val(&f, "vuln.cloudstack.mitigated"),
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
}

#[test]
fn setting_workarounds_with_evidence() {
    let feed = Feed::builtin();
    // 4.22.0.0: CVE-2026-25199 (Proxmox, moderate) applies; its workaround is
    // proxmox_vmid in user.vm.denied.details.
    let run = |settings: &[(&str, &str)]| {
        let mut f = with_settings("4.22.0.0", settings);
        annotate(&mut f, &feed, "2026-11-28");
        (
            val(&f, "vuln.cloudstack.matched_other"),
            val(&f, "vuln.cloudstack.mitigated"),
        )
    };
    let has = |v: &serde_json::Value, id: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with(id))
    };
    let (other, mit) = run(&[]);
    assert!(has(&other, "CVE-2026-25199") && !has(&mit, "CVE-2026-25199"));
    let (other, mit) = run(&[("user.vm.denied.details", "rootdisksize, proxmox_vmid")]);
    assert!(!has(&other, "CVE-2026-25199"), "{other}");
    let m = mit
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x.as_str().unwrap().starts_with("CVE-2026-25199"))
        .unwrap();
    assert!(m.as_str().unwrap().contains("user.vm.denied.details = \"rootdisksize, proxmox_vmid\" lists proxmox_vmid (cs.setting.user.vm.denied.details, db:cloud.configuration)"), "{m}");
    // A different item does not count.
    let (other, _) = run(&[("user.vm.denied.details", "proxmox_vmid_x")]);
    assert!(has(&other, "CVE-2026-25199"));
    // SAML switched off on 4.19.0.2 (CVE-2024-41107, important): mitigated, and no longer
    // in matched_high; quota off on 4.19.1.1 (CVE-2024-45461).
    let mut f = with_settings("4.19.0.2", &[("saml2.enabled", "false")]);
    annotate(&mut f, &feed, "2026-11-28");
    assert!(!has(
        &val(&f, "vuln.cloudstack.matched_high"),
        "CVE-2024-41107"
    ));
    assert!(has(&val(&f, "vuln.cloudstack.mitigated"), "CVE-2024-41107"));
    let mut f = with_settings("4.19.0.2", &[("saml2.enabled", "true")]);
    annotate(&mut f, &feed, "2026-11-28");
    assert!(has(
        &val(&f, "vuln.cloudstack.matched_high"),
        "CVE-2024-41107"
    ));
    let mut f = with_settings("4.19.1.1", &[("quota.enable.service", "FALSE")]);
    annotate(&mut f, &feed, "2026-11-28");
    assert!(has(&val(&f, "vuln.cloudstack.mitigated"), "CVE-2024-45461"));
    assert!(!has(
        &val(&f, "vuln.cloudstack.matched_other"),
        "CVE-2024-45461"
    ));
}

#[test]
fn patch_lag_names_the_release_on_the_same_line() {
    let feed = Feed::builtin();
    // 4.20.3.0: the 2026-08-18 batch (4.20.3.1) is waiting; CVE-2026-50112 is critical.
    let mut f = with_settings("4.20.3.0", &[]);
    annotate(&mut f, &feed, "2026-11-28");
    let lag = val(&f, "vuln.cloudstack.patch_lag");
    let e = lag
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["cve"] == "CVE-2026-50112")
        .unwrap();
    assert_eq!(e["fixed_in"], "4.20.3.1");
    assert_eq!(e["fix_available"], "2026-08-18");
    assert_eq!(e["days_since"], 102);
    assert_eq!(e["same_line"], true);
    let w = val(&f, "vuln.cloudstack.fix_waiting_high");
    assert_eq!(w["since"], "2026-08-18");
    assert_eq!(w["upgrade_to"], "4.20.3.1");
    // 4.20.2.0: the 2026-05-05 batch names 4.20.3.0, released 2026-04-20 before its
    // advisory: the fix counts from the advisory's date.
    let mut g = with_settings("4.20.2.0", &[]);
    annotate(&mut g, &feed, "2026-11-28");
    let lag = val(&g, "vuln.cloudstack.patch_lag");
    let e = lag
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["cve"] == "CVE-2026-25077")
        .unwrap();
    assert_eq!(e["fixed_in"], "4.20.3.0");
    assert_eq!(e["fix_available"], "2026-05-05");
    assert_eq!(
        val(&g, "vuln.cloudstack.fix_waiting")["since"],
        "2026-05-05"
    );
    // 4.19.0.0: 4.19.1.0 was announced on 2024-07-22, three days after its advisory.
    let mut h = with_settings("4.19.0.0", &[]);
    annotate(&mut h, &feed, "2026-11-28");
    let lag = val(&h, "vuln.cloudstack.patch_lag");
    let e = lag
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["cve"] == "CVE-2024-41107")
        .unwrap();
    assert_eq!(e["fix_available"], "2024-07-22");
    // 4.21.0.0: no fix on the line; the fix on another line is named.
    let mut k = with_settings("4.21.0.0", &[]);
    annotate(&mut k, &feed, "2026-11-28");
    let lag = val(&k, "vuln.cloudstack.patch_lag");
    let e = lag
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["cve"] == "CVE-2025-66171")
        .unwrap();
    assert_eq!(
        (e["fixed_in"].as_str(), e["same_line"].as_bool()),
        (Some("4.22.0.1"), Some(false))
    );
    // Up to date: nothing waits (absent, not an empty pass by accident).
    let mut n = with_settings("4.22.1.1", &[]);
    annotate(&mut n, &feed, "2026-11-28");
    assert_eq!(val(&n, "vuln.cloudstack.patch_lag"), serde_json::json!([]));
    let fw = &n.facts["vuln.cloudstack.fix_waiting_high"];
    assert!(fw.value.is_none() && fw.missing.as_ref().unwrap().reason.is_known_absent());
}

#[test]
fn support_status_of_each_line() {
    let feed = Feed::builtin();
    let status = |v: &str, now: &str| {
        let mut f = with_settings(v, &[]);
        annotate(&mut f, &feed, now);
        f.facts["vuln.cloudstack.support"].clone()
    };
    let s = |v: &str, now: &str| status(v, now).value.unwrap()["status"].clone();
    assert_eq!(s("4.22.1.1", "2026-11-28"), "supported");
    assert_eq!(s("4.22.1.1", "2027-06-01"), "security-only");
    assert_eq!(s("4.22.1.1", "2027-11-12"), "eol");
    assert_eq!(s("4.20.3.1", "2026-11-28"), "security-only");
    assert_eq!(s("4.21.0.0", "2026-11-28"), "eol");
    assert_eq!(s("4.19.3.0", "2026-11-28"), "eol");
    assert_eq!(s("4.11.3.0", "2026-11-28"), "eol");
    assert_eq!(s("4.23.0.0", "2026-11-28"), "supported");
    let v = status("4.21.0.0", "2026-11-28").value.unwrap();
    assert_eq!(v["type"], "regular");
    assert_eq!(v["security_until"], "2025-11-11");
    // The three-part scheme: the built-in feed does not know line 24 yet: unknown.
    let m = status("24.0.0", "2026-11-28").missing.unwrap();
    assert!(
        m.detail
            .contains("release line 24 is not in the advisory feed"),
        "{}",
        m.detail
    );
}

const EXTRA_FEED: &str = r#"
[feed]
date = "2026-11-20"
sources = ["https://cloudstack.apache.org/blog/next-release-is-24"]

[[line]]
line = "24"
type = "lts"
status = "supported"
full_until = "2028-05-01"
security_until = "2028-11-01"
source = "test"

[[release]]
version = "24.0.1"
date = "2026-11-19"
source = "test"

[[advisory]]
id = "CVE-2099-0001"
severity = "important"
affected = ["4.22.0.0-4.22.1.1", "24.0.0"]
fixed_in = ["4.22.1.2", "24.0.1"]
published = "2026-11-19"
source = "test"
"#;

#[test]
fn a_feed_file_extends_or_replaces_the_builtin_one() {
    let mut feed = Feed::builtin();
    feed.apply("extra.toml", EXTRA_FEED).unwrap();
    assert_eq!(feed.advisories.len(), 51);
    assert_eq!(feed.date(), Some("2026-11-20"));
    // The three-part scheme: 24.0.0 is affected, 24.0.1 is the fix on line 24.
    let mut f = with_settings("24.0.0", &[]);
    annotate(&mut f, &feed, "2026-11-28");
    assert_eq!(
        val(&f, "vuln.cloudstack.matched_high"),
        serde_json::json!(["CVE-2099-0001 (important; fixed in 24.0.1)"])
    );
    assert_eq!(val(&f, "vuln.cloudstack.upgrade_to"), "24.0.1");
    assert_eq!(val(&f, "vuln.cloudstack.support")["status"], "supported");
    let fw = val(&f, "vuln.cloudstack.fix_waiting_high");
    assert_eq!(fw["since"], "2026-11-19");
    let files = &val(&f, "vuln.cloudstack.feed")["files"];
    assert_eq!(files[1]["origin"], "extra.toml");
    assert_eq!(files[1]["mode"], "extend");
    // Edges of the new range on the 4.x line: 4.22.1.1 in, 4.22.1.2 out.
    let mut g = with_settings("4.22.1.1", &[]);
    annotate(&mut g, &feed, "2026-11-28");
    assert_eq!(
        val(&g, "vuln.cloudstack.matched_high")[0],
        "CVE-2099-0001 (important; fixed in 4.22.1.2)"
    );
    let mut h = with_settings("4.22.1.2", &[]);
    annotate(&mut h, &feed, "2026-11-28");
    assert_eq!(
        val(&h, "vuln.cloudstack.matched_high"),
        serde_json::json!([])
    );
    // 24.0.1 and 24.1.0 are past it.
    for v in ["24.0.1", "24.1.0"] {
        let mut k = with_settings(v, &[]);
        annotate(&mut k, &feed, "2026-11-28");
        assert_eq!(
            val(&k, "vuln.cloudstack.matched_high"),
            serde_json::json!([]),
            "{v}"
        );
    }
    // Replace: only the new file's advisories remain.
    let mut r = Feed::builtin();
    r.apply(
        "r.toml",
        &EXTRA_FEED.replace("[feed]\n", "[feed]\nmode = \"replace\"\n"),
    )
    .unwrap();
    assert_eq!(r.advisories.len(), 1);
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.date(), Some("2026-11-20"));
    // The same id replaces the built-in entry.
    let mut s = Feed::builtin();
    s.apply(
        "s.toml",
        &EXTRA_FEED.replace("CVE-2099-0001", "CVE-2025-22828"),
    )
    .unwrap();
    assert_eq!(s.advisories.len(), 50);
    assert!(s
        .advisories
        .iter()
        .any(|a| a.cve == "CVE-2025-22828" && a.severity == "important"));
}
