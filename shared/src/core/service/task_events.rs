//! What a task event means for the service: its deployment's stats, the draining of
//! the rollout it belongs to, and its stop (read in [`super::stops`]).
//!
//! Kept apart from [`super::tasks`], which only records the tasks themselves, so that
//! the task records stay below the deployments and zero windows that read them.

use std::collections::VecDeque;

use crate::model::{TaskObservation, TaskStatus, Timestamp};

use super::super::occurrence::Occurrences;
use super::super::rollout::Rollouts;
use super::super::stop::StopInfo;
use super::crashes::Crashes;
use super::deployments::{DeploymentStats, newest_open};
use super::ids::Id;
use super::retention::Forgotten;
use super::tasks::Tasks;

/// The parts of a service's state a task event touches.
pub(super) struct TaskParts<'a> {
    pub(super) tasks: &'a mut Tasks,
    /// Ids of pruned tasks: their events are stale.
    pub(super) forgotten_tasks: &'a VecDeque<Forgotten>,
    pub(super) serving_seen: &'a mut bool,
    pub(super) first_serving: &'a mut Option<Timestamp>,
    pub(super) deployments: &'a mut DeploymentStats,
    pub(super) rollouts: &'a mut Rollouts,
    pub(super) last_stop: &'a mut Option<StopInfo>,
    /// Crashes of serving tasks (see [`super::stops`]).
    pub(super) crashes: &'a mut Crashes,
    /// The circuit breaker's threshold, for the failure's words.
    pub(super) threshold: u32,
    /// The service's settings say its circuit breaker is off: no failure counts
    /// toward one (unknown settings: ECS may count them, and the words say so).
    pub(super) breaker_off: bool,
}

impl TaskParts<'_> {
    /// A task event: its deployment's stats, draining, and a failure occurrence.
    pub(super) fn on_task(
        &mut self,
        t: &TaskObservation,
        time: Timestamp,
        out: &mut Occurrences,
    ) -> bool {
        if !self.forgotten_tasks.is_empty() {
            let id = Id::new(&t.task_id);
            if self.forgotten_tasks.iter().any(|f| f.id == id) {
                return false;
            }
        }
        let change = self.tasks.observe(t, time);
        // Any RUNNING report, even one overtaken by a newer version, proves the service
        // was serving (a lone STOPPED event does not: see `serving_seen`).
        let newly_serving = t.last_status == TaskStatus::Running && !*self.serving_seen;
        *self.serving_seen |= newly_serving;
        if change.stale {
            return newly_serving;
        }
        let dep = t
            .deployment
            .clone()
            .or_else(|| self.tasks.deployment_of(&t.task_id));
        if let Some(d) = &dep {
            let stats = self.deployments.entry(d.clone()).or_default();
            stats.saw_task(t, time, change.started);
        }
        if let Some(s) = change.started {
            self.tasks.real_task_started(s);
            *self.first_serving = Some(self.first_serving.map_or(s, |f| f.min(s)));
        }
        if let Some(at) = change.stop_requested {
            let normal = change.stop.as_ref().is_none_or(|s| !s.class.is_failure());
            if normal {
                let newest =
                    newest_open(self.rollouts, at, dep.as_ref()).map(|r| r.deployment.clone());
                if let Some(r) = newest.and_then(|id| self.rollouts.get_mut(&id)) {
                    r.draining_at = Some(r.draining_at.map_or(at, |d| d.min(at)));
                }
            }
        }
        if let Some(stop) = change.stop {
            let at = t.stopping_at.or(t.stopped_at).unwrap_or(time);
            self.on_stop(stop, dep, (at, change.ran_since), t, out);
        }
        true
    }
}
