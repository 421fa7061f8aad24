//! The crash-loop rule, `N/window` (default `3/15m`): how many crashes of a service's
//! tasks within how long make a loop.
//!
//! It sits in the model, beside the service configuration, because three places read
//! the same text: the functions' `CRASH_LOOP` environment variable, the per-service tag
//! `rollout-watcher:crash-loop` and the CLI's `--crash-loop` flag; the state machine
//! only ever sees the parsed rule.

use serde::{Deserialize, Serialize};

use super::timestamp::Millis;

/// At least `count` crashes within `window` make a crash loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashLoopRule {
    /// Crashes needed (at least 2: one crash is `task_crashed`, not a loop).
    pub count: u32,
    /// The window they must fall in; a loop resolves once a whole window passes
    /// without a crash.
    pub window: Millis,
}

impl Default for CrashLoopRule {
    fn default() -> Self {
        Self {
            count: 3,
            window: Millis::from_secs(15 * 60),
        }
    }
}

impl CrashLoopRule {
    /// Parses `N/DURATION` (`3/15m`, `5/1h`); `None` when the text is not that, N is
    /// below 2 or the window is empty.
    pub fn parse(text: &str) -> Option<Self> {
        let (count, window) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok()?;
        let window = Millis::parse_duration(window)?;
        (count >= 2 && window.0 > 0).then_some(Self { count, window })
    }

    /// `3 crashes within 15 min`.
    pub fn describe(self) -> String {
        format!("{} crashes within {}", self.count, self.window.human())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_reads_as_count_slash_duration() {
        assert_eq!(
            CrashLoopRule::parse("3/15m"),
            Some(CrashLoopRule::default())
        );
        assert_eq!(
            CrashLoopRule::parse(" 5 / 1h "),
            Some(CrashLoopRule {
                count: 5,
                window: Millis::from_secs(3600)
            })
        );
        for bad in ["", "3", "1/15m", "x/15m", "3/soon", "3/0s"] {
            assert_eq!(CrashLoopRule::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            CrashLoopRule::default().describe(),
            "3 crashes within 15 min"
        );
    }
}
