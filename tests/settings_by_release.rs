//! Settings by release (issue 11, item 6): a setting the installed release does not have
//! makes its checks not_applicable with the reason; a missing setting takes the installed
//! release's default where the default changed; a NULL value is the release's default,
//! never an error; the `[[setting]]` table is validated at load.

use serde_json::{json, Value};
use stackposture::catalog::{Catalog, CatalogSource, Profile};
use stackposture::evaluate::{evaluate_check, CheckResult, EvalContext, Outcome};
use stackposture::facts::{Fact, Facts, MissingReason};

fn all_profile() -> Profile {
    toml::from_str("name = \"all\"\ntitle = \"all\"\ndescription = \"every check\"\n").unwrap()
}

/// Facts of a `cloud` database of release `version` whose configuration table was read
/// completely and holds `rows` (name -> value).
fn db(version: Option<&str>, rows: &[(&str, Value)]) -> Facts {
    let mut f = Facts::new();
    for p in [
        "cs.setting.",
        "cs.setting_info.",
        "cs.setting_secret.",
        "cs.domain_override.",
    ] {
        f.namespace_complete(p, "db:cloud.configuration");
    }
    match version {
        Some(v) => f.set("cs.version", "db:cloud.version", v),
        None => f.insert(
            "cs.version",
            Fact::missing(
                "db",
                MissingReason::NotCollected,
                "database collection disabled (--no-db)",
            ),
        ),
    }
    for (n, v) in rows {
        f.set(
            format!("cs.setting.{n}"),
            "db:cloud.configuration",
            v.clone(),
        );
        f.set(
            format!("cs.setting_info.{n}"),
            "db:cloud.configuration",
            json!({"value_set": !v.is_null()}),
        );
    }
    f
}

fn eval(id: &str, facts: &Facts) -> CheckResult {
    let cat = Catalog::shared_builtin().unwrap();
    let c = cat.check(id).unwrap();
    evaluate_check(
        c,
        &all_profile(),
        facts,
        &EvalContext { now: 1_790_000_000 },
    )
}

#[test]
fn a_setting_the_release_lacks_is_not_applicable_with_the_reason() {
    let r = eval("CS-SESS-001", &db(Some("4.11.3.0"), &[]));
    assert_eq!(r.outcome, Outcome::NotApplicable, "{r:?}");
    assert_eq!(
        r.reason.as_deref(),
        Some("setting api.sessionkey.cookie.samesite was added in 4.18.2.4 (on 4.18), 4.19.2.0 (on 4.19), 4.20.0.0; installed 4.11.3.0 (cs.version)")
    );
    // "No domain switches 2FA off" on a release without 2FA.
    let r = eval("CS-SET-006", &db(Some("4.11.3.0"), &[]));
    assert_eq!(r.outcome, Outcome::NotApplicable, "{r:?}");
    assert!(r
        .reason
        .unwrap()
        .contains("setting enable.user.2fa was added in 4.18.0.0; installed 4.11.3.0"));
    // Backported: 4.19.2 has it (the default Lax applies), 4.19.1 does not.
    assert_eq!(
        eval("CS-SESS-001", &db(Some("4.19.2.0"), &[])).outcome,
        Outcome::Pass
    );
    assert_eq!(
        eval("CS-SESS-001", &db(Some("4.19.1.0"), &[])).outcome,
        Outcome::NotApplicable
    );
    // A row for the setting proves the deployment has it, whatever the version says.
    let r = eval(
        "CS-SESS-001",
        &db(
            Some("4.11.3.0"),
            &[("api.sessionkey.cookie.samesite", json!("None"))],
        ),
    );
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
}

#[test]
fn unknown_release_is_unknown_not_the_current_default() {
    let r = eval("CS-SESS-001", &db(None, &[]));
    assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("the installed release is unknown"),
        "{reason}"
    );
    // The release fact is part of the evidence.
    assert!(r.evidence.observed.iter().any(|o| o.fact == "cs.version"));
    // The packages can tell the release instead (vuln.cloudstack.version).
    let mut f = db(None, &[]);
    f.set(
        "vuln.cloudstack.version",
        "vuln",
        json!({"version": "4.11.2.0", "source": "pkg.rpm.cloudstack-management"}),
    );
    let r = eval("CS-SESS-001", &f);
    assert_eq!(r.outcome, Outcome::NotApplicable, "{r:?}");
    assert!(r
        .reason
        .unwrap()
        .contains("installed 4.11.2.0 (vuln.cloudstack.version)"));
}

