//! ECS-native deployments (blue/green, linear, canary) and rolling ones with
//! lifecycle hooks: between `tasks_running` and `completed` come `shifting`, `baking`
//! and `paused`, read from the service deployment's stages and hooks.
//!
//! What ECS says outright still wins (completed, failed), a rollback ECS began itself
//! (a hook failed or timed out into ROLLBACK, or the API says so) ends the rollout
//! `rolled_back`, and a paused deployment is not `stalled` before its pause expires:
//! the deadline does not count time paused nor the bake time, which is what these
//! deployments spend on purpose.

use crate::model::{Millis, Timestamp};

use super::super::rollout::{Rollout, RolloutState};
use super::Strategy;

/// The ECS-native strategies (and rolling with hooks).
pub(crate) struct Native;

/// Never: a deadline that cannot pass while the rollout waits on purpose.
const NEVER: Timestamp = Timestamp::from_millis(i64::MAX);

impl Strategy for Native {
    fn derive(&self, r: &Rollout, first_running: Option<Timestamp>) -> RolloutState {
        let n = r.native();
        if r.completed_at.is_some() {
            RolloutState::Completed
        } else if r.rolled_back.is_some() || r.native_rollback().is_some() {
            RolloutState::RolledBack
        } else if r.failed_at.is_some() {
            RolloutState::Failed
        } else if r.superseded.is_some() {
            RolloutState::Superseded
        } else if n.is_some_and(|n| n.open_pause().is_some()) {
            RolloutState::Paused
        } else if r.stalled_at.is_some() {
            RolloutState::Stalled
        } else if r.draining_at.is_some() || n.is_some_and(|n| n.clean_up().is_some()) {
            RolloutState::Draining
        } else if n.is_some_and(|n| n.baking().is_some()) {
            RolloutState::Baking
        } else if n.is_some_and(|n| n.shifting().is_some()) {
            RolloutState::Shifting
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
        let n = r.native();
        let t = match state {
            RolloutState::Started => r.started_at,
            RolloutState::TasksRunning => first_running,
            RolloutState::Draining => {
                let clean = n.and_then(|n| n.clean_up());
                match (r.draining_at, clean) {
                    (Some(d), Some(c)) => Some(d.min(c)),
                    (d, c) => d.or(c),
                }
            }
            RolloutState::Shifting => n.and_then(|n| n.shifting()),
            RolloutState::Baking => n.and_then(|n| n.baking()),
            RolloutState::Paused => n.and_then(|n| n.open_pause()).and_then(|h| h.awaiting_at),
            RolloutState::Stalled => r.stalled_at,
            RolloutState::Completed => r.completed_at,
            RolloutState::Failed => r.failed_at,
            RolloutState::RolledBack => r.rolled_back.as_ref().map(|b| b.1).or(r.native_rollback()),
            RolloutState::Superseded => r.superseded.as_ref().map(|s| s.1),
        };
        let t = t.unwrap_or(r.first_seen);
        // A state the rollout returns to when a pause ends is entered then, not when
        // its facts first held (the traffic shift began before the pause).
        let resumed = n
            .and_then(|n| n.last_pause_end())
            .filter(|_| !state.is_terminal());
        match resumed {
            Some(end) if state != RolloutState::Paused && state != RolloutState::Stalled => {
                t.max(end)
            }
            _ => t,
        }
    }

    /// `stall-after` + the bake time (per step for linear and canary) + time paused.
    /// Without the service's configuration the bakes the facts show stand in for the
    /// configured one, and an open bake holds the deadline. An open pause holds it
    /// until it expires, when ECS takes its timeout action: past that, with no word of
    /// what ECS did, it counts as paused until then and the rollout may be overdue.
    fn deadline(&self, r: &Rollout) -> Timestamp {
        let Some(n) = r.native() else {
            return r
                .start()
                .plus(r.stall_after)
                .plus(r.bake_allowance.unwrap_or_default());
        };
        let Some(paused) = n.paused() else {
            return NEVER;
        };
        let bake = match r.bake_allowance {
            Some(b) => b,
            None => match n.baked(r.draining_at.or(r.completed_at)) {
                Some(b) => b,
                None => return NEVER,
            },
        };
        let due = r
            .start()
            .plus(r.stall_after)
            .plus(Millis(bake.0.saturating_add(paused.0)));
        let expiry = n.open_pause().and_then(|h| h.expires_at);
        expiry.map_or(due, |e| due.max(e))
    }
}
