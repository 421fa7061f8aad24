//! ECS's rolling update: new tasks start, old ones drain, the deployment completes.
//!
//! The states follow the facts in order of strength: what ECS says outright
//! (completed, failed) beats what the watcher infers (superseded), and a rollback
//! refines a failure. The deadline is a plain span from the start, since nothing in a
//! rolling update waits on purpose.

use crate::model::Timestamp;

use super::super::rollout::{Rollout, RolloutState};
use super::Strategy;

/// The rolling strategy (no state of its own).
pub(crate) struct Rolling;

impl Strategy for Rolling {
    fn derive(&self, r: &Rollout, first_running: Option<Timestamp>) -> RolloutState {
        if r.completed_at.is_some() {
            RolloutState::Completed
        } else if r.rolled_back.is_some() {
            RolloutState::RolledBack
        } else if r.failed_at.is_some() {
            RolloutState::Failed
        } else if r.superseded.is_some() {
            RolloutState::Superseded
        } else if r.stalled_at.is_some() {
            RolloutState::Stalled
        } else if r.draining_at.is_some() {
            RolloutState::Draining
        } else if first_running.is_some() {
            RolloutState::TasksRunning
        } else {
            RolloutState::Started
        }
    }

    fn entered_at(
        &self,
        r: &Rollout,
        state: RolloutState,
        first_running: Option<Timestamp>,
    ) -> Timestamp {
        let t = match state {
            RolloutState::Started => r.started_at,
            RolloutState::TasksRunning => first_running,
            RolloutState::Draining => r.draining_at,
            RolloutState::Stalled => r.stalled_at,
            RolloutState::Completed => r.completed_at,
            RolloutState::Failed => r.failed_at,
            RolloutState::RolledBack => r.rolled_back.as_ref().map(|b| b.1),
            RolloutState::Superseded => r.superseded.as_ref().map(|s| s.1),
            // Not states of a rolling update without hooks.
            RolloutState::Shifting | RolloutState::Baking | RolloutState::Paused => None,
        };
        t.unwrap_or(r.first_seen)
    }

    fn deadline(&self, r: &Rollout) -> Timestamp {
        r.start().plus(r.stall_after)
    }
}
