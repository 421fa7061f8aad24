//! Keeping a service's state bounded: the deployed functions store it in one
//! DynamoDB item (400 KB at most), read and written on every event, and `replay`
//! holds thousands of them, so what is no longer needed is forgotten, and what is
//! forgotten is remembered just enough to recognise its late events.
//!
//! Two bounds apply. Counts keep the item small whatever the traffic. Event time
//! lets go, past [`LATE_LIMIT`], of what is kept only for events that come late (a
//! finished rollout, its deployment's task figures, the id of a forgotten task):
//! AWS's retries bring no event later than that, and one that comes later anyway is
//! not applied, so nothing the watcher says changes.

use std::collections::VecDeque;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{DeploymentId, Input, InputKind, Millis, Timestamp};

use super::super::rollout::{RollbackFact, Rollout, RolloutState, Rollouts};
use super::deployments::DeploymentStats;
use super::ids::Id;
use super::tasks::Tasks;

/// How far behind a service's clock an event may be and still be applied.
///
/// It is the longest that AWS's own retries can hold an event back, at the most
/// any setting allows: ECS retries its delivery to EventBridge for up to 24 h
/// (EventBridge user guide, "Event delivery from AWS services"); EventBridge retries
/// a rule target for up to 24 h ("Retrying event delivery"; the module's
/// `event_delivery.maximum_event_age_in_seconds`, 1 h by default); then, delivered
/// directly, Lambda's asynchronous queue keeps it for up to 6 h (the module's
/// `async_invoke`, 1 h by default), or, delivered through the module's SQS FIFO
/// queue, a failed message is received again after the visibility timeout (180 s
/// with the handler's default timeout) up to 5 times before it goes to the queue's
/// dead-letter queue. 24 + 24 + 6 h = 54 h; with the module's defaults an event
/// comes at most about 26 h late.
///
/// It is not a bound on what can arrive. An operator may redrive a dead-letter
/// queue days later (they keep messages for 14 days), or replay an archive; the FIFO
/// queue holds events for up to 4 days while the handler cannot take them, and the
/// sweeper moves the clock of a service with an open rollout meanwhile (reconciling
/// it with what ECS's APIs say). Such an event is not applied when the state may have
/// let go of what it is about (a rollout it does not hold, a task it does not hold
/// of such a rollout, a service action or hook while no rollout is open): applied, it
/// could bring back a rollout and page for it a second time. [`Effects::late`](crate::core::Effects::late)
/// marks it, the handler logs it with outcome `late`, `replay` counts it.
///
/// What the state keeps only for late events is let go once the service's clock is
/// this far past it: a finished rollout this long after it finished, the task
/// figures of a deployment no rollout held refers to this long after its last task
/// event, and the id of a forgotten task this long after it was forgotten.
pub const LATE_LIMIT: Millis = Millis::from_secs(54 * 3600);

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

/// The id of a task pruned from the state, and, while this process holds the state,
/// the service's clock when it was pruned: `replay` lets the id go once that is more
/// than [`LATE_LIMIT`] behind. The stored item keeps the bare id, as before this time
/// was kept, so that it grows by no byte; a state read back from it (the deployed
/// functions read it on every event) lets its ids go by the count bound only. Both
/// say the same: an event of a task pruned that long ago is too late anyway (it is
/// no newer than the task's STOPPED event, which came before the task was pruned).
#[derive(Clone, Debug)]
pub(crate) struct Forgotten {
    pub(crate) id: Id,
    pub(crate) at: Option<Timestamp>,
}

/// Equal as stored: the time is not part of the item.
impl PartialEq for Forgotten {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Forgotten {}

impl Serialize for Forgotten {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Forgotten {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            id: Id::deserialize(d)?,
            at: None,
        })
    }
}

/// The instant `LATE_LIMIT` before `clock`.
fn late_edge(clock: Timestamp) -> Timestamp {
    Timestamp::from_millis(clock.as_millis().saturating_sub(LATE_LIMIT.0))
}

/// Whether `input` comes too late to be applied: more than [`LATE_LIMIT`] behind
/// the service's clock, and about what the state may have let go of (a rollout it
/// does not hold, a task it does not hold of such a rollout; a service action or hook
/// while no rollout is open). Applied, it could bring back a rollout that then
/// stalls, or a task that never stops, and page for them a second time. An event
/// about what the state holds is applied however old: a single event dated years
/// ahead (a bad clock, hostile input) must not make the service deaf to its open
/// rollout.
pub(super) fn too_late(
    input: &Input,
    clock: Option<Timestamp>,
    rollouts: &Rollouts,
    tasks: &Tasks,
) -> bool {
    if clock.is_none_or(|c| input.time >= late_edge(c)) {
        return false;
    }
    let held = |d: &DeploymentId| rollouts.contains_key(d);
    match &input.kind {
        InputKind::Deployment(c) => !held(&c.deployment),
        InputKind::Task(t) => !tasks.holds(&t.task_id) && !t.deployment.as_ref().is_some_and(held),
        InputKind::ServiceAction(_) | InputKind::Hook(_) | InputKind::ServiceDeployment(_) => {
            !rollouts
                .values()
                .any(|r| !r.state.is_some_and(RolloutState::is_terminal))
        }
    }
}