#[test]
fn a_changed_default_is_the_installed_releases() {
    // integration.api.port: no default in 4.11 (off), 8096 in 4.12.0, 0 from 4.13.0.
    let r = eval("CS-SET-009", &db(Some("4.12.0.0"), &[]));
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
    let o = &r.evidence.observed[0];
    assert!(o.default_applied);
    assert_eq!(o.value, Some(json!("8096")));
    assert!(
        o.missing
            .as_ref()
            .unwrap()
            .detail
            .contains("the default of integration.api.port in 4.12.0.0"),
        "{o:?}"
    );
    assert_eq!(
        eval("CS-SET-009", &db(Some("4.11.3.0"), &[])).outcome,
        Outcome::Pass
    );
    // 4.19.0.0: the default 0 is not off there (see the next test).
    assert_eq!(
        eval("CS-SET-009", &db(Some("4.19.0.0"), &[])).outcome,
        Outcome::Fail
    );
    assert_eq!(
        eval("CS-SET-009", &db(Some("4.19.1.0"), &[])).outcome,
        Outcome::Pass
    );
    // Default changed and release unknown: unknown, saying so.
    let r = eval("CS-SET-009", &db(None, &[]));
    assert_eq!(r.outcome, Outcome::Unknown);
    assert!(r.reason.unwrap().contains("changed between releases"));
}

#[test]
fn a_null_value_is_the_release_default_never_an_error() {
    for v in ["4.11.3.0", "4.22.0.0"] {
        let r = eval(
            "CS-SET-009",
            &db(Some(v), &[("integration.api.port", Value::Null)]),
        );
        assert_eq!(r.outcome, Outcome::Pass, "{v}: {r:?}");
        let o = &r.evidence.observed[0];
        assert!(o.default_applied, "{o:?}");
        assert_eq!(o.value, Some(json!("0")));
    }
    let r = eval(
        "CS-SET-009",
        &db(Some("4.12.0.0"), &[("integration.api.port", Value::Null)]),
    );
    assert_eq!(r.outcome, Outcome::Fail, "NULL on 4.12 is 8096: {r:?}");
}

/// The integration port (CS-SET-009): a positive port always listens; 0 is off only on
/// releases whose ApiServer skips a port <= 0 (4.11.x, 4.18.2.1+, 4.19.0.2+, 4.20.0.0+);
/// elsewhere 0 binds a random port; a negative port never listens.
#[test]
fn integration_port_zero_is_off_only_where_the_release_guards_it() {
    let port = |v: Value| vec![("integration.api.port", v)];
    let cases: &[(&str, Value, Outcome)] = &[
        // 4.12.0: NULL is the default 8096.
        ("4.12.0.0", Value::Null, Outcome::Fail),
        ("4.12.0.0", json!("0"), Outcome::Fail),
        // 4.13.0 to 4.19.0: 0, set or as the default of a NULL row, starts the listener.
        ("4.13.0.0", json!("0"), Outcome::Fail),
        ("4.13.0.0", Value::Null, Outcome::Fail),
        ("4.16.1.0", json!("0"), Outcome::Fail),
        ("4.18.2.0", json!("0"), Outcome::Fail),
        ("4.19.0.0", json!("0"), Outcome::Fail),
        ("4.19.0.0", Value::Null, Outcome::Fail),
        ("4.19.0.1", json!("0"), Outcome::Fail),
        ("4.10.0.0", json!("0"), Outcome::Fail),
        // The guard (CVE-2024-39864): 4.18.2.1, 4.19.0.2, 4.20.0.0 on; 4.11.x had its own.
        ("4.18.2.1", json!("0"), Outcome::Pass),
        ("4.18.2.5", json!("0"), Outcome::Pass),
        ("4.19.0.2", json!("0"), Outcome::Pass),
        ("4.19.1.0", json!("0"), Outcome::Pass),
        ("4.19.1.0", Value::Null, Outcome::Pass),
        ("4.20.0.0", json!("0"), Outcome::Pass),
        ("4.22.0.0", json!("0"), Outcome::Pass),
        ("4.11.3.0", json!("0"), Outcome::Pass),
        ("4.11.0.0", Value::Null, Outcome::Pass),
        // A negative port never listens (ServerSocket refuses it) on any release.
        ("4.13.0.0", json!("-1"), Outcome::Pass),
        // A positive port always listens.
        ("4.22.0.0", json!("8096"), Outcome::Fail),
        ("4.11.3.0", json!("8096"), Outcome::Fail),
    ];
    for (release, v, want) in cases {
        let r = eval("CS-SET-009", &db(Some(release), &port(v.clone())));
        assert_eq!(&r.outcome, want, "{release} {v}: {r:?}");
    }
    // The finding names the release it judged and says what 0 does there.
    let r = eval("CS-SET-009", &db(Some("4.19.0.0"), &port(json!("0"))));
    let rel = r
        .evidence
        .observed
        .iter()
        .find(|o| o.fact == "cs.version")
        .expect("the release is evidence");
    assert_eq!(rel.value, Some(json!("4.19.0.0")));
    assert!(
        r.evidence.expected.contains("4.19.0.2 (on 4.19)")
            && r.evidence.expected.contains("random free port"),
        "{}",
        r.evidence.expected
    );
    // Unknown release: 0 cannot be judged; a positive port can.
    let r = eval("CS-SET-009", &db(None, &port(json!("0"))));
    assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
    assert!(r
        .reason
        .unwrap()
        .contains("the installed release is unknown"));
    assert_eq!(
        eval("CS-SET-009", &db(None, &port(json!("8096")))).outcome,
        Outcome::Fail
    );
    // The packages tell the release when the database does not.
    let mut f = db(None, &port(json!("0")));
    f.set(
        "vuln.cloudstack.version",
        "vuln",
        json!({"version": "4.15.2.0", "source": "pkg.dpkg.cloudstack-management"}),
    );
    let r = eval("CS-SET-009", &f);
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
    assert!(r
        .evidence
        .observed
        .iter()
        .any(|o| o.fact == "vuln.cloudstack.version" && o.value == Some(json!("4.15.2.0"))));
}

