//! Known vulnerabilities, patch lag and support status of the installed CloudStack
//! release, from the advisory feed (`feed`: pack data in `checks/cloudstack/advisories.toml`,
//! replaceable with `--advisories` / `--catalog`; format in `docs/advisories.md`).
//!
//! The matching runs when facts are collected and its result is facts, so checks stay
//! declarative. The version matched is the lowest one any source records (`installed`:
//! the DB `version` table, dpkg, the RPM database, the management jar's name); the
//! sources' disagreement is its own fact.
//!
//! Facts (entry point [`annotate`]):
//! - `vuln.cloudstack.feed` `{date, advisories, files: [{origin, date, mode, advisories}]}`
//!   (always set);
//! - `vuln.cloudstack.installed` `{<source fact>: version or "unknown: why"}` and
//!   `vuln.cloudstack.version_skew` (list of disagreements; absent with fewer than two
//!   sources);
//! - `vuln.cloudstack.version` `{version, source, line, advisories}`;
//! - `vuln.cloudstack.matched_high` (critical, important or unrated),
//!   `vuln.cloudstack.matched_other` (moderate, low), `vuln.cloudstack.matched_unfixed`
//!   (no fixed release named): lists of `"CVE-… (<severity>; fixed in <release>)"`,
//!   without the advisories whose workaround is in force;
//! - `vuln.cloudstack.mitigated`: those, each with the evidence of its workaround;
//! - `vuln.cloudstack.upgrade_to`;
//! - `vuln.cloudstack.patch_lag`: per matched advisory with a fix, the fix's release,
//!   the date it became available (the later of its announcement and the advisory's)
//!   and the days since, as of collection;
//! - `vuln.cloudstack.fix_waiting`, `vuln.cloudstack.fix_waiting_high` (critical,
//!   important, unrated): `{since, advisories, upgrade_to}`, `since` the oldest such date
//!   (checks compare it with the evaluation date); absent when no fix is waiting;
//! - `vuln.cloudstack.support`: the release line's support status from the feed's line
//!   rows, as of collection (`supported`, `security-only`, `eol`), with the rows' dates.

pub mod feed;
pub mod installed;
pub mod version;
mod workaround;

pub use feed::{Advisory, Feed, Workaround};
pub use version::{Range, Version};

use crate::facts::{Fact, Facts, MissingReason};
use serde_json::{json, Value};

impl Advisory {
    /// Critical, important, or no project rating (judged as serious until rated).
    pub fn is_high(&self) -> bool {
        matches!(self.severity.as_str(), "critical" | "important" | "unrated")
    }
    pub fn affects(&self, v: &Version) -> bool {
        self.affected.iter().any(|r| r.contains(v))
    }
    /// The fixed release named for `v`'s line, if any.
    pub fn fix_for(&self, v: &Version) -> Option<&Version> {
        self.fixed_in
            .iter()
            .find(|f| f.line() == v.line() && *f > v)
    }
}

/// The built-in feed's advisories.
pub fn builtin() -> Vec<Advisory> {
    Feed::builtin().advisories
}

/// Every API a built-in advisory workaround denies to non-admin roles (what the DB
/// collector looks up in the role permissions). A feed given at run time that names
/// other APIs is matched only on the APIs listed here.
pub fn workaround_apis() -> Vec<String> {
    let mut v: Vec<String> = builtin()
        .into_iter()
        .flat_map(|a| a.workarounds)
        .filter_map(|w| w.deny_non_admin)
        .flatten()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// What applies to one version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    pub high: Vec<String>,
    pub other: Vec<String>,
    pub unfixed: Vec<String>,
    /// The lowest release on the version's own line that fixes every matched CVE with a
    /// fix, or a note that the line has none.
    pub upgrade_to: Option<String>,
}