/// Forgets stopped tasks past the horizon (or beyond the newest few), remembering
/// their ids as stale and when the last of them stopped serving; lets go of the ids
/// forgotten more than [`LATE_LIMIT`] ago.
pub(super) fn tasks(
    tasks: &mut Tasks,
    clock: Timestamp,
    pruned_last_end: &mut Option<Timestamp>,
    forgotten_tasks: &mut VecDeque<Forgotten>,
) {
    let horizon = Timestamp::from_millis(clock.as_millis().saturating_sub(TASK_HORIZON.0));
    let mut forgotten = Vec::new();
    if let Some(end) = tasks.prune(horizon, KEEP_STOPPED, &mut forgotten) {
        *pruned_last_end = (*pruned_last_end).max(Some(end));
    }
    forgotten_tasks.extend(forgotten.into_iter().map(|id| Forgotten {
        id,
        at: Some(clock),
    }));
    // Times only grow along the queue (after any bare ids of an older item).
    let late = late_edge(clock);
    if forgotten_tasks
        .iter()
        .find_map(|f| f.at)
        .is_some_and(|at| at < late)
    {
        forgotten_tasks.retain(|f| f.at.is_none_or(|at| at >= late));
    }
    while forgotten_tasks.len() > FORGOTTEN {
        forgotten_tasks.pop_front();
    }
}

/// Whether `r` finished more than [`LATE_LIMIT`] before `late`'s clock.
fn finished_before(r: &Rollout, late: Timestamp) -> bool {
    r.state.is_some_and(RolloutState::is_terminal) && r.finished_at().is_some_and(|f| f < late)
}

/// Forgets finished rollouts beyond the newest few or finished more than
/// [`LATE_LIMIT`] ago, and the rollback facts of forgotten rollouts; gives back the
/// rollouts forgotten, for their last summaries.
pub(super) fn rollouts(
    rollouts: &mut Rollouts,
    rollbacks: &mut Vec<RollbackFact>,
    clock: Timestamp,
) -> Vec<Rollout> {
    let late = late_edge(clock);
    let terminal = |r: &Rollout| r.state.is_some_and(RolloutState::is_terminal);
    let finished = rollouts.values().filter(|r| terminal(r)).count();
    if finished <= KEEP_FINISHED && !rollouts.values().any(|r| finished_before(r, late)) {
        return Vec::new();
    }
    let mut by_start: Vec<(Timestamp, DeploymentId, bool)> = rollouts
        .values()
        .filter(|r| terminal(r))
        .map(|r| (r.start(), r.deployment.clone(), finished_before(r, late)))
        .collect();
    by_start.sort();
    let excess = finished.saturating_sub(KEEP_FINISHED);
    let gone: Vec<Rollout> = by_start
        .into_iter()
        .enumerate()
        .filter(|(i, (_, _, due))| *i < excess || *due)
        .filter_map(|(_, (_, id, _))| rollouts.remove(&id))
        .map(|r| *r)
        .collect();
    rollbacks.retain(|f| rollouts.contains_key(&f.by));
    gone
}

/// Forgets the tasks that a completed rollout let go of proves stopped though their
/// STOPPED event never came (lost, or a stream with holes): ECS completes a
/// deployment only in steady state, every task of the service's other deployments
/// stopped, and past [`LATE_LIMIT`] no event of theirs can be applied any more, so
/// they would be counted as serving for ever. They are kept when no other task
/// would serve: that belief must not turn into a zero window and a page.
pub(super) fn superseded_tasks(tasks: &mut Tasks, gone: &[Rollout], clock: Timestamp) -> bool {
    let mut any = false;
    for r in gone {
        if r.state == Some(RolloutState::Completed)
            && let Some(completed) = r.finished_at()
        {
            any |= tasks.let_go_superseded(&r.deployment, completed, clock);
        }
    }
    any
}

/// Forgets the task figures of deployments no rollout held refers to: those last
/// seen more than [`LATE_LIMIT`] ago, and the oldest beyond the newest few.
pub(super) fn deployments(
    deployments: &mut DeploymentStats,
    rollouts: &Rollouts,
    clock: Timestamp,
) {
    let late = late_edge(clock);
    let unheld_due =
        |d: &DeploymentId, last_seen: Timestamp| last_seen < late && !rollouts.contains_key(d);
    if deployments.iter().any(|(d, s)| unheld_due(d, s.last_seen)) {
        deployments.retain(|d, s| !unheld_due(d, s.last_seen));
    }
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

/// Makes room in a dedup memory for one more key, keeping its newest [`RECENT`]:
/// before the push, so that the queue never grows past its bound.
pub(super) fn make_room<T>(keys: &mut VecDeque<T>) {
    while keys.len() >= RECENT {
        keys.pop_front();
    }
}

/// Keeps a dedup memory to its newest [`RECENT`] entries.
pub(super) fn memory<T>(keys: &mut VecDeque<T>) {
    while keys.len() > RECENT {
        keys.pop_front();
    }
}
