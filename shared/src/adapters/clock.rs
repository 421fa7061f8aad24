//! The system clock, the [`Clock`] port on the wall clock.

use async_trait::async_trait;

#[cfg(feature = "aws")]
use crate::model::Millis;
use crate::model::Timestamp;
use crate::ports::Clock;

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }

    #[cfg(feature = "aws")]
    async fn pause(&self, d: Millis) {
        tokio::time::sleep(std::time::Duration::from_millis(d.0.max(0).unsigned_abs())).await;
    }
}
