//! The deployments of one service: the facts ECS reports about each (started,
//! completed, failed, rolling back), what their tasks did, and the rollouts' states
//! and occurrences derived from both.
//!
//! Derived, never stepped: every event re-derives every rollout from its facts, and
//! each occurrence is produced once, when its `Done` flag is first set. So a duplicate
//! produces nothing and a reordered stream ends in the same place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    DeploymentChange, DeploymentId, DeploymentPhase, Millis, ServiceArn, ServiceConfig,
    TaskObservation, Timestamp, task_definition_name,
};

use super::super::effects::Transition;
use super::super::occurrence::{Failures, Occurrence, Occurrences, RolloutRef};
use super::super::rollout::{
    Done, RollbackFact, Rollout, RolloutState, RolloutSummary, Rollouts, StrategyKind,
};
use super::super::stop::{StopClass, StopInfo};
use super::super::strategy;
use super::hooks;
use super::zero::ZeroTracker;

/// What the tasks of one deployment did (kept apart from the rollout because task
/// events often arrive before the deployment's own IN_PROGRESS event).
/// The task figures of a service's deployments by deployment, boxed for the reason
/// [`Rollouts`] is.
pub(crate) type DeploymentStats = BTreeMap<DeploymentId, Box<DeploymentTasks>>;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeploymentTasks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_running_at: Option<Timestamp>,
    #[serde(default)]
    pub(crate) health_check_failures: u32,
    #[serde(default)]
    pub(crate) start_failures: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) crashes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_failure: Option<StopInfo>,
    pub(crate) last_seen: Timestamp,
}

impl DeploymentTasks {
    /// Notes a task event of this deployment (`started`: the task's start, when this
    /// event told it first).
    pub(super) fn saw_task(
        &mut self,
        t: &TaskObservation,
        time: Timestamp,
        started: Option<Timestamp>,
    ) {
        self.last_seen = self.last_seen.max(time);
        if self.task_definition.is_none() {
            self.task_definition.clone_from(&t.task_definition);
        }
        if let Some(s) = started {
            self.first_running_at = Some(self.first_running_at.map_or(s, |f| f.min(s)));
        }
    }

    /// Counts a failed task (health checks, a failed start, a crash after RUNNING);
    /// returns how many of its tasks failed so far, of any kind, as ECS's circuit
    /// breaker counts them.
    pub(super) fn count_failure(&mut self, stop: &StopInfo) -> u32 {
        self.last_failure = Some(stop.clone());
        match stop.class {
            StopClass::HealthCheck => self.health_check_failures += 1,
            StopClass::FailedToStart => self.start_failures += 1,
            _ => self.crashes += 1,
        }
        self.health_check_failures + self.start_failures + self.crashes
    }

    fn failures(&self) -> Failures {
        Failures {
            health_checks: self.health_check_failures,
            starts: self.start_failures,
            crashes: self.crashes,
            last: self.last_failure.clone(),
        }
    }
}

/// A rollout first seen at `seen`, following the strategy the service's
/// configuration names (with its bake time) when it is known.
pub(super) fn new_rollout(
    deployment: DeploymentId,
    seen: Timestamp,
    stall_after: Millis,
    config: Option<&ServiceConfig>,
) -> Rollout {
    let mut r = Rollout::new(deployment, seen, stall_after);
    (r.strategy, r.bake_allowance) = StrategyKind::of_config(config);
    r
}

