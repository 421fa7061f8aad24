//! What callers may ask of a service without changing it: its identity, clock and
//! configuration, the next deadline (the sweeper's cue), whether anything is open,
//! and its rollouts as reported.

use crate::model::{DeploymentId, ServiceArn, ServiceConfig, Timestamp};

use super::super::rollout::{Rollout, RolloutSummary};
use super::super::settings::Settings;
use super::super::strategy;
use super::ServiceState;

impl ServiceState {
    /// The service.
    pub fn service(&self) -> &ServiceArn {
        &self.service
    }

    /// The service's event time: the latest event time (or "now") seen.
    pub fn clock(&self) -> Option<Timestamp> {
        self.clock
    }

    /// The configuration last read from ECS, if any.
    pub fn config(&self) -> Option<&ServiceConfig> {
        self.config.as_ref()
    }

    /// Number of tasks remembered (for size checks).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The next instant at which something fires without a new event (a rollout's
    /// deadline, a zero's grace): the sweeper's cue, like quinn's `poll_timeout`.
    pub fn next_deadline(&self, settings: &Settings) -> Option<Timestamp> {
        let rollouts = self
            .rollouts
            .values()
            .filter(|r| r.state.is_none_or(|s| !s.is_terminal()) && r.stalled_at.is_none())
            .map(|r| strategy::of(r).deadline(r));
        rollouts
            .chain(self.zero.deadline(settings))
            .chain(self.crashes.deadline(self.crash_loop(settings)))
            .min()
    }

    /// Whether anything is open: a rollout in progress, a zero window or a crash loop.
    pub fn has_open_work(&self) -> bool {
        self.zero.open.is_some()
            || self.crashes.open()
            || self
                .rollouts
                .values()
                .any(|r| r.state.is_none_or(|s| !s.is_terminal()))
    }

    /// Summaries of every rollout still held, oldest first.
    pub fn rollouts(&self) -> Vec<RolloutSummary> {
        let mut v: Vec<&Rollout> = self.rollouts.values().map(Box::as_ref).collect();
        v.sort_by_key(|r| (r.start(), r.deployment.clone()));
        let view = self.view();
        v.into_iter().map(|r| view.summary(r)).collect()
    }

    /// The deployments in progress (not terminal), newest first.
    pub fn open_rollouts(&self) -> Vec<DeploymentId> {
        let mut v: Vec<&Rollout> = self
            .rollouts
            .values()
            .map(Box::as_ref)
            .filter(|r| r.state.is_none_or(|s| !s.is_terminal()))
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse((r.start(), r.deployment.clone())));
        v.into_iter().map(|r| r.deployment.clone()).collect()
    }

    /// Tasks serving at the service's current event time.
    pub fn serving_now(&self) -> u32 {
        self.clock.map_or(0, |c| self.tasks.serving_at(c))
    }
}
