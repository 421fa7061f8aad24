//! Keeping a service's state bounded: the deployed functions store it in one
//! DynamoDB item (400 KB at most), read and written on every event, so what is no
//! longer needed is forgotten, and what is forgotten is remembered just enough to
//! recognise its late events.

use std::collections::VecDeque;

use crate::model::{DeploymentId, Millis, Timestamp};

use super::super::rollout::{RollbackFact, RolloutState, Rollouts};
use super::deployments::DeploymentStats;
use super::tasks::Tasks;

/// How many event ids and one-off alert keys are remembered for dedup.
pub(super) const RECENT: usize = 64;
/// Finished rollouts kept for rollback linking and late events.
const KEEP_FINISHED: usize = 8;
/// Stopped tasks kept for the zero-window arithmetic.
const KEEP_STOPPED: usize = 64;
/// Pruned task ids remembered as stale (about 10 KB at most).
const FORGOTTEN: usize = 256;
/// Stopped tasks older than this (event time) are forgotten.
const TASK_HORIZON: Millis = Millis::from_secs(3600);

/// Forgets stopped tasks past the horizon (or beyond the newest few), remembering
/// their ids as stale and when the last of them stopped serving.
pub(super) fn tasks(
    tasks: &mut Tasks,
    clock: Timestamp,
    pruned_last_end: &mut Option<Timestamp>,
    forgotten_tasks: &mut VecDeque<String>,
) {
    let horizon = Timestamp::from_millis(clock.as_millis().saturating_sub(TASK_HORIZON.0));
    let mut forgotten = Vec::new();
    if let Some(end) = tasks.prune(horizon, KEEP_STOPPED, &mut forgotten) {
        *pruned_last_end = (*pruned_last_end).max(Some(end));
    }
    forgotten_tasks.extend(forgotten);
    while forgotten_tasks.len() > FORGOTTEN {
        forgotten_tasks.pop_front();
    }
}

/// Forgets finished rollouts beyond the newest few, the rollback facts of forgotten
/// rollouts, and the task stats of deployments nothing refers to.
pub(super) fn rollouts(
    rollouts: &mut Rollouts,
    rollbacks: &mut Vec<RollbackFact>,
    deployments: &mut DeploymentStats,
) {
    let mut finished: Vec<(Timestamp, DeploymentId)> = rollouts
        .values()
        .filter(|r| r.state.is_some_and(RolloutState::is_terminal))
        .map(|r| (r.start(), r.deployment.clone()))
        .collect();
    finished.sort();
    let excess = finished.len().saturating_sub(KEEP_FINISHED);
    for (_, id) in finished.into_iter().take(excess) {
        rollouts.remove(&id);
    }
    rollbacks.retain(|f| rollouts.contains_key(&f.by));
    if deployments.len() > KEEP_FINISHED * 2 {
        let mut by_age: Vec<(Timestamp, DeploymentId)> = deployments
            .iter()
            .filter(|(d, _)| !rollouts.contains_key(*d))
            .map(|(d, s)| (s.last_seen, d.clone()))
            .collect();
        by_age.sort();
        let excess = deployments.len().saturating_sub(KEEP_FINISHED * 2);
        for (_, d) in by_age.into_iter().take(excess) {
            deployments.remove(&d);
        }
    }
}

/// Keeps a dedup memory to its newest [`RECENT`] entries.
pub(super) fn memory(keys: &mut VecDeque<String>) {
    while keys.len() > RECENT {
        keys.pop_front();
    }
}
