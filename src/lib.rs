//! stackposture: a security-posture auditor for cloud control planes.
//!
//! Data flows one way (see DESIGN.md): collectors turn sources into [`facts::Facts`];
//! [`evaluate`] applies the declarative [`catalog`] under a profile (pure, no I/O);
//! [`score`] weighs the outcomes by severity per operator duty; [`report`] renders.

pub mod catalog;
pub mod collect;
pub mod diff;
pub mod evaluate;
pub mod facts;
pub mod fleet;
pub mod privileges;
pub mod report;
pub mod rootfs;
pub mod score;
pub mod secrets;
pub mod vuln;
pub mod waivers;

use catalog::{Catalog, Profile, Severity};
use evaluate::EvalContext;
use facts::Facts;
use report::Report;

/// Options that turn facts into a report.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub fail_on: Option<Severity>,
    pub min_score: Option<f64>,
    /// Reference time (unix seconds) for date conditions; default: the facts'
    /// `collected_at`, else now.
    pub as_of: Option<i64>,
    /// Waivers to attach (validated against the catalog by the caller).
    pub waivers: Vec<waivers::Waiver>,
}

/// Evaluates facts under a profile and builds the report. Pure apart from reading the
/// clock when neither `as_of` nor the facts give a reference time.
pub fn build_report(
    catalog: &Catalog,
    profile: &Profile,
    facts: &Facts,
    opts: &EvalOptions,
) -> Report {
    let now = opts
        .as_of
        .or_else(|| {
            facts
                .collected_at
                .as_deref()
                .and_then(evaluate::parse_rfc3339)
        })
        .unwrap_or_else(collect::now_unix);
    let ctx = EvalContext { now };
    let mut results = evaluate::evaluate(&catalog.checks, profile, facts, &ctx);
    let applied = waivers::apply(&opts.waivers, &results, facts.host.as_deref(), now);
    for (r, w) in results.iter_mut().zip(applied) {
        r.waiver = w;
    }
    Report::new(
        facts,
        profile,
        results,
        opts.fail_on.unwrap_or(profile.fail_on),
        opts.min_score.unwrap_or(profile.pass_mark),
    )
}
