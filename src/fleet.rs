//! `fleet`: many hosts' JSON reports in one view (score per host and duty, the findings
//! most hosts share) and the checks no single host can make:
//! - `FLEET-KEY-001` the same secret (equal keyed fingerprint) in several environments;
//! - `FLEET-VER-001` management servers of one cluster (`cloud.mshost`) on different
//!   versions;
//! - `FLEET-CLK-001` heartbeats of one cluster's running management servers far apart
//!   (clocks drifting apart, or a server that stopped), and hosts whose clock is not
//!   synchronised;
//! - `FLEET-RPT-001` a management server listed in `cloud.mshost` with no report, and
//!   `FLEET-RPT-002` a report older than `--stale-after` (or undated).
//!
//! The environment of a report is the name of the directory holding it
//! (`fleet reports/` with `reports/prod/*.json` and `reports/staging/*.json`).

use crate::catalog::Severity;
use crate::evaluate::Outcome;
use crate::report::escape::text as esc;
use crate::report::inventory::Inventory;
use crate::report::{ProfileInfo, Verdict};
use crate::score::Scores;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub host: String,
    pub environment: String,
    pub file: String,
    pub collected_at: Option<String>,
    pub profile: String,
    pub score: Option<f64>,
    pub coverage: Option<f64>,
    pub findings: usize,
    pub duties: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedFinding {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CrossFinding {
    pub id: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub hosts: Vec<HostRow>,
    /// Failing checks, most shared first (failing on at least two hosts).
    pub shared_findings: Vec<SharedFinding>,
    pub cross_host: Vec<CrossFinding>,
}

#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// Reference time (unix seconds) for staleness.
    pub now: i64,
    /// A report older than this many seconds is stale.
    pub stale_after: i64,
    /// Heartbeats of one cluster further apart than this many seconds are drift.
    pub max_heartbeat_spread: i64,
}

/// What `fleet` reads of a JSON report: everything but each result's evidence,
/// rationale, remediation and references, which the parser skips without building them
/// (most of a report's bytes: reading 10,000 reports must neither build nor keep them).
#[derive(Debug, Clone, Deserialize)]
pub struct FleetReport {
    pub schema_version: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub collected_at: Option<String>,
    pub profile: ProfileInfo,
    pub verdict: Verdict,
    pub summary: Scores,
    pub results: Vec<ResultHead>,
    #[serde(default)]
    pub inventory: Option<Inventory>,
}

/// The part of one result `fleet` shows.
#[derive(Debug, Clone, Deserialize)]
pub struct ResultHead {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub outcome: Outcome,
}

/// One report read from disk, with its environment.
pub struct Input {
    pub file: PathBuf,
    pub environment: String,
    pub report: FleetReport,
}

/// Parses a report for `fleet`: one pass into [`FleetReport`]; anything that does not
/// parse, or has another major schema version, gets `diff`'s full check and its words.
pub fn parse(text: &str) -> Result<FleetReport, String> {
    let major = |s: &str| s.split('.').next().map(str::to_string);
    match serde_json::from_str::<FleetReport>(text) {
        Ok(r) if major(&r.schema_version) == major(crate::report::REPORT_SCHEMA_VERSION) => Ok(r),
        _ => Err(crate::diff::parse_report(text)
            .err()
            .unwrap_or_else(|| "not a stackposture JSON report".into())),
    }
}

/// The report files under `paths`: files as given; a directory stands for its `*.json`
/// files and those of its direct subdirectories (one per environment).
pub fn report_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for sub in std::iter::once(p.clone()).chain(subdirs(p)?) {
                out.extend(
                    crate::report::batch::facts_files(&[sub])?
                        .into_iter()
                        .map(|x| x.0),
                );
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn subdirs(p: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| format!("cannot read {}: {e}", p.display()))?
        .filter_map(|d| d.ok())
        .filter(|d| d.file_type().is_ok_and(|t| t.is_dir()))
        .map(|d| d.path())
        .collect();
    v.sort();
    Ok(v)
}

/// Reads one report (bounded, schema-checked like `diff`).
pub fn read(file: &Path) -> Result<Input, String> {
    read_with(file, &mut Vec::new())
}

/// [`read`] through `buf`, reused across the reports of one run.
pub fn read_with(file: &Path, buf: &mut Vec<u8>) -> Result<Input, String> {
    let text = crate::report::batch::read_facts_into(file, buf)?;
    let report = parse(text).map_err(|e| format!("{}: {e}", file.display()))?;
    let environment = file
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Input {
        file: file.to_path_buf(),
        environment,
        report,
    })
}

