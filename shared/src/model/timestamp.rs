//! Event time as whole milliseconds since the Unix epoch.
//!
//! ECS writes timestamps with anything from 0 to 9 fraction digits
//! (`2016-12-06T16:41:06.8Z`, `2022-08-08T05:07:00.61Z`, `2025-02-18T00:17:22Z`).
//! The state machine only ever compares and subtracts instants, so a plain integer is
//! the cheapest faithful representation: it is `Copy`, orders correctly, serialises as
//! an RFC 3339 string, and never consults the wall clock.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant in event time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// A span of event time in milliseconds (never negative where the core builds one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`Z` or an offset, 0-9 fraction digits); sub-millisecond
    /// digits are truncated.
    ///
    /// Only instants in years 0000-9999 UTC are accepted: those are the ones
    /// [`Self::to_rfc3339`] writes back as RFC 3339, so a state holding one always
    /// loads again. `9999-12-31T23:59:59-01:00` is valid RFC 3339 but lies in year
    /// 10000 UTC; stored, it would make the service's state unreadable.
    pub fn parse(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
        let ms = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
        let ms = i64::try_from(ms).ok()?;
        let utc = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
        (utc.year() >= 0).then_some(Self(ms))
    }

    /// This instant plus a span (saturating).
    #[must_use]
    pub const fn plus(self, span: Millis) -> Self {
        Self(self.0.saturating_add(span.0))
    }

    /// The span from `earlier` to `self`; zero when `earlier` is later.
    pub const fn since(self, earlier: Self) -> Millis {
        let d = self.0.saturating_sub(earlier.0);
        Millis(if d < 0 { 0 } else { d })
    }

    /// RFC 3339 in UTC: seconds precision when the milliseconds are zero.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let ms = self.0.rem_euclid(1000);
        match OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => {
                let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
                let (h, mi, s) = (t.hour(), t.minute(), t.second());
                if ms == 0 {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
                } else {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
                }
            }
            // Outside time's range (year beyond ±9999): keep the raw number visible.
            Err(_) => format!("@{}ms", self.0),
        }
    }
}

impl Millis {
    /// A span of whole seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// The span in seconds, as a float (for metrics and summaries).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Parses `90s`, `15m`, `2h`, `500ms` or a bare number of seconds.
    pub fn parse_duration(text: &str) -> Option<Self> {
        let t = text.trim();
        let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000)
        } else if let Some(n) = t.strip_suffix('h') {
            (n, 3_600_000)
        } else {
            (t, 1000)
        };
        let n: i64 = num.trim().parse().ok()?;
        if n < 0 {
            return None;
        }
        n.checked_mul(mult).map(Self)
    }

    /// Human form: `47 s`, `3 min 5 s`, `1 h 2 min`.
    pub fn human(self) -> String {
        let total = (self.0 + 500) / 1000;
        let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
        match (h, m) {
            (0, 0) => format!("{s} s"),
            (0, _) if s == 0 => format!("{m} min"),
            (0, _) => format!("{m} min {s} s"),
            _ => format!("{h} h {m} min"),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| {
            let shown: String = text.chars().take(120).collect();
            serde::de::Error::custom(format!(
                "not an RFC 3339 timestamp in years 0000-9999 UTC: {shown:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fraction_width_ecs_uses() {
        let base = Timestamp::parse("2016-12-06T16:41:06Z").map(Timestamp::as_millis);
        assert_eq!(base, Some(1_481_042_466_000));
        for (text, ms) in [
            ("2016-12-06T16:41:06.8Z", 800),
            ("2016-12-06T16:41:06.61Z", 610),
            ("2016-12-06T16:41:06.975Z", 975),
            ("2016-12-06T16:41:06.123456789Z", 123),
            ("2016-12-06T17:41:06.5+01:00", 500),
        ] {
            let got = Timestamp::parse(text).map(Timestamp::as_millis);
            assert_eq!(got, Some(1_481_042_466_000 + ms), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2016-12-06",
            "2016-13-06T16:41:06Z",
            "1481042466",
            "10000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-00:01",
            "0000-01-01T00:00:00+00:01",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_accepted_instant_formats_back_to_itself() {
        for text in [
            "0000-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "9999-12-31T23:59:59+01:00",
        ] {
            let t = Timestamp::parse(text);
            assert!(t.is_some(), "{text}");
            let back = t.map(|t| t.to_rfc3339());
            assert_eq!(back.as_deref().and_then(Timestamp::parse), t, "{text}");
        }
    }

    #[test]
    fn formats_back_to_rfc3339() {
        let t = Timestamp::from_millis(1_481_042_466_800);
        assert_eq!(t.to_rfc3339(), "2016-12-06T16:41:06.800Z");
        assert_eq!(
            Timestamp::from_millis(0).to_rfc3339(),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn durations_parse_and_print_for_people() {
        assert_eq!(Millis::parse_duration("15m"), Some(Millis(900_000)));
        assert_eq!(Millis::parse_duration("30s"), Some(Millis(30_000)));
        assert_eq!(Millis::parse_duration("45"), Some(Millis(45_000)));
        assert_eq!(Millis::parse_duration("-3s"), None);
        assert_eq!(Millis(47_000).human(), "47 s");
        assert_eq!(Millis(185_000).human(), "3 min 5 s");
        assert_eq!(Millis(3_720_000).human(), "1 h 2 min");
    }
}