pub fn match_version(table: &[Advisory], v: &Version) -> Matched {
    let mut m = Matched::default();
    let mut line_fix: Option<Version> = None;
    let mut off_line: Vec<&Version> = Vec::new();
    for a in table.iter().filter(|a| a.affects(v)) {
        if a.fixed_in.is_empty() {
            m.unfixed.push(format!(
                "{} ({}; no fixed release named)",
                a.cve, a.severity
            ));
            continue;
        }
        let text = match a.fix_for(v) {
            Some(f) => {
                if line_fix.as_ref().is_none_or(|l| f > l) {
                    line_fix = Some(f.clone());
                }
                format!("{} ({}; fixed in {f})", a.cve, a.severity)
            }
            None => {
                let newest = a.fixed_in.iter().max().expect("non-empty");
                off_line.push(newest);
                let all: Vec<String> = a.fixed_in.iter().map(Version::to_string).collect();
                format!(
                    "{} ({}; no fix on the {} line; fixed in {})",
                    a.cve,
                    a.severity,
                    v.line(),
                    all.join(", ")
                )
            }
        };
        if a.is_high() {
            m.high.push(text);
        } else {
            m.other.push(text);
        }
    }
    m.upgrade_to = match (line_fix, off_line.iter().max()) {
        (Some(f), None) => Some(f.to_string()),
        (lf, Some(o)) => Some(format!(
            "no {} release fixes every advisory{}; move to a line with fixes (e.g. {o} or later)",
            v.line(),
            lf.map(|f| format!(" ({f} fixes those with a fix on this line)"))
                .unwrap_or_default()
        )),
        (None, None) => None,
    };
    m
}

/// The source string of the vuln facts.
fn source(feed: &Feed, from: &str) -> String {
    format!("vuln:advisories@{}+{from}", feed.date().unwrap_or("none"))
}

/// Records the `vuln.cloudstack.*` facts. Run after every collector that may provide the
/// version (the DB collector's `cs.version`, the package collector). `now`: unix seconds
/// of the collection, for the days since a fix and the support status.
/// `vuln.cloudstack.feed`: the feed's date and the files in force.
fn record_feed(facts: &mut Facts, feed: &Feed) {
    let fsrc = source(feed, "feed");
    let files: Vec<Value> = feed
        .files
        .iter()
        .map(|f| {
            json!({"origin": f.origin, "date": f.date, "mode": format!("{:?}", f.mode).to_lowercase(),
                   "advisories": f.advisories, "sources": f.sources})
        })
        .collect();
    match feed.date() {
        Some(d) => facts.set(
            "vuln.cloudstack.feed",
            &fsrc,
            json!({"date": d, "advisories": feed.advisories.len(), "files": files}),
        ),
        None => facts.insert(
            "vuln.cloudstack.feed",
            Fact::missing(
                &fsrc,
                MissingReason::NotCollected,
                "no advisory feed loaded (--no-builtin-catalog without a feed)",
            ),
        ),
    }
}

/// `vuln.cloudstack.installed` and `vuln.cloudstack.version_skew`; returns the sources.
fn record_installed(facts: &mut Facts, feed: &Feed) -> Vec<installed::Seen> {
    let seen = installed::seen(facts);
    let isrc = source(feed, "installed");
    facts.set(
        "vuln.cloudstack.installed",
        &isrc,
        installed::describe(facts, &seen),
    );
    if seen.len() >= 2 {
        facts.set(
            "vuln.cloudstack.version_skew",
            &isrc,
            json!(installed::skew(&seen)),
        );
    } else {
        facts.insert(
            "vuln.cloudstack.version_skew",
            Fact::absent(
                &isrc,
                format!(
                    "{} source(s) record the installed version: nothing to compare",
                    seen.len()
                ),
            ),
        );
    }
    seen
}

pub fn annotate(facts: &mut Facts, feed: &Feed, now: i64) {
    record_feed(facts, feed);
    let seen = record_installed(facts, feed);
    let Some(eff) = installed::effective(&seen).cloned() else {
        facts.namespace_missing(
            "vuln.cloudstack.",
            "vuln",
            MissingReason::NotCollected,
            "installed CloudStack version unknown: no cs.version from the database, no cloudstack-management in the dpkg or RPM database, no cloudstack-<version>.jar under --root",
        );
        return;
    };
    if feed.files.is_empty() {
        facts.namespace_missing(
            "vuln.cloudstack.",
            "vuln",
            MissingReason::NotCollected,
            "no advisory feed loaded",
        );
        return;
    }
    let v = eff.version.clone();
    let src = source(feed, eff.key);
    let (mitigated, open) = workaround::split(&feed.advisories, &v, facts);
    let m = match_version(&open, &v);
    facts.set(
        "vuln.cloudstack.version",
        &src,
        json!({"version": v.to_string(), "source": eff.key, "line": v.line(), "advisories": feed.advisories.len()}),
    );
    facts.set("vuln.cloudstack.matched_high", &src, json!(m.high));
    facts.set("vuln.cloudstack.matched_other", &src, json!(m.other));
    facts.set("vuln.cloudstack.matched_unfixed", &src, json!(m.unfixed));
    facts.set("vuln.cloudstack.mitigated", &src, json!(mitigated));
    match &m.upgrade_to {
        Some(u) => facts.set("vuln.cloudstack.upgrade_to", &src, u.clone()),
        None => facts.insert(
            "vuln.cloudstack.upgrade_to",
            Fact::absent(&src, "no advisory with a fixed release applies"),
        ),
    }
    let lags = patch_lag(feed, &open, &v, now);
    facts.set(
        "vuln.cloudstack.patch_lag",
        &src,
        Value::Array(lags.iter().map(Lag::to_json).collect()),
    );
    for (key, high_only) in [
        ("vuln.cloudstack.fix_waiting", false),
        ("vuln.cloudstack.fix_waiting_high", true),
    ] {
        let sel: Vec<&Lag> = lags.iter().filter(|l| !high_only || l.high).collect();
        match sel.iter().map(|l| l.available.as_str()).min() {
            Some(since) => facts.set(
                key,
                &src,
                json!({
                    "since": since,
                    "advisories": sel.iter().map(|l| format!("{} (fix {} available since {})", l.cve, l.fix, l.available)).collect::<Vec<_>>(),
                    "upgrade_to": m.upgrade_to,
                }),
            ),
            None => facts.insert(key, Fact::absent(&src, "no matched advisory has a fix waiting to be installed")),
        }
    }
    support(facts, feed, &v, now);
}

