//! What a classified stop means for the service: a failure toward a rollout's circuit
//! breaker, a crash of a serving task, a deliberate scale-in, or nothing.
//!
//! The rules (DESIGN.md's `task_crashed` row): a task that reached RUNNING and then
//! stopped on its own (an essential container exited, or ran out of memory) crashed;
//! so did one stopped for failed health checks after serving when no rollout is open.
//! During a rollout a health-check stop is `health_check_failed` only, never also a
//! crash; so is one of a task whose own deployment failed or was rolled back (ECS
//! stops such tasks in the second between the failure and the rollback's start: they
//! never served as the service's settled tasks, and the failure already counts them). Only a task of a rollout open at the instant it stopped counts toward that
//! rollout's circuit breaker ("n of threshold"); outside a rollout, or when the
//! service's breaker is off, nothing counts, and no text says it does. A crash the
//! breaker counts is not one of a `crash_loop`: it pages through the rollout's
//! failure, while the old tasks serve. Capacity taken back, scheduler and user stops are not
//! failures ([`StopClass::is_failure`]).

use crate::model::{DeploymentId, TaskObservation, Timestamp, task_id};

use super::super::occurrence::{Occurrence, Occurrences};
use super::super::rollout::{Rollout, Rollouts};
use super::super::stop::{StopClass, StopInfo};
use super::task_events::TaskParts;

/// The newest rollout open at `at`: started by then and not finished before it.
fn open_at(rollouts: &Rollouts, at: Timestamp) -> bool {
    rollouts.values().any(|r| own_open_at(r, at))
}

fn own_open_at(r: &Rollout, at: Timestamp) -> bool {
    r.started_at.is_some_and(|s| s <= at) && r.finished_at().is_none_or(|f| at <= f)
}

/// Whether the stop reason names `dep` ("Scaling activity initiated by (deployment X)").
fn names_own_deployment(stop: &StopInfo, dep: Option<&DeploymentId>) -> bool {
    let Some(dep) = dep else {
        return false;
    };
    stop.reason
        .as_deref()
        .and_then(DeploymentId::find_in)
        .is_some_and(|named| &named == dep)
}

impl TaskParts<'_> {
    /// A classified stop of task `t` at `at` (`ran_since`: when it reached RUNNING).
    pub(super) fn on_stop(
        &mut self,
        mut stop: StopInfo,
        dep: Option<DeploymentId>,
        (at, ran_since): (Timestamp, Option<Timestamp>),
        t: &TaskObservation,
        out: &mut Occurrences,
    ) {
        let in_rollout = open_at(self.rollouts, at);
        let own_rollout = dep
            .as_ref()
            .and_then(|d| self.rollouts.get(d))
            .is_some_and(|r| own_open_at(r, at));
        let own_failed = dep
            .as_ref()
            .and_then(|d| self.rollouts.get(d))
            .is_some_and(|r| r.failed_at.is_some() || r.rolled_back.is_some());
        let threshold = self.threshold;
        let crashed = ran_since.is_some()
            && (stop.class.is_crash()
                || stop.class == StopClass::HealthCheck && !in_rollout && !own_failed);
        let counted = matches!(
            stop.class,
            StopClass::HealthCheck | StopClass::FailedToStart
        );
        stop.scale_in = stop.class == StopClass::Deployment
            && !in_rollout
            && names_own_deployment(&stop, dep.as_ref());
        let stats = dep.as_ref().and_then(|d| self.deployments.get_mut(d));
        let task_definition = stats
            .as_ref()
            .and_then(|s| s.task_definition.clone())
            .or_else(|| t.task_definition.clone())
            .map(|t| crate::model::task_definition_name(&t).to_owned());
        if !crashed && !counted {
            if stop.class.is_failure()
                && let Some(stats) = stats
            {
                stats.last_failure = Some(stop.clone());
            }
            *self.last_stop = Some(stop);
            return;
        }
        // Health-check and start failures are counted as they always were (the
        // rollout summaries read them); a crash counts only toward its own rollout.
        let failures = match stats {
            Some(stats) if counted || own_rollout => Some(stats.count_failure(&stop)),
            _ => None,
        };
        let breaker = failures
            .filter(|_| own_rollout && !self.breaker_off)
            .map(|n| (n, threshold));
        if crashed {
            // A crash its rollout's circuit breaker counts is the breaker's: the old
            // tasks still serve, and the rollout's failure pages if it trips. A loop
            // is made of the crashes nothing else acts on.
            if breaker.is_none() {
                self.crashes.record(at, task_id(&stop.task_arn));
            }
            out.push(Occurrence::TaskCrashed {
                stop: stop.clone(),
                deployment: dep,
                task_definition,
                started: ran_since,
                breaker,
                at,
            });
        } else {
            out.push(Occurrence::TaskFailed {
                stop: stop.clone(),
                deployment: dep,
                task_definition,
                breaker,
                at,
            });
        }
        *self.last_stop = Some(stop);
    }
}
