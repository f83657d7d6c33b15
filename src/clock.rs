//! Time as the pipeline writes and reads it: "now" to the second in RFC 3339 (every SBOM, verdict
//! and manifest stamp), calendar days (`YYYY-MM-DD`: exception expiries, advisory and KEV dates),
//! and ages as a person reads them. The lowest room: anything may use it.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, to the second: today's date (`2026-12-01`) and the RFC 3339 stamp
/// (`2026-12-01T17:50:00Z`; every stamp the same length, whenever it is written).
pub fn now() -> (String, String) {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let date = format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let stamp = now
        .format(&Rfc3339)
        .unwrap_or_else(|_| format!("{date}T00:00:00Z"));
    (date, stamp)
}

/// The RFC 3339 stamp of now.
pub fn stamp() -> String {
    now().1
}

/// A `YYYY-MM-DD` date (the first ten characters of an RFC 3339 time are one).
pub fn parse_day(text: &str) -> Option<time::Date> {
    let day = text.get(..10)?;
    let bytes = day.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = day.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    if bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let year = i32::try_from(digits(0..4)?).ok()?;
    time::Date::from_calendar_date(year, month, u8::try_from(digits(8..10)?).ok()?).ok()
}

/// Seconds from the RFC 3339 time `then` to `now`; `None` when `then` does not parse.
pub fn age_seconds(then: &str, now: OffsetDateTime) -> Option<i64> {
    let then = OffsetDateTime::parse(then, &Rfc3339).ok()?;
    Some((now - then).whole_seconds())
}

/// A duration in words a person reads at a glance: `40 s`, `12 min`, `5 h`, `3 days`.
pub fn describe_age(seconds: i64) -> String {
    match seconds {
        s if s < 0 => "in the future".to_string(),
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_stamps_and_ages() {
        let (date, stamp) = now();
        assert_eq!(date.len(), 10);
        assert!(stamp.starts_with(&date) && stamp.ends_with('Z') && stamp.len() == 20);
        assert_eq!(
            parse_day("2026-02-28T10:00:00Z"),
            time::Date::from_calendar_date(2026, time::Month::February, 28).ok()
        );
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(parse_day("2026"), None);
        assert_eq!(describe_age(30), "30 s");
        assert_eq!(describe_age(600), "10 min");
        assert_eq!(describe_age(5 * 3600), "5 h");
        assert_eq!(describe_age(3 * 86400), "3 days");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        assert_eq!(age_seconds("1970-01-12T13:46:00Z", now), Some(40));
        assert_eq!(age_seconds("yesterday", now), None);
    }
}
