//! stackposture: a security-posture auditor for cloud control planes.
//!
//! Data flows one way (see docs/architecture.md): collectors turn sources into
//! [`facts::Facts`]; [`evaluate`] applies the compiled [`catalog`] under a profile (pure,
//! no I/O) and produces [`outcome`]s; [`score`] weighs them by severity per operator
//! duty; [`report`] renders.

pub mod catalog;
pub mod clidocs;
pub mod collect;
pub mod dates;
pub mod diff;
pub mod evaluate;
pub mod facts;
pub mod fleet;
pub mod opfiles;
pub mod outcome;
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
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    pub fail_on: Option<Severity>,
    pub min_score: Option<f64>,
    /// Reference time (unix seconds) for date conditions; default: the facts'
    /// `collected_at`, else now.
    pub as_of: Option<i64>,
    /// Waivers to attach (validated against the catalog by the caller).
    pub waivers: Vec<waivers::Waiver>,
    /// Evaluate only the checks of these packs (`audit` passes the packs detected in
    /// the tree); `None`: every pack.
    pub packs: Option<Vec<String>>,
    /// Compliance frameworks the report shows (`--framework`, validated ids); `None`: all.
    /// Narrows the compliance view only: results and scores are the profile's.
    pub frameworks: Option<Vec<String>>,
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
        .or_else(|| facts.collected_at.as_deref().and_then(dates::parse_rfc3339))
        .unwrap_or_else(collect::now_unix);
    let ctx = EvalContext { now };
    let checks = catalog
        .checks
        .iter()
        .filter(|c| opts.packs.as_ref().is_none_or(|p| p.contains(&c.pack)));
    let mut results = evaluate::evaluate(checks, profile, facts, &ctx);
    let applied = waivers::apply(&opts.waivers, &results, facts.host.as_deref(), now);
    for (r, w) in results.iter_mut().zip(applied) {
        r.waiver = w;
        report::compliance::restrict(&mut r.controls, opts.frameworks.as_deref());
    }
    let compliance = report::compliance::summarise(catalog, &results, opts.frameworks.as_deref());
    let mut report = Report::new(
        facts,
        profile,
        results,
        opts.fail_on.unwrap_or(profile.fail_on),
        opts.min_score.unwrap_or(profile.pass_mark),
    );
    report.duty_titles = catalog.duty_titles();
    report.compliance = compliance;
    report
}

/// The packs whose checks an audit of `fs` evaluates: those detected in the tree, or
/// the default pack when none is (an audit of an empty tree with `--endpoint`, say).
pub fn packs_for_tree(catalog: &Catalog, fs: &rootfs::RootFs) -> Vec<String> {
    let found: Vec<String> = catalog::pack::detect(&catalog.packs, fs)
        .into_iter()
        .map(str::to_string)
        .collect();
    if found.is_empty() {
        vec![catalog::DEFAULT_PACK.to_string()]
    } else {
        found
    }
}