/// One matched advisory with a fix: when the fix became available.
#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    pub cve: String,
    pub severity: String,
    pub high: bool,
    /// The release to upgrade to (same line), or the oldest fix on another line.
    pub fix: String,
    pub same_line: bool,
    /// YYYY-MM-DD: the later of the fix's release announcement and the advisory's.
    pub available: String,
    /// Days from `available` to the collection.
    pub days_since: i64,
}

impl Lag {
    fn to_json(&self) -> Value {
        json!({
            "cve": self.cve, "severity": self.severity, "fixed_in": self.fix,
            "same_line": self.same_line, "fix_available": self.available,
            "days_since": self.days_since,
        })
    }
}

/// Patch lag of every matched advisory that names a fix: the fix on the installed line,
/// else the oldest fix on another line (the line has none: move lines).
pub fn patch_lag(feed: &Feed, open: &[Advisory], v: &Version, now: i64) -> Vec<Lag> {
    let mut out = Vec::new();
    for a in open
        .iter()
        .filter(|a| a.affects(v) && !a.fixed_in.is_empty())
    {
        let dated = |f: &Version| -> String {
            let rel = feed.release(f).map(|r| r.date.as_str()).unwrap_or("");
            rel.max(a.published.as_str()).to_string()
        };
        let (fix, same_line, available) = match a.fix_for(v) {
            Some(f) => (f.to_string(), true, dated(f)),
            None => {
                let Some((f, d)) = a
                    .fixed_in
                    .iter()
                    .map(|f| (f, dated(f)))
                    .min_by(|x, y| x.1.cmp(&y.1))
                else {
                    continue;
                };
                (f.to_string(), false, d)
            }
        };
        let t = crate::evaluate::parse_rfc3339(&available).unwrap_or(now);
        out.push(Lag {
            cve: a.cve.clone(),
            severity: a.severity.clone(),
            high: a.is_high(),
            fix,
            same_line,
            available,
            days_since: (now - t).div_euclid(86_400),
        });
    }
    out
}

/// `vuln.cloudstack.support`: the line's row of the feed, its status as of `now`.
fn support(facts: &mut Facts, feed: &Feed, v: &Version, now: i64) {
    let src = source(feed, "lines");
    let key = "vuln.cloudstack.support";
    let Some(l) = feed.line_of(v) else {
        facts.insert(
            key,
            Fact::missing(
                &src,
                MissingReason::Unsupported,
                format!(
                    "release line {} is not in the advisory feed (dated {})",
                    v.line(),
                    feed.date().unwrap_or("-")
                ),
            ),
        );
        return;
    };
    let past = |d: &Option<String>| {
        d.as_deref()
            .and_then(crate::evaluate::parse_rfc3339)
            .is_some_and(|t| t < now)
    };
    let status = if past(&l.security_until) {
        "eol"
    } else if past(&l.full_until) && l.status == "supported" {
        "security-only"
    } else {
        l.status.as_str()
    };
    let mut o = json!({
        "line": v.line(), "feed_line": l.spec.to_string(), "type": l.kind,
        "status": status, "status_on_feed_date": l.status, "feed_date": feed.date(),
        "note": l.note, "source": l.source,
    });
    for (k, d) in [
        ("full_until", &l.full_until),
        ("security_until", &l.security_until),
    ] {
        if let Some(d) = d {
            o[k] = json!(d);
        }
    }
    facts.set(key, &src, o);
}