/// Records a deployment fact; false when it told nothing new.
pub(super) fn record(
    rollouts: &mut Rollouts,
    rollbacks: &mut Vec<RollbackFact>,
    c: &DeploymentChange,
    time: Timestamp,
    (stall_after, config): (Millis, Option<&ServiceConfig>),
) -> bool {
    let existed = rollouts.contains_key(&c.deployment);
    let r = rollouts
        .entry(c.deployment.clone())
        .or_insert_with(|| Box::new(new_rollout(c.deployment.clone(), time, stall_after, config)));
    let before = r.clone();
    match c.phase {
        DeploymentPhase::InProgress => {
            let normal_known = existed && r.started_at.is_some() && !r.is_rollback;
            if let Some(to) = &c.rollback_to
                && !normal_known
            {
                r.is_rollback = true;
                r.rollback_to.clone_from(to);
            }
            r.started_at = Some(r.started_at.map_or(c.at, |s| s.min(c.at)));
        }
        DeploymentPhase::Completed => {
            r.completed_at = Some(r.completed_at.map_or(c.at, |s| s.min(c.at)))
        }
        DeploymentPhase::Failed => {
            r.failed_at = Some(r.failed_at.map_or(c.at, |s| s.min(c.at)));
            if r.failed_reason.is_none() {
                r.failed_reason.clone_from(&c.reason);
            }
        }
    }
    let mut changed = *r != before || !existed;
    if let Some(to) = &c.rollback_to {
        let fact = RollbackFact {
            by: c.deployment.clone(),
            to: to.clone(),
            at: c.at,
        };
        if !rollbacks.contains(&fact) {
            rollbacks.push(fact);
            changed = true;
        }
    }
    changed
}

/// The newest rollout that had started by `at`, is not `except` and is still open.
pub(super) fn newest_open<'a>(
    rollouts: &'a Rollouts,
    at: Timestamp,
    except: Option<&DeploymentId>,
) -> Option<&'a Rollout> {
    rollouts
        .values()
        .map(Box::as_ref)
        .filter(|r| Some(&r.deployment) != except && r.start() <= at)
        .filter(|r| !strategy::of(r).derive(r, None).is_terminal())
        .max_by_key(|r| (r.start(), r.deployment.clone()))
}

/// The rest of the service a rollout's occurrences read (never the other rollouts).
pub(super) struct View<'a> {
    pub(super) service: &'a ServiceArn,
    pub(super) clock: Option<Timestamp>,
    pub(super) deployments: &'a DeploymentStats,
    pub(super) zero: &'a ZeroTracker,
    pub(super) config: Option<&'a ServiceConfig>,
}

