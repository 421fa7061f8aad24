//! The tasks of one service: versions, serving intervals, and the gaps between them
//! (which the zero windows read).
//!
//! A task serves from `startedAt` until ECS asks it to stop (`stoppingAt`, or the
//! first event with `desiredStatus` STOPPED): from then on the load balancer drains it
//! and it takes no new traffic. Keeping each task's interval (rather than a running
//! counter) makes the count at any instant independent of the order the events came
//! in: a late RUNNING event fills the gap it belongs to instead of corrupting a total.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{DeploymentId, TaskObservation, TaskStatus, Timestamp};

use super::super::stop::{StopInfo, classify};
use super::ids::{Id, TaskDeployment};

/// What the watcher remembers of one task (short field names: this is stored once
/// per task in the service item, and a 500-task service must stay far below 400 KB).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub(crate) deployment: Option<TaskDeployment>,
    #[serde(rename = "v")]
    pub(crate) version: u64,
    #[serde(rename = "s")]
    pub(crate) status: u8,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub(crate) started_at: Option<Timestamp>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub(crate) serve_end: Option<Timestamp>,
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) classified: bool,
}

/// The stand-in for a task DescribeServices saw running but no event reported.
const OBSERVED: &str = "observed-by-describe-services";

/// What one task event changed.
#[derive(Debug, Default)]
pub(crate) struct TaskChange {
    /// The event was a duplicate or older than what is known.
    pub(crate) stale: bool,
    /// The task reached RUNNING at this instant (first time seen).
    pub(crate) started: Option<Timestamp>,
    /// ECS asked it to stop at this instant (first time seen).
    pub(crate) stop_requested: Option<Timestamp>,
    /// The stop was classified (first time a reason or code was seen).
    pub(crate) stop: Option<StopInfo>,
    /// With `stop`: when the task reached RUNNING, if it ever did.
    pub(crate) ran_since: Option<Timestamp>,
}

const fn rank(s: TaskStatus) -> u8 {
    match s {
        TaskStatus::Pending => 0,
        TaskStatus::Running => 1,
        TaskStatus::Stopping => 2,
        TaskStatus::Stopped => 3,
    }
}

/// The tasks of one service, by task id (held compact: a replay of a busy account
/// holds a hundred thousand of them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Tasks(BTreeMap<Id, TaskRecord>);

impl Tasks {
    /// Applies a task event. `detail.version` guards against duplicates and
    /// reordering; without a version, the lifecycle order does.
    pub(crate) fn observe(&mut self, t: &TaskObservation, event_time: Timestamp) -> TaskChange {
        let status = rank(t.last_status);
        let fresh = TaskRecord {
            deployment: t.deployment.as_ref().map(TaskDeployment::new),
            version: 0,
            status: 0,
            started_at: None,
            serve_end: None,
            classified: false,
        };
        let rec = self.0.entry(Id::new(&t.task_id)).or_insert(fresh);
        let newer = if t.version > 0 || rec.version > 0 {
            t.version > rec.version
        } else {
            status > rec.status || rec.started_at.is_none() && rec.serve_end.is_none()
        };
        let mut change = TaskChange::default();
        if !newer {
            change.stale = true;
            return change;
        }
        rec.version = t.version;
        rec.status = rec.status.max(status);
        if rec.deployment.is_none() {
            rec.deployment = t.deployment.as_ref().map(TaskDeployment::new);
        }
        if rec.started_at.is_none() {
            rec.started_at = t.started_at;
            change.started = t.started_at;
        }
        let stopping = t.stop_requested || status >= rank(TaskStatus::Stopping);
        if stopping {
            let end = t.stopping_at.or(t.stopped_at).unwrap_or(event_time);
            let end = rec.serve_end.map_or(end, |e| e.min(end));
            if rec.serve_end.is_none() {
                change.stop_requested = Some(end);
            }
            rec.serve_end = Some(end);
        }
        let has_reason = t.stopped_reason.is_some() || t.stop_code.is_some();
        if stopping && has_reason && !rec.classified {
            rec.classified = true;
            change.stop = Some(StopInfo {
                class: classify(t, rec.started_at.is_some()),
                task_arn: t.task_arn.clone(),
                reason: t.stopped_reason.clone(),
                code: t.stop_code.clone(),
                exits: t.exits.clone(),
                scale_in: false,
            });
            change.ran_since = rec.started_at;
        }
        change
    }

    /// Forgets the tasks of deployments other than `by` that started serving by
    /// `completed` and have no stop on record, unless no other task would serve at
    /// `now`; says whether it forgot any.
    pub(crate) fn let_go_superseded(
        &mut self,
        by: &DeploymentId,
        completed: Timestamp,
        now: Timestamp,
    ) -> bool {
        let by = TaskDeployment::new(by);
        let superseded = |r: &TaskRecord| {
            r.status < rank(TaskStatus::Stopped)
                && r.serve_end.is_none()
                && r.started_at.is_some_and(|s| s <= completed)
                && r.deployment.as_ref().is_some_and(|d| *d != by)
        };
        let gone = self.0.values().filter(|r| superseded(r)).count();
        let serving = usize::try_from(self.serving_at(now)).unwrap_or(usize::MAX);
        if gone == 0 || serving <= gone {
            return false;
        }
        self.0.retain(|_, r| !superseded(r));
        true
    }

