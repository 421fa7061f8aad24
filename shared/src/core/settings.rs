//! The knobs of the state machine: watcher-wide, from the environment or CLI flags.
//!
//! What the watcher knows of one service's configuration lives in the model
//! ([`ServiceConfig`](crate::model::ServiceConfig)): it comes from ECS, these come from
//! whoever runs the watcher.

use crate::model::{CrashLoopRule, Millis};

/// Watcher-wide settings (from the environment or CLI flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// A rollout in progress longer than this is `stalled` (default 15 min).
    pub stall_after: Millis,
    /// A zero must last this long in event time before `zero_running_tasks` fires
    /// (default 30 s), so that a late RUNNING event never pages anyone by mistake.
    pub zero_grace: Millis,
    /// When true, a zero past its grace waits for an [`Observation`](crate::model::Observation) (DescribeServices)
    /// before firing; the deployed functions set it, the offline replay does not.
    pub confirm_zero: bool,
    /// How many crashes within how long make `crash_loop` (default `3/15m`; the tag
    /// `rollout-watcher:crash-loop` overrides it per service).
    pub crash_loop: CrashLoopRule,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            stall_after: Millis::from_secs(15 * 60),
            zero_grace: Millis::from_secs(30),
            confirm_zero: false,
            crash_loop: CrashLoopRule::default(),
        }
    }
}