#[test]
fn the_release_op_is_validated_at_load() {
    let check = |cond: &str| {
        format!(
            "[[check]]\nid = \"T-REL-1\"\ntitle = \"t\"\nduty = \"transport\"\nseverity = \"low\"\nfact = \"cs.version\"\ncondition = {cond}\nif_absent = \"unknown\"\nrationale = \"r\"\nremediation = \"r\"\nreferences = [\"docs/cloudstack-notes.md#h14\"]\n"
        )
    };
    let ok = load_dir(&[(
        "c.toml",
        &check(r#"{ op = "release_at_least", value = ["4.18.2.1", "4.19.1.0", "4.20.0.0"] }"#),
    )]);
    assert!(ok.is_ok(), "{ok:?}");
    for (cond, want) in [
        (
            r#"{ op = "release_at_least", value = ["4.20.0.0", "4.19.1.0"] }"#,
            "oldest first",
        ),
        (
            r#"{ op = "release_at_least", value = ["4.19.1.0", "4.19.2.0"] }"#,
            "one release per line",
        ),
        (
            r#"{ op = "release_at_least", value = "4.x" }"#,
            "not a release",
        ),
        (
            r#"{ op = "release_at_least", value = 4 }"#,
            "literal release",
        ),
        (r#"{ op = "release_at_least" }"#, "required"),
        (
            r#"{ op = "release_at_least", fact = "cs.setting.a", value = "4.19.1.0" }"#,
            "reads the installed release",
        ),
        (
            r#"{ op = "any", note = "n", of = [{ op = "present" }] }"#,
            "set it on the leaves",
        ),
    ] {
        let e = load_dir(&[("c.toml", &check(cond))]).unwrap_err();
        assert!(e.contains("c.toml") && e.contains(want), "{cond}: {e}");
    }
}

/// endpoint.url was endpointe.url before 4.17.0 (`renamed_from`): there CS-XS-001 reads
/// the former name, never "not applicable" for want of the new one.
#[test]
fn a_renamed_setting_is_read_under_its_former_name() {
    let https_on = |mut f: Facts| {
        f.set("props.server.https.enable", "file", "true");
        f
    };
    let old = |v: &str| vec![("endpointe.url", json!(v))];
    let r = eval(
        "CS-XS-001",
        &https_on(db(
            Some("4.16.1.0"),
            &old("http://10.0.0.1:8080/client/api"),
        )),
    );
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
    let seen: Vec<(&str, Option<&Value>)> = r
        .evidence
        .observed
        .iter()
        .map(|o| (o.fact.as_str(), o.value.as_ref()))
        .collect();
    assert!(
        seen.contains(&(
            "cs.setting.endpointe.url",
            Some(&json!("http://10.0.0.1:8080/client/api"))
        )),
        "{seen:?}"
    );
    let new_obs = r
        .evidence
        .observed
        .iter()
        .find(|o| o.fact == "cs.setting.endpoint.url")
        .unwrap();
    assert!(new_obs
        .missing
        .as_ref()
        .unwrap()
        .detail
        .contains("endpoint.url is called endpointe.url before 4.17.0.0; installed 4.16.1.0"));
    assert_eq!(
        eval(
            "CS-XS-001",
            &https_on(db(
                Some("4.16.1.0"),
                &old("https://ms.example.org:8443/client/api")
            ))
        )
        .outcome,
        Outcome::Pass
    );
    // No row under either name on 4.11: the (unchanged) default http://localhost.
    let r = eval("CS-XS-001", &https_on(db(Some("4.11.3.0"), &[])));
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
    assert!(r.evidence.observed.iter().any(|o| o.default_applied));
    // From 4.17 the new name is read, and the old one is ignored.
    let mut f = https_on(db(
        Some("4.17.0.0"),
        &[(
            "endpoint.url",
            json!("https://ms.example.org:8443/client/api"),
        )],
    ));
    f.set(
        "cs.setting.endpointe.url",
        "db:cloud.configuration",
        "http://stale",
    );
    assert_eq!(eval("CS-XS-001", &f).outcome, Outcome::Pass);
    // Release unknown: a row under the former name is read; no row at all is unknown.
    let r = eval(
        "CS-XS-001",
        &https_on(db(None, &old("https://ms.example.org:8443/client/api"))),
    );
    assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
    let r = eval("CS-XS-001", &https_on(db(None, &[])));
    assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
    // Validated at load.
    for (entry, want) in [
        (
            "since = [\"4.17.0.0\"]\nrenamed_from = \"x.y\"",
            "not another setting name",
        ),
        (
            "since = [\"4.17.0.0\"]\nrenamed_from = \"a b\"",
            "not another setting name",
        ),
        (
            "defaults = [{ from = \"4.11.0.0\", value = \"1\" }]\nrenamed_from = \"x.z\"",
            "needs `since`",
        ),
    ] {
        let e = load_dir(&[("h.toml", &format!("[[setting]]\nname = \"x.y\"\n{entry}\n"))])
            .unwrap_err();
        assert!(e.contains("h.toml:1") && e.contains(want), "{entry}: {e}");
    }
}

fn load_dir(files: &[(&str, &str)]) -> Result<Catalog, String> {
    let d = tempfile::tempdir().unwrap();
    for (n, t) in files {
        std::fs::write(d.path().join(n), t).unwrap();
    }
    Catalog::load(&CatalogSource {
        dirs: vec![d.path().to_path_buf()],
        no_builtin: false,
    })
    .map_err(|e| e.to_string())
}

#[test]
fn the_settings_table_is_validated_at_load() {
    let e = load_dir(&[(
        "h.toml",
        "[[setting]]\nname = \"x.y\"\nsince = [\"4.20.0.0\", \"4.19.2.0\"]\n",
    )])
    .unwrap_err();
    assert!(e.contains("h.toml:1") && e.contains("oldest first"), "{e}");
    let e =
        load_dir(&[("h.toml", "[[setting]]\nname = \"x.y\"\nsince = [\"4.x\"]\n")]).unwrap_err();
    assert!(e.contains("not a release"), "{e}");
    let e = load_dir(&[("h.toml", "[[setting]]\nname = \"x.y\"\n")]).unwrap_err();
    assert!(e.contains("give `since` or `defaults`"), "{e}");
    let e = load_dir(&[(
        "h.toml",
        "[[setting]]\nname = \"x.y\"\nsince = [\"4.18.0.0\"]\n\n[[setting]]\nname = \"x.y\"\nsince = [\"4.19.0.0\"]\n",
    )])
    .unwrap_err();
    assert!(e.contains("second [[setting]]"), "{e}");
    // A check's `default` must be the newest default the table records.
    let e = load_dir(&[(
        "h.toml",
        "[[setting]]\nname = \"integration.api.port\"\ndefaults = [{ from = \"4.13.0.0\", value = \"8096\" }]\n",
    )])
    .unwrap_err();
    assert!(
        e.contains("CS-SET-009") && e.contains("newest default"),
        "{e}"
    );
    // A directory may replace an embedded entry.
    let c = load_dir(&[(
        "h.toml",
        "[[setting]]\nname = \"enable.user.2fa\"\nsince = [\"4.17.0.0\"]\n",
    )])
    .unwrap();
    assert!(c.settings["enable.user.2fa"]
        .present_in(&stackposture::vuln::version::Version::parse("4.17.1").unwrap()));
}

/// Every `[[setting]]` entry names a setting some check reads (no stale data), and every
/// embedded check on such a setting got the history attached.
#[test]
fn every_entry_is_read_by_a_check() {
    let cat = Catalog::shared_builtin().unwrap();
    for name in cat.settings.keys() {
        let readers: Vec<&str> = cat
            .checks
            .iter()
            .filter(|c| {
                c.leaves().any(|l| {
                    stackposture::catalog::history::setting_of(&l.fact) == Some(name.as_str())
                })
            })
            .map(|c| c.id.as_str())
            .collect();
        assert!(
            !readers.is_empty(),
            "[[setting]] {name} is read by no check"
        );
        for id in readers {
            let c = cat.check(id).unwrap();
            assert!(c
                .leaves()
                .filter(
                    |l| stackposture::catalog::history::setting_of(&l.fact) == Some(name.as_str())
                )
                .all(|l| l.history.is_some()));
        }
    }
}