fn host_of(r: &FleetReport) -> String {
    r.host.clone().unwrap_or_else(|| "(unknown host)".into())
}

fn host_row(i: &Input) -> HostRow {
    let r = &i.report;
    HostRow {
        host: host_of(r),
        environment: i.environment.clone(),
        file: i.file.display().to_string(),
        collected_at: r.collected_at.clone(),
        profile: r.profile.name.clone(),
        score: r.summary.overall.score,
        coverage: r.summary.overall.coverage,
        findings: r.verdict.findings,
        duties: r
            .summary
            .duties
            .iter()
            .map(|(d, l)| (d.clone(), l.score))
            .collect(),
    }
}

fn shared(inputs: &[Input]) -> Vec<SharedFinding> {
    let mut by_id: BTreeMap<&str, SharedFinding> = BTreeMap::new();
    for i in inputs {
        for r in i
            .report
            .results
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
        {
            by_id
                .entry(&r.id)
                .or_insert_with(|| SharedFinding {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    severity: r.severity.to_string(),
                    hosts: Vec::new(),
                })
                .hosts
                .push(host_of(&i.report));
        }
    }
    let mut v: Vec<SharedFinding> = by_id.into_values().filter(|s| s.hosts.len() >= 2).collect();
    v.sort_by(|a, b| b.hosts.len().cmp(&a.hosts.len()).then(a.id.cmp(&b.id)));
    v
}

fn shared_keys(inputs: &[Input], out: &mut Vec<CrossFinding>) {
    // fingerprint -> (environment, host, fact key)
    let mut by_fp: BTreeMap<&str, BTreeSet<(String, String, String)>> = BTreeMap::new();
    for i in inputs {
        for (key, fp) in i
            .report
            .inventory
            .iter()
            .flat_map(|v| v.fingerprints.iter())
        {
            by_fp.entry(fp).or_default().insert((
                i.environment.clone(),
                host_of(&i.report),
                key.clone(),
            ));
        }
    }
    for users in by_fp.values() {
        let envs: BTreeSet<&str> = users.iter().map(|u| u.0.as_str()).collect();
        if envs.len() < 2 {
            continue;
        }
        let keys: BTreeSet<&str> = users.iter().map(|u| u.2.as_str()).collect();
        out.push(CrossFinding {
            id: "FLEET-KEY-001",
            severity: "high",
            message: format!(
                "the same secret ({}) is used in environments {}",
                keys.into_iter().collect::<Vec<_>>().join(", "),
                envs.into_iter().collect::<Vec<_>>().join(", ")
            ),
            hosts: users.iter().map(|u| format!("{}/{}", u.0, u.1)).collect(),
        });
    }
}

fn field<'a>(row: &'a Value, k: &str) -> Option<&'a str> {
    row.get(k).and_then(|v| v.as_str())
}

/// Rows of `cloud.mshost` per cluster (a cluster = the set of msids a report lists).
fn clusters(inputs: &[Input]) -> BTreeMap<Vec<String>, (Vec<String>, Vec<Value>)> {
    let mut out: BTreeMap<Vec<String>, (Vec<String>, Vec<Value>)> = BTreeMap::new();
    for i in inputs {
        let rows = i
            .report
            .inventory
            .as_ref()
            .map_or(&[][..], |v| &v.mshost[..]);
        if rows.is_empty() {
            continue;
        }
        let mut ids: Vec<String> = rows
            .iter()
            .map(|r| r.get("msid").map_or(String::new(), |v| v.to_string()))
            .collect();
        ids.sort();
        let e = out
            .entry(ids)
            .or_insert_with(|| (Vec::new(), rows.to_vec()));
        e.0.push(host_of(&i.report));
    }
    out
}

