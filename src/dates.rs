//! Dates and times, through the `time` crate: every date the tool reads (waiver
//! `expires`, `--as-of`, a facts file's `collected_at`, certificate dates in facts) goes
//! through [`parse_rfc3339`], so an impossible date such as `2099-02-30` or a time such
//! as `25:61:61` is rejected everywhere instead of rolling over.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// Unix seconds from an RFC 3339 date-time (`Z`, `+HH:MM` or `-HH:MM` offset, no offset
/// meaning UTC, optional fraction ignored; `T`, `t` or a space between date and time) or
/// a bare `YYYY-MM-DD` (midnight UTC). `None` for anything else, impossible dates
/// included.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = parse_date(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(date.midnight().assume_utc().unix_timestamp());
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .filter(|r| r.len() >= 8)?;
    let time = parse_hms(&rest[..8])?;
    let mut zone = &rest[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &frac[digits..];
    }
    let offset = match zone {
        "" | "Z" | "z" => UtcOffset::UTC,
        off => parse_offset(off)?,
    };
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

/// `YYYY-MM-DD`, a real calendar date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = digits(&s[0..4])?.try_into().ok()?;
    let month = Month::try_from(u8::try_from(digits(&s[5..7])?).ok()?).ok()?;
    let day = u8::try_from(digits(&s[8..10])?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `HH:MM:SS`, a real time of day (no leap second).
fn parse_hms(s: &str) -> Option<Time> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits(&s[r]).and_then(|v| u8::try_from(v).ok());
    Time::from_hms(n(0..2)?, n(3..5)?, n(6..8)?).ok()
}

/// `+HH:MM` or `-HH:MM`.
fn parse_offset(s: &str) -> Option<UtcOffset> {
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign: i8 = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = i8::try_from(digits(&s[1..3])?).ok()?;
    let m = i8::try_from(digits(&s[4..6])?).ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// An unsigned decimal made only of ASCII digits (no sign, no spaces).
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn accepts_dates_and_date_times() {
        assert_eq!(parse_rfc3339("1970-01-01"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339(" 2026-11-28t10:00:00z "), Some(1_795_860_000));
        assert_eq!(parse_rfc3339("2026-11-28 10:00:00"), Some(1_795_860_000));
        assert_eq!(
            parse_rfc3339("2026-11-28T10:00:00.123Z"),
            Some(1_795_860_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-28T12:00:00+02:00"),
            Some(1_795_860_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-28T08:30:00-01:30"),
            Some(1_795_860_000)
        );
    }

    #[test]
    fn rejects_impossible_dates_and_times() {
        for bad in [
            "2099-02-30",
            "2023-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-01-01T25:00:00Z",
            "2026-01-01T23:61:00Z",
            "2026-01-01T23:59:61Z",
            "2026-01-01T25:61:61Z",
            "2026-01-01T10:00:00+24:00",
            "2026-01-01T10:00:00+01:60",
            "2026-01-01T10:00:00.Z",
            "2026-01-01T10:00",
            "2026-1-01",
            "+026-01-01",
            "2026-01-01X",
            "",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?} must be rejected");
        }
    }
}
