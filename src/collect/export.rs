//! Offline settings: a CloudMonkey export (`cmk list configurations` JSON, i.e.
//! `{"configuration": [...], "count": N}`) or the raw API answer
//! (`{"listconfigurationsresponse": {"configuration": [...]}}`), for auditors without
//! database access (`--settings-export FILE`).
//!
//! `listConfigurations` leaves out category Hidden and returns Secure values encrypted
//! (reference §2.3), so Secure rows are described as secrets and never compared.
//! Facts carry the source `export:<path>`.

use super::settings::{self, SettingRow};
use crate::facts::{Facts, MissingReason, SourceStatus};
use serde_json::Value;

/// Upper bound on an export file.
pub const MAX_EXPORT: u64 = 64 * 1024 * 1024;

/// Parses an export into settings rows; the error names what is wrong, never a value.
pub fn parse(text: &str) -> Result<Vec<SettingRow>, String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {})", e.line(), e.column()))?;
    let list = v
        .get("listconfigurationsresponse")
        .and_then(|r| r.get("configuration"))
        .or_else(|| v.get("configuration"))
        .or(if v.is_array() { Some(&v) } else { None });
    let list = match list {
        Some(Value::Array(a)) => a,
        Some(_) => return Err("`configuration` is not a list".into()),
        None => {
            // An empty listConfigurations answer has no `configuration` key.
            if v.get("listconfigurationsresponse").is_some() || v.get("count").is_some() {
                return Ok(Vec::new());
            }
            return Err(
                "neither a `cmk list configurations` export nor a listconfigurationsresponse"
                    .into(),
            );
        }
    };
    let s = |o: &Value, k: &str| -> Option<String> {
        match o.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    let mut rows = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        let Some(name) = s(o, "name") else {
            return Err(format!("configuration[{i}] has no name"));
        };
        let value = s(o, "value");
        let category = s(o, "category");
        let secure = category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("secure") || c.eq_ignore_ascii_case("hidden"));
        let mut row = SettingRow {
            name,
            value_set: value.is_some(),
            value,
            default_value: s(o, "defaultvalue"),
            category,
            scope: settings::scope_value(s(o, "scope").as_deref()),
            is_dynamic: o.get("isdynamic").and_then(Value::as_bool),
            updated: None,
            component: s(o, "component"),
            encrypted_at_rest: None,
            undecryptable: None,
        };
        if secure {
            // The API returns the ciphertext: never compared, never kept.
            row.value = None;
            row.encrypted_at_rest = Some(true);
            row.undecryptable =
                Some("the export holds the encrypted value (listConfigurations)".into());
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Reads the export and records its facts.
pub fn collect(path: &std::path::Path, fp_key: Option<&[u8]>, facts: &mut Facts) {
    let source = format!("export:{}", path.display());
    let loc = path.display().to_string();
    let fail = |facts: &mut Facts, reason: MissingReason, d: String| {
        facts.source(
            "export",
            SourceStatus::failed("export", &loc, reason, d.clone()),
        );
        for p in ["cs.setting.", "cs.setting_info.", "cs.setting_secret."] {
            facts.namespace_missing(p, &source, reason, format!("{loc}: {d}"));
        }
    };
    let md = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(facts, MissingReason::Error, e.kind().to_string()),
    };
    if !md.is_file() || md.len() > MAX_EXPORT {
        return fail(
            facts,
            MissingReason::Unsupported,
            format!("not a regular file of at most {MAX_EXPORT} bytes"),
        );
    }
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return fail(facts, MissingReason::Error, e.kind().to_string()),
    };
    match parse(&text) {
        Ok(rows) => {
            facts.source(
                "export",
                SourceStatus {
                    kind: "export".into(),
                    location: loc.clone(),
                    status: "ok".into(),
                    detail: format!(
                        "{} settings (listConfigurations omits Hidden ones)",
                        rows.len()
                    ),
                },
            );
            settings::record(&rows, &source, fp_key, facts);
        }
        Err(e) => fail(facts, MissingReason::Unsupported, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let cmk = r#"{"count": 2, "configuration": [
            {"name": "api.throttling.enabled", "value": "true", "category": "Advanced", "isdynamic": false},
            {"name": "security.singlesignon.key", "value": "ENCRYPTEDcanary", "category": "Secure"}]}"#;
        let raw = format!("{{\"listconfigurationsresponse\": {cmk}}}");
        for t in [cmk.to_string(), raw] {
            let rows = parse(&t).unwrap();
            assert_eq!(rows.len(), 2);
            let mut f = Facts::new();
            settings::record(&rows, "export:x", None, &mut f);
            assert!(!f.to_json().contains("ENCRYPTEDcanary"));
            assert_eq!(
                f.get("cs.setting.api.throttling.enabled").unwrap().value,
                Some(Value::from("true"))
            );
        }
        assert!(parse("{\"foo\": 1}").is_err());
        assert!(parse("{").is_err());
    }
}
