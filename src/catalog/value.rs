//! How conditions read observed values: loose typing the way CloudStack reads its own
//! settings (Java booleans, CSV lists, numbers in strings), dotted paths into objects,
//! file modes, CIDRs and dates.

use serde_json::Value;

/// Follows a dotted path into a JSON value. A key containing dots can be reached
/// because every split is tried from the longest key first.
pub fn get_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    let mut idx = path.len();
    while let Some(pos) = path[..idx].rfind('.') {
        if let Some(x) = obj.get(&path[..pos]) {
            if let Some(r) = get_path(x, &path[pos + 1..]) {
                return Some(r);
            }
        }
        idx = pos;
    }
    None
}

pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Java's `Boolean.parseBoolean` for strings (only "true", any case, is true), so that
/// a value CloudStack would read as false is read as false here too.
pub fn java_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        Value::Null => Some(false),
        _ => None,
    }
}

/// A number, a number in a string, or the length of a list.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        Value::Array(a) => Some(a.len() as f64),
        _ => None,
    }
}

pub fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// A JSON array, or a comma-separated string (CloudStack's CSV settings).
pub fn as_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => Some(a.iter().filter_map(as_string).collect()),
        Value::String(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// The prefix length of a CIDR (or a bare address), IPv6 mapped onto the IPv4 scale
/// (prefix - 96, at least 0) so one threshold covers both.
pub fn cidr_v4_prefix(s: &str) -> Option<u8> {
    let (addr, len) = match s.trim().split_once('/') {
        Some((a, l)) => (a.trim(), Some(l.trim().parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(_) => {
            let l = len.unwrap_or(32);
            (l <= 32).then_some(l)
        }
        std::net::IpAddr::V6(_) => {
            let l = len.unwrap_or(128);
            (l <= 128).then_some(l.saturating_sub(96))
        }
    }
}

pub fn str_eq(a: &str, b: &str, ic: bool) -> bool {
    if ic {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Equality between an observed value and a catalog literal, by the literal's type.
pub fn loose_eq(have: &Value, want: &Value, ic: bool) -> Result<bool, String> {
    match want {
        Value::Bool(b) => java_bool(have)
            .map(|h| h == *b)
            .ok_or_else(|| format!("{} is not a boolean", short(have))),
        Value::Number(_) => match (as_f64(have), as_f64(want)) {
            (Some(h), Some(w)) => Ok(h == w),
            _ => Ok(false),
        },
        Value::String(w) => Ok(as_string(have).is_some_and(|h| str_eq(&h, w, ic))),
        other => Ok(have == other),
    }
}

/// Parses an octal mode string like `0640` or `640`.
pub fn parse_mode(s: &str) -> Option<u32> {
    let t = s.trim().trim_start_matches("0o");
    if t.is_empty() || t.len() > 5 {
        return None;
    }
    u32::from_str_radix(t, 8).ok().filter(|m| *m <= 0o7777)
}

pub fn mode_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|m| u32::try_from(m).ok()),
        Value::String(s) => parse_mode(s),
        _ => None,
    }
}

/// Unix seconds from a number or an RFC 3339 / `YYYY-MM-DD` string.
pub fn timestamp_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => crate::dates::parse_rfc3339(s),
        _ => None,
    }
}

/// A value for an error message, cut at 60 characters.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::cidr_v4_prefix;

    #[test]
    fn cidr_prefixes() {
        assert_eq!(cidr_v4_prefix("10.0.0.0/8"), Some(8));
        assert_eq!(cidr_v4_prefix(" 192.0.2.7 "), Some(32));
        assert_eq!(cidr_v4_prefix("0.0.0.0/0"), Some(0));
        assert_eq!(cidr_v4_prefix("::/0"), Some(0));
        assert_eq!(cidr_v4_prefix("2001:db8::/120"), Some(24));
        assert_eq!(cidr_v4_prefix("10.0.0.0/33"), None);
        assert_eq!(cidr_v4_prefix("nope/8"), None);
    }

    #[test]
    fn fact_timestamps_must_be_real_dates() {
        use super::timestamp_of;
        use serde_json::json;
        assert_eq!(timestamp_of(&json!("2099-02-28")), Some(4_075_920_000));
        assert_eq!(timestamp_of(&json!("2099-02-30")), None);
        assert_eq!(timestamp_of(&json!("2030-01-01T25:61:61Z")), None);
        assert_eq!(timestamp_of(&json!(86_400)), Some(86_400));
    }
}
