//! The shipped profiles change what is judged, and how severely, as documented.

use stackposture::catalog::{Catalog, Severity};
use stackposture::evaluate::{evaluate_check, EvalContext, Outcome};
use stackposture::facts::{Fact, Facts};

fn ctx() -> EvalContext {
    EvalContext { now: 1_795_000_000 }
}

fn outcome(cat: &Catalog, profile: &str, id: &str, facts: &Facts) -> Outcome {
    let p = cat.profile(profile).unwrap();
    let c = cat.check(id).unwrap();
    evaluate_check(c, p, facts, &ctx()).outcome
}

#[test]
fn production_is_the_default_and_selects_everything() {
    let cat = Catalog::builtin().unwrap();
    let p = cat.default_profile().unwrap();
    assert_eq!(p.name, "production");
    assert_eq!(
        cat.checks.iter().filter(|c| p.selects(c)).count(),
        cat.checks.len()
    );
}

#[test]
fn strict_allows_tls12_only_with_aead_and_raises_2fa_and_strictness() {
    let cat = Catalog::builtin().unwrap();
    let mut f = Facts::new();
    f.insert(
        "tls.summary.protocols",
        Fact::value("t", serde_json::json!(["TLSv1.2", "TLSv1.3"])),
    );
    f.insert(
        "tls.summary.cbc_tls12",
        Fact::value(
            "t",
            serde_json::json!(["https: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]),
        ),
    );
    // TLS 1.2 itself is allowed by both ...
    assert_eq!(outcome(&cat, "production", "CS-TLS-002", &f), Outcome::Pass);
    assert_eq!(outcome(&cat, "strict", "CS-TLS-002", &f), Outcome::Pass);
    // ... but CBC at TLS 1.2 fails strict's verdict (medium, fail_on medium), not production's.
    let strict = cat.profile("strict").unwrap();
    let prod = cat.profile("production").unwrap();
    let cbc = cat.check("CS-TLS-016").unwrap();
    assert_eq!(outcome(&cat, "strict", "CS-TLS-016", &f), Outcome::Fail);
    assert!(strict.severity_of(cbc) >= strict.fail_on);
    assert!(prod.severity_of(cbc) < prod.fail_on);
    for id in ["CS-SET-005", "CS-SET-001", "CS-SET-018"] {
        let c = cat.check(id).unwrap();
        assert!(strict.severity_of(c) > prod.severity_of(c), "{id}");
    }
    assert_eq!(
        strict.severity_of(cat.check("CS-SET-017").unwrap()),
        Severity::Critical
    );
}

#[test]
fn development_tolerates_plain_http_but_not_exposed_secrets() {
    let cat = Catalog::builtin().unwrap();
    let dev = cat.profile("development").unwrap();
    let prod = cat.profile("production").unwrap();
    // Plain HTTP: left out, or informational only.
    for id in ["CS-SRV-002", "CS-TLS-011", "CS-NET-005", "CS-TLS-012"] {
        assert!(
            !dev.selects(cat.check(id).unwrap()),
            "{id} is production-only"
        );
    }
    assert_eq!(
        dev.severity_of(cat.check("CS-SRV-001").unwrap()),
        Severity::Info
    );
    // Secrets and default credentials keep their severity.
    for id in [
        "CS-DBP-003",
        "CS-DBP-004",
        "CS-FILE-001",
        "CS-FILE-002",
        "CS-NET-001",
    ] {
        let c = cat.check(id).unwrap();
        assert!(dev.selects(c), "{id}");
        assert_eq!(dev.severity_of(c), prod.severity_of(c), "{id}");
    }
}

#[test]
fn baseline_is_the_high_and_critical_checks() {
    let cat = Catalog::builtin().unwrap();
    let b = cat.profile("baseline").unwrap();
    for c in &cat.checks {
        assert_eq!(b.selects(c), c.severity >= Severity::High, "{}", c.id);
    }
}