impl View<'_> {
    /// A rollout as reported.
    pub(super) fn summary(&self, r: &Rollout) -> RolloutSummary {
        let stats = self.deployments.get(&r.deployment);
        let finished = r.finished_at();
        let end = finished.or(self.clock).unwrap_or(r.start());
        let downtime = self.zero.downtime_within(r.start(), end);
        RolloutSummary {
            service: self.service.clone(),
            deployment_id: r.deployment.clone(),
            state: r.state.unwrap_or(RolloutState::Started),
            started_at: r.started_at,
            finished_at: finished,
            duration_s: match (r.started_at, finished) {
                (Some(s), Some(f)) => Some(f.since(s).as_secs_f64()),
                _ => None,
            },
            downtime_s: downtime.as_secs_f64(),
            downtime_known: r.started_at.is_some(),
            task_definition: stats
                .and_then(|s| s.task_definition.as_deref())
                .map(|t| task_definition_name(t).to_owned()),
            rollback_of: r.rollback_of.clone(),
            health_check_failures: stats.map_or(0, |s| s.health_check_failures),
            start_failures: stats.map_or(0, |s| s.start_failures),
            crashes: stats.map_or(0, |s| s.crashes),
            stalled: r.stalled_at.is_some(),
            first_running_at: stats.and_then(|s| s.first_running_at),
        }
    }

    /// Derives every rollout's state, oldest first, and what each implies once.
    pub(super) fn derive(&self, rollouts: &mut Rollouts, out: &mut Occurrences) {
        let clock = self.clock.unwrap_or_default();
        let mut order: Vec<&mut Rollout> = rollouts.values_mut().map(Box::as_mut).collect();
        order.sort_unstable_by(|a, b| (a.start(), &a.deployment).cmp(&(b.start(), &b.deployment)));
        let none = DeploymentTasks::default();
        for r in order {
            let rules = strategy::of(r);
            let stats = self
                .deployments
                .get(&r.deployment)
                .map_or(&none, Box::as_ref);
            let base = rules.derive(r, stats.first_running_at);
            if !base.is_terminal() && r.stalled_at.is_none() && clock >= rules.deadline(r) {
                r.stalled_at = Some(rules.deadline(r));
            }
            let state = rules.derive(r, stats.first_running_at);
            let previous = r.state;
            if previous != Some(state) {
                let at = rules.entered_at(r, state, stats.first_running_at);
                r.state = Some(state);
                out.push(Occurrence::Transition(Transition {
                    service: self.service.clone(),
                    deployment_id: r.deployment.clone(),
                    from: previous,
                    to: state,
                    at,
                }));
                out.summary(self.summary(r));
            }
            self.occurrences(r, stats, state, out);
        }
    }

    /// What the facts imply, each once.
    fn occurrences(
        &self,
        r: &mut Rollout,
        stats: &DeploymentTasks,
        state: RolloutState,
        out: &mut Occurrences,
    ) {
        let rollout = RolloutRef {
            deployment: r.deployment.clone(),
            is_rollback: r.is_rollback,
            task_definition: stats
                .task_definition
                .as_deref()
                .map(|t| task_definition_name(t).to_owned()),
            rollback_of: r.rollback_of.clone(),
            rollback_to: r.rollback_to.clone(),
        };
        let (start, first_running) = (r.started_at, stats.first_running_at);
        if let Some(at) = start.filter(|_| r.done.first(Done::STARTED)) {
            out.push(Occurrence::RolloutStarted {
                rollout: rollout.clone(),
                at,
            });
            if let Some(config) = self.config
                && r.done.first(Done::CONFIG_CHECKED)
                && config.check().findings.iter().any(|f| f.is_unsafe())
            {
                out.push(Occurrence::UnsafeConfig {
                    rollout: rollout.clone(),
                    at,
                    config: config.clone(),
                });
            }
        }
        if let (Some(s), Some(f)) = (start, first_running)
            && r.done.first(Done::FIRST_RUNNING)
        {
            out.push(Occurrence::FirstTaskRunning {
                deployment: r.deployment.clone(),
                at: f,
                after: f.since(s),
            });
        }
        if let Some(mut n) = r.native.take() {
            let ended = state.is_terminal().then(|| r.finished_at()).flatten();
            hooks::occurrences(&mut n, Some(&r.deployment), ended, out);
            r.native = Some(n);
        }
        if let Some(at) = r.failed_at.filter(|_| r.done.first(Done::FAILED)) {
            out.push(Occurrence::RolloutFailed {
                rollout: rollout.clone(),
                at,
                reason: r.failed_reason.clone(),
                last_failure: stats.last_failure.clone(),
                crashes: stats.crashes,
            });
        }
        match state {
            RolloutState::Completed if r.done.first(Done::COMPLETED) => {
                if let Some(at) = r.completed_at {
                    let summary = self.summary(r);
                    out.push(Occurrence::RolloutCompleted {
                        rollout: rollout.clone(),
                        at,
                        duration_s: summary.duration_s,
                        downtime_s: summary.downtime(),
                        health_check_failures: summary.health_check_failures,
                    });
                }
            }
            RolloutState::RolledBack if r.done.first(Done::ROLLED_BACK) => {
                if let Some((by, at)) = r.rolled_back.clone() {
                    out.push(Occurrence::RolledBack {
                        rollout: rollout.clone(),
                        at,
                        by,
                        failures: stats.failures(),
                    });
                } else if let Some(n) = r.native()
                    && let Some((at, hook)) = n.rollback()
                {
                    out.push(Occurrence::NativeRolledBack {
                        rollout: rollout.clone(),
                        at,
                        hook: hook.map(|h| hooks::hook_ref(h, &n.arn)),
                        reason: n.rollback_reason.clone(),
                        failures: stats.failures(),
                    });
                }
            }
            _ => {}
        }
        if let Some(at) = r.stalled_at {
            if r.done.first(Done::STALLED) {
                out.push(Occurrence::Stalled {
                    rollout: rollout.clone(),
                    at,
                    after: at.since(r.start()),
                    failures: stats.failures(),
                });
            }
            if state.is_terminal() && r.done.first(Done::STALL_RESOLVED) {
                out.push(Occurrence::StallEnded {
                    rollout,
                    at: r.finished_at().unwrap_or(at),
                    state,
                });
            }
        }
    }
}

const fn is_zero(n: &u32) -> bool {
    *n == 0
}
