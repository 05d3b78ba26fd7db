use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::{SchemaError, string_type};

/// A UTC instant written `YYYY-MM-DDTHH:MM:SS.mmmZ` (millisecond precision), as in metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let t = DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Timestamp::from_datetime(t.with_timezone(&Utc)))
            .filter(|t| super::displays_as(t, s))
            .ok_or_else(|| SchemaError::Time {
                value: s.to_owned(),
                reason: "expected `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds)".into(),
            })?;
        Ok(t)
    }

    /// Truncates to milliseconds, the precision the format keeps.
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        let millis = t.timestamp_millis();
        Timestamp(DateTime::from_timestamp_millis(millis).expect("in range"))
    }

    /// The current time. Built with the `testing` feature (as the tests build the binary),
    /// `REGIS_NOW` set to a timestamp fixes it, so a test can compare two runs byte for byte.
    pub fn now() -> Self {
        #[cfg(any(test, feature = "testing"))]
        if let Some(fixed) = std::env::var("REGIS_NOW").ok().and_then(|t| t.parse().ok()) {
            return fixed;
        }
        Timestamp::from_datetime(Utc::now())
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn date(&self) -> Date {
        Date(self.0.date_naive())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

string_type!(Timestamp);

/// A calendar date `YYYY-MM-DD`, as in package sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Date)
            .filter(|d| super::displays_as(d, s))
            .ok_or_else(|| SchemaError::Time {
                value: s.to_owned(),
                reason: "expected a date `YYYY-MM-DD`".into(),
            })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

string_type!(Date);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_formats_only() {
        for s in ["2018-05-25T11:45:49.000Z", "2026-07-25T15:11:12.686Z"] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        for s in [
            "2018-05-25T11:45:49Z",
            "2018-05-25T11:45:49.000+00:00",
            "2018-05-25 11:45:49.000Z",
            "2018-05-25T11:45:49.0000Z",
            "2018-13-25T11:45:49.000Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
        assert_eq!(Date::parse("2024-01-01").unwrap().to_string(), "2024-01-01");
        assert!(Date::parse("2024-1-01").is_err());
        assert_eq!(
            Timestamp::parse("2026-07-25T15:11:12.686Z")
                .unwrap()
                .date()
                .to_string(),
            "2026-07-25"
        );
    }
}
