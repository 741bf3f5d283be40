//! The versioned JSON report (`schema_version`), pretty-printed, keys in a fixed order.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serialises");
    s.push('\n');
    s
}