fn cluster_checks(inputs: &[Input], opts: &FleetOptions, out: &mut Vec<CrossFinding>) {
    let reported: BTreeSet<String> = inputs
        .iter()
        .map(|i| host_of(&i.report).to_lowercase())
        .collect();
    for (reporters, rows) in clusters(inputs).into_values() {
        let up: Vec<&Value> = rows
            .iter()
            .filter(|r| field(r, "state").is_none_or(|s| s.eq_ignore_ascii_case("up")))
            .collect();
        let versions: BTreeSet<&str> = up.iter().filter_map(|r| field(r, "version")).collect();
        let name = |r: &Value| field(r, "name").unwrap_or("?").to_string();
        if versions.len() > 1 {
            out.push(CrossFinding {
                id: "FLEET-VER-001",
                severity: "medium",
                message: format!(
                    "management servers of one cluster run different versions: {}",
                    up.iter()
                        .map(|r| format!("{} {}", name(r), field(r, "version").unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hosts: reporters.clone(),
            });
        }
        let beats: Vec<(String, i64)> = up
            .iter()
            .filter_map(|r| {
                let t = field(r, "last_update").and_then(crate::evaluate::parse_rfc3339)?;
                Some((name(r), t))
            })
            .collect();
        if let (Some(min), Some(max)) = (
            beats.iter().min_by_key(|b| b.1),
            beats.iter().max_by_key(|b| b.1),
        ) {
            if max.1 - min.1 > opts.max_heartbeat_spread {
                out.push(CrossFinding {
                    id: "FLEET-CLK-001",
                    severity: "medium",
                    message: format!(
                        "heartbeats of {} and {} are {} s apart (more than {} s): clocks drift apart or a server stopped",
                        min.0,
                        max.0,
                        max.1 - min.1,
                        opts.max_heartbeat_spread
                    ),
                    hosts: reporters.clone(),
                });
            }
        }
        for r in &up {
            let n = name(r).to_lowercase();
            let short = n.split('.').next().unwrap_or("").to_string();
            let has = reported
                .iter()
                .any(|h| *h == n || h.split('.').next() == Some(short.as_str()));
            if !has {
                out.push(CrossFinding {
                    id: "FLEET-RPT-001",
                    severity: "medium",
                    message: format!(
                        "management server {} (cloud.mshost, state up) has no report",
                        name(r)
                    ),
                    hosts: reporters.clone(),
                });
            }
        }
    }
}

fn host_checks(inputs: &[Input], opts: &FleetOptions, out: &mut Vec<CrossFinding>) {
    for i in inputs {
        let host = host_of(&i.report);
        let at = i.report.collected_at.as_deref();
        let age = at
            .and_then(crate::evaluate::parse_rfc3339)
            .map(|t| opts.now - t);
        let stale = match age {
            Some(a) if a > opts.stale_after => {
                Some(format!("{host}: report collected {} h ago", a / 3600))
            }
            None => Some(format!(
                "{host}: report has no collection time (collect with --timestamp)"
            )),
            _ => None,
        };
        if let Some(message) = stale {
            out.push(CrossFinding {
                id: "FLEET-RPT-002",
                severity: "low",
                message,
                hosts: vec![host.clone()],
            });
        }
        if i.report
            .inventory
            .as_ref()
            .and_then(|v| v.clock_synchronized)
            == Some(false)
        {
            out.push(CrossFinding {
                id: "FLEET-CLK-001",
                severity: "medium",
                message: format!("{host}: the clock is not synchronised"),
                hosts: vec![host],
            });
        }
    }
}

pub fn fleet(inputs: &[Input], opts: &FleetOptions) -> Fleet {
    let mut cross = Vec::new();
    shared_keys(inputs, &mut cross);
    cluster_checks(inputs, opts, &mut cross);
    host_checks(inputs, opts, &mut cross);
    Fleet {
        hosts: inputs.iter().map(host_row).collect(),
        shared_findings: shared(inputs),
        cross_host: cross,
    }
}

impl Fleet {
    /// 1 when any host has findings or a cross-host check fired.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.cross_host.is_empty() || self.hosts.iter().any(|h| h.findings > 0))
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.1}"))
}

/// The fleet as a table (display-safe).
pub fn render_text(f: &Fleet) -> String {
    let duties: BTreeSet<&String> = f.hosts.iter().flat_map(|h| h.duties.keys()).collect();
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty();
    let mut header = vec![
        "Environment".to_string(),
        "Host".into(),
        "Score".into(),
        "Findings".into(),
    ];
    header.extend(duties.iter().map(|d| esc(d).into_owned()));
    t.set_header(header);
    for h in &f.hosts {
        let mut row = vec![
            esc(&h.environment).into_owned(),
            esc(&h.host).into_owned(),
            pct(h.score),
            h.findings.to_string(),
        ];
        row.extend(
            duties
                .iter()
                .map(|d| pct(h.duties.get(*d).copied().flatten())),
        );
        t.add_row(row);
    }
    let mut out = format!("{t}\n");
    if !f.cross_host.is_empty() {
        out.push_str("\nCross-host findings:\n");
        for c in &f.cross_host {
            out.push_str(&format!(
                "  [{}] {} {}\n",
                c.id,
                c.severity,
                esc(&c.message)
            ));
        }
    }
    if !f.shared_findings.is_empty() {
        out.push_str("\nFindings shared by several hosts:\n");
        for s in &f.shared_findings {
            out.push_str(&format!(
                "  {} hosts  {} ({}) {}\n",
                s.hosts.len(),
                esc(&s.id),
                s.severity,
                esc(&s.title)
            ));
        }
    }
    out
}

/// One CSV row per host (RFC 4180, formula-safe), duty scores as columns.
pub fn render_csv(f: &Fleet) -> String {
    use crate::report::escape::csv;
    let duties: BTreeSet<&String> = f.hosts.iter().flat_map(|h| h.duties.keys()).collect();
    let mut head = vec![
        "environment",
        "host",
        "collected_at",
        "profile",
        "score",
        "coverage",
        "findings",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    head.extend(duties.iter().map(|d| d.to_string()));
    let mut out = head.iter().map(|c| csv(c)).collect::<Vec<_>>().join(",") + "\r\n";
    for h in &f.hosts {
        let mut row = vec![
            h.environment.clone(),
            h.host.clone(),
            h.collected_at.clone().unwrap_or_default(),
            h.profile.clone(),
            pct(h.score),
            pct(h.coverage),
            h.findings.to_string(),
        ];
        row.extend(
            duties
                .iter()
                .map(|d| pct(h.duties.get(*d).copied().flatten())),
        );
        out.push_str(&(row.iter().map(|c| csv(c)).collect::<Vec<_>>().join(",") + "\r\n"));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FleetFormat {
    Table,
    Json,
    Csv,
    Html,
}

/// One self-contained page (no script, no external asset, `default-src 'none'`).
pub fn render_html(f: &Fleet) -> String {
    use crate::report::escape::html as h;
    use std::fmt::Write as _;
    let duties: BTreeSet<&String> = f.hosts.iter().flat_map(|x| x.duties.keys()).collect();
    let mut o = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">\n\
         <title>stackposture fleet</title></head><body>\n<h1>stackposture fleet</h1>\n",
    );
    let _ = write!(
        o,
        "<h2>Cross-host findings ({})</h2>\n<ul id=\"cross\">",
        f.cross_host.len()
    );
    for c in &f.cross_host {
        let _ = write!(o, "<li>[{}] {}: {}</li>", c.id, c.severity, h(&c.message));
    }
    o.push_str("</ul>\n<h2>Hosts</h2>\n<table id=\"hosts\" border=\"1\"><tr><th>Environment</th><th>Host</th><th>Score</th><th>Findings</th>");
    for d in &duties {
        let _ = write!(o, "<th>{}</th>", h(d));
    }
    o.push_str("</tr>\n");
    for x in &f.hosts {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            h(&x.environment),
            h(&x.host),
            pct(x.score),
            x.findings
        );
        for d in &duties {
            let _ = write!(o, "<td>{}</td>", pct(x.duties.get(*d).copied().flatten()));
        }
        o.push_str("</tr>\n");
    }
    let _ = write!(
        o,
        "</table>\n<h2>Findings shared by several hosts</h2>\n<ul id=\"shared\">"
    );
    for s in &f.shared_findings {
        let _ = write!(
            o,
            "<li>{} hosts: {} ({}) {}</li>",
            s.hosts.len(),
            h(&s.id),
            h(&s.severity),
            h(&s.title)
        );
    }
    o.push_str("</ul>\n</body></html>\n");
    o
}

/// `stackposture fleet`: reads the reports under `paths`, returns the rendered fleet and
/// its exit code.
pub fn run(
    paths: &[PathBuf],
    format: FleetFormat,
    stale_hours: u32,
) -> Result<(String, u8), String> {
    let mut buf = Vec::new();
    let inputs = report_files(paths)?
        .iter()
        .map(|f| read_with(f, &mut buf))
        .collect::<Result<Vec<_>, _>>()?;
    if inputs.is_empty() {
        return Err("no report found".into());
    }
    let opts = FleetOptions {
        now: crate::collect::now_unix(),
        stale_after: i64::from(stale_hours) * 3600,
        max_heartbeat_spread: 120,
    };
    let f = fleet(&inputs, &opts);
    let text = match format {
        FleetFormat::Table => render_text(&f),
        FleetFormat::Json => serde_json::to_string_pretty(&f).expect("fleet serialises") + "\n",
        FleetFormat::Csv => render_csv(&f),
        FleetFormat::Html => render_html(&f),
    };
    Ok((text, f.exit_code()))
}