    /// Tasks serving at `t`.
    pub(crate) fn serving_at(&self, t: Timestamp) -> u32 {
        let n = self
            .0
            .values()
            .filter(|r| r.started_at.is_some_and(|s| s <= t) && r.serve_end.is_none_or(|e| t < e))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The last instant a task stopped serving, at or before `t`.
    pub(crate) fn last_end_before(&self, t: Timestamp) -> Option<Timestamp> {
        self.0
            .values()
            .filter(|r| r.started_at.is_some())
            .filter_map(|r| r.serve_end)
            .filter(|e| *e <= t)
            .max()
    }

    /// Whether some task serves at `z` (the start of a supposed gap), and otherwise
    /// the first instant after `z` at which a task started serving.
    pub(crate) fn gap_end_after(&self, z: Timestamp) -> Option<Timestamp> {
        if self.serving_at(z) > 0 {
            return Some(z);
        }
        self.0
            .values()
            .filter_map(|r| r.started_at)
            .filter(|s| *s > z)
            .min()
    }

    /// ECS says nothing runs: every task still believed serving stops serving at `at`.
    pub(crate) fn end_serving(&mut self, at: Timestamp) {
        for r in self.0.values_mut() {
            if r.started_at.is_some() && r.serve_end.is_none() {
                r.serve_end = Some(at);
            }
        }
    }

    /// ECS says a task runs that no event told of: a stand-in serves from `at` until
    /// the next real task starts (see [`Self::real_task_started`]).
    pub(crate) fn observed_serving(&mut self, at: Timestamp) {
        self.0.insert(
            Id::new(OBSERVED),
            TaskRecord {
                deployment: None,
                version: 0,
                status: rank(TaskStatus::Running),
                started_at: Some(at),
                serve_end: None,
                classified: false,
            },
        );
    }

    /// A real task started serving at `at`: the stand-in, if any, ends there.
    pub(crate) fn real_task_started(&mut self, at: Timestamp) {
        if let Some(r) = self.0.get_mut(&Id::new(OBSERVED))
            && r.serve_end.is_none()
        {
            r.serve_end = Some(at.max(r.started_at.unwrap_or(at)));
            r.status = rank(TaskStatus::Stopped);
        }
    }

    /// The part of `[from, to)` no known task served: the first and last uncovered
    /// instants, or `None` when tasks cover all of it. A closed zero window shrinks
    /// to this when a late event reveals a task that served during it.
    pub(crate) fn uncovered_hull(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Option<(Timestamp, Timestamp)> {
        let intervals: Vec<(Timestamp, Option<Timestamp>)> = self
            .0
            .values()
            .filter_map(|r| r.started_at.map(|s| (s, r.serve_end)))
            .collect();
        let mut start = from;
        while let Some(end) = intervals
            .iter()
            .filter(|(a, b)| *a <= start && b.is_none_or(|b| start < b))
            .map(|(_, b)| b.unwrap_or(to))
            .max()
        {
            start = end;
            if start >= to {
                return None;
            }
        }
        let mut end = to;
        while let Some(s) = intervals
            .iter()
            .filter(|(a, b)| *a < end && b.is_none_or(|b| end <= b))
            .map(|(a, _)| *a)
            .min()
        {
            end = s;
        }
        (start < end).then_some((start, end))
    }

    /// The deployment that started a task, when known.
    pub(crate) fn deployment_of(&self, task_id: &str) -> Option<DeploymentId> {
        self.0
            .get(&Id::new(task_id))
            .and_then(|r| r.deployment.as_ref()?.id())
    }

    /// Whether task `task_id` is remembered.
    pub(crate) fn holds(&self, task_id: &str) -> bool {
        self.0.contains_key(&Id::new(task_id))
    }

    /// Number of tasks remembered.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Forgets stopped tasks that ended before `horizon`, keeping at most `keep_stopped`
    /// stopped ones; their ids are added to `forgotten`. Returns the latest serving end among those forgotten, so the
    /// caller can still tell when the service last served.
    pub(crate) fn prune(
        &mut self,
        horizon: Timestamp,
        keep_stopped: usize,
        forgotten: &mut Vec<Id>,
    ) -> Option<Timestamp> {
        let mut stopped: Vec<(Timestamp, Id)> = self
            .0
            .iter()
            .filter(|(_, r)| r.status == rank(TaskStatus::Stopped))
            .map(|(id, r)| (r.serve_end.unwrap_or_default(), id.clone()))
            .collect();
        stopped.sort();
        let excess = stopped.len().saturating_sub(keep_stopped);
        let mut latest = None;
        for (i, (end, id)) in stopped.into_iter().enumerate() {
            if (i < excess || end < horizon)
                && let Some(r) = self.0.remove(&id)
            {
                forgotten.push(id);
                if r.started_at.is_some() {
                    latest = latest.max(r.serve_end);
                }
            }
        }
        latest
    }
}
