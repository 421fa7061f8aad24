//! Simulated time: milliseconds since the Unix epoch, printed the way ECS prints it.
//!
//! The generator never reads the wall clock (the same `Params` must give byte-identical
//! output), so time is a plain `u64` that the event loop advances. The CLI crate has no
//! date library, and the two formats ECS events use are easy to produce by hand:
//! `detail` timestamps with a millisecond fraction and the envelope `time` with
//! second precision.

/// 2026-03-02T10:00:00Z: the instant the simulated rollout begins.
pub(super) const BASE_MS: u64 = 1_772_445_600_000;

/// Milliseconds in a second, to keep duration arithmetic readable.
pub(super) const SECOND: u64 = 1_000;

/// `2026-03-02T10:00:05.123Z`: the form of `updatedAt`, `createdAt` and friends.
pub(super) fn millis(ms: u64) -> String {
    let (date, secs_of_day) = split(ms / SECOND);
    format!("{date}T{}.{:03}Z", hms(secs_of_day), ms % SECOND)
}

/// `2026-03-02T10:00:06Z`: the envelope `time`, rounded *up* to the second so that it is
/// never earlier than the `detail` timestamp the event reports.
pub(super) fn envelope_time(ms: u64) -> String {
    let (date, secs_of_day) = split(ms.div_ceil(SECOND));
    format!("{date}T{}Z", hms(secs_of_day))
}

/// `2026-03-05T15:54:41.618059641Z`: a hook event's `updatedAt`, nanoseconds as ECS
/// prints them (`sub_ms` is the nanoseconds below the millisecond, 0..=999_999).
pub(super) fn nanos(ms: u64, sub_ms: u64) -> String {
    let (date, secs_of_day) = split(ms / SECOND);
    format!(
        "{date}T{}.{:03}{:06}Z",
        hms(secs_of_day),
        ms % SECOND,
        sub_ms % 1_000_000
    )
}

/// `2026-03-05T16:04:41Z`: whole seconds, rounded down (a hook's `expiresAt`).
pub(super) fn whole_seconds(ms: u64) -> String {
    let (date, secs_of_day) = split(ms / SECOND);
    format!("{date}T{}Z", hms(secs_of_day))
}

fn hms(secs_of_day: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

/// Splits epoch seconds into a `YYYY-MM-DD` date and the seconds into that day.
fn split(epoch_secs: u64) -> (String, u64) {
    let days = epoch_secs / 86_400;
    let (y, m, d) = civil_from_days(days);
    (format!("{y:04}-{m:02}-{d:02}"), epoch_secs % 86_400)
}

/// Howard Hinnant's `civil_from_days`, restricted to dates after 1970 (all we need).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Parses the two forms above back to epoch milliseconds (tests replay the stream).
#[cfg(test)]
pub(super) fn parse(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut ymd = date.split('-').map(str::parse::<u64>);
    let (y, m, d) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = hms.split(':').map(str::parse::<u64>);
    let (hh, mm, ss) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    let millis = format!("{frac:0<3}").get(..3)?.parse::<u64>().ok()?;
    // days_from_civil, the inverse of civil_from_days.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * SECOND) + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_time_prints_as_the_brief_says() {
        assert_eq!(millis(BASE_MS), "2026-03-02T10:00:00.000Z");
        assert_eq!(envelope_time(BASE_MS + 5 * SECOND), "2026-03-02T10:00:05Z");
        assert_eq!(envelope_time(BASE_MS + 4_001), "2026-03-02T10:00:05Z");
        assert_eq!(
            millis(951_782_400_000 + 86_399_999),
            "2000-02-29T23:59:59.999Z"
        );
    }

    #[test]
    fn parse_inverts_both_forms() {
        for ms in [BASE_MS, BASE_MS + 123_456_789, 951_782_400_000] {
            assert_eq!(parse(&millis(ms)), Some(ms));
        }
        assert_eq!(parse("2022-08-08T05:07:00.61Z"), Some(1_659_935_220_610));
    }
}
