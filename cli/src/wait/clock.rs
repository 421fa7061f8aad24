//! Time for the poll loop: the wall clock and sleeping behind [`Pacer`], so the
//! unit tests run a thirty-minute wait in no time; and the pause between polls
//! (the interval with jitter, doubled while ECS throttles).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollout_watcher::model::{Millis, Timestamp};

/// The longest pause between two polls while ECS throttles.
pub const MAX_BACKOFF: Millis = Millis::from_secs(60);

/// Where the loop gets "now" and how it waits.
pub trait Pacer {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Waits for `span`.
    fn sleep(&self, span: Millis) -> impl Future<Output = ()>;
}

/// The system clock and tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock;

impl Pacer for WallClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }

    async fn sleep(&self, span: Millis) {
        tokio::time::sleep(Duration::from_millis(u64::try_from(span.0).unwrap_or(0))).await;
    }
}

/// The pause before the next poll: `interval` (doubled per throttled round in a
/// row, up to [`MAX_BACKOFF`] or the interval if longer), within ±10 % so that many
/// pipelines started by one push do not poll ECS in step. `seed` is a xorshift
/// state the caller keeps.
pub fn next_wait(interval: Millis, throttled: u32, seed: &mut u64) -> Millis {
    let cap = MAX_BACKOFF.0.max(interval.0);
    let base = interval
        .0
        .saturating_mul(1_i64 << throttled.min(10))
        .min(cap)
        .max(0);
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let spread = base / 10;
    if spread == 0 {
        return Millis(base);
    }
    let offset = i64::try_from(*seed % u64::try_from(2 * spread + 1).unwrap_or(1)).unwrap_or(0);
    Millis(base - spread + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jitter stays within ±10 % of the interval; throttling doubles the pause up to
    /// a minute, and never below the interval itself.
    #[test]
    fn pauses_jitter_and_back_off() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100 {
            let w = next_wait(Millis::from_secs(5), 0, &mut seed);
            assert!((4500..=5500).contains(&w.0), "{w:?}");
        }
        let w = next_wait(Millis::from_secs(5), 2, &mut seed);
        assert!((18_000..=22_000).contains(&w.0), "{w:?}");
        let w = next_wait(Millis::from_secs(5), 30, &mut seed);
        assert!((54_000..=66_000).contains(&w.0), "{w:?}");
        let w = next_wait(Millis::from_secs(120), 3, &mut seed);
        assert!((108_000..=132_000).contains(&w.0), "{w:?}");
    }
}
