//! HTML: one self-contained file (no network, no external asset; a strict Content
//! Security Policy allows only this page's own style and script, by hash). The score per
//! duty, the counts, then every result, findings first, with evidence and remediation,
//! filterable by duty and severity. All text comes from the finding view and is escaped
//! by [`super::escape::html`].

use super::escape::html as h;
use super::table::fmt_pct;
use super::view::{self, Finding};
use super::{RenderOptions, Report};
use crate::catalog::Severity;
use crate::evaluate::Outcome;
use base64::Engine as _;
use sha2::Digest;
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .5em;\
text-align:left;vertical-align:top}.fail{background:#fdecea}.unknown,.error{background:#fff8e1}\
.pass{background:#edf7ed}.not_applicable{color:#777}ul{margin:0;padding-left:1.2em}\
pre{white-space:pre-wrap;margin:0}.hidden{display:none}";

const SCRIPT: &str = "(function(){\
var d=document.getElementById('f-duty'),s=document.getElementById('f-sev');\
function apply(){var n=0;document.querySelectorAll('tr.result').forEach(function(r){\
var ok=(!d.value||r.dataset.duty===d.value)&&(!s.value||r.dataset.severity===s.value);\
r.classList.toggle('hidden',!ok);if(ok)n++;});\
document.getElementById('shown').textContent=String(n);}\
d.addEventListener('change',apply);s.addEventListener('change',apply);apply();})();";

fn csp_hash(s: &str) -> String {
    let digest = sha2::Sha256::digest(s.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn head(out: &mut String, report: &Report) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src {}; script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>stackposture: {}</title>\n<style>{STYLE}</style></head><body>\n",
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        h(&view::host(report))
    );
}

fn summary(out: &mut String, report: &Report) {
    let v = &report.verdict;
    let o = &report.summary.overall;
    let _ = writeln!(
        out,
        "<h1>stackposture report: {}</h1>\n<p>Profile {} &middot; stackposture {} &middot; \
         verdict <strong id=\"verdict\">{}</strong>: {} finding(s) at or above {}, minimum score {}, \
         {} waived.</p>",
        h(&view::host(report)),
        h(&report.profile.name),
        h(&report.tool.version),
        if v.exit_code == 0 { "OK" } else { "FINDINGS" },
        v.findings,
        v.fail_on,
        v.min_score,
        v.waived
    );
    let c = &o.counts;
    let _ = writeln!(
        out,
        "<p>Overall score <strong id=\"score\">{}</strong> ({}), coverage {}: \
         <span id=\"count-fail\">{}</span> fail, <span id=\"count-unknown\">{}</span> unknown, \
         <span id=\"count-error\">{}</span> error, <span id=\"count-pass\">{}</span> pass, \
         <span id=\"count-not_applicable\">{}</span> not applicable.</p>",
        fmt_pct(o.score),
        h(&o.grade),
        fmt_pct(o.coverage),
        c.fail,
        c.unknown,
        c.error,
        c.pass,
        c.not_applicable
    );
    for s in view::skipped_sources(report) {
        let _ = writeln!(
            out,
            "<p class=\"source skipped\">Not collected (operator's choice): {}</p>",
            h(&s)
        );
    }
    for s in view::failed_sources(report) {
        let _ = writeln!(out, "<p class=\"source\">Source not read: {}</p>", h(&s));
    }
    out.push_str("<h2>Score per duty</h2>\n<table id=\"duties\"><tr><th>Duty</th><th>Title</th>\
                  <th>Score</th><th>Grade</th><th>Coverage</th><th>Fail</th><th>Unknown</th><th>Pass</th></tr>\n");
    for (d, l) in &report.summary.duties {
        let _ = writeln!(
            out,
            "<tr data-duty=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            h(d),
            h(d),
            h(&view::duty_title(report, d)),
            fmt_pct(l.score),
            h(&l.grade),
            fmt_pct(l.coverage),
            l.counts.fail,
            l.counts.unknown + l.counts.error,
            l.counts.pass
        );
    }
    out.push_str("</table>\n");
}

fn filters(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>Results</h2>\n<p><label>Duty <select id=\"f-duty\"><option value=\"\">all</option>",
    );
    for d in report.summary.duties.keys() {
        let _ = write!(out, "<option value=\"{}\">{}</option>", h(d), h(d));
    }
    out.push_str(
        "</select></label> <label>Severity <select id=\"f-sev\"><option value=\"\">all</option>",
    );
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let _ = write!(out, "<option value=\"{s}\">{s}</option>");
    }
    out.push_str("</select></label> <output id=\"shown\"></output> shown</p>\n");
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let li: String = items.iter().map(|i| format!("<li>{}</li>", h(i))).collect();
    format!("<ul>{li}</ul>")
}

fn row(out: &mut String, f: &Finding) {
    let r = f.result;
    let mut details = list(&f.detail_lines());
    if r.outcome == Outcome::Fail && !f.remediation.is_empty() {
        let _ = write!(
            details,
            "<p><strong>Remediation</strong></p><pre>{}</pre>",
            h(&f.remediation.join("\n"))
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"result {}\" data-outcome=\"{}\" data-duty=\"{}\" data-severity=\"{}\" \
         data-waived=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{details}</td></tr>",
        r.outcome.as_str(),
        r.outcome.as_str(),
        h(&r.duty),
        r.severity,
        f.waived,
        h(&f.label),
        r.severity,
        h(&f.id),
        h(&f.duty),
        h(&f.title)
    );
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    head(&mut out, report);
    summary(&mut out, report);
    super::compliance::html(&mut out, report);
    filters(&mut out, report);
    out.push_str(
        "<table id=\"results\"><tr><th>Result</th><th>Severity</th><th>Check</th>\
                  <th>Duty</th><th>Title</th><th>Evidence and remediation</th></tr>\n",
    );
    for f in view::sorted(report) {
        if opts.show_passed || f.result.outcome != Outcome::Pass {
            row(&mut out, &f);
        }
    }
    let _ = write!(out, "</table>\n<script>{SCRIPT}</script>\n</body></html>\n");
    out
}
