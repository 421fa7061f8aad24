//! The effects of a rollout's facts: each alert and metric exactly once, guarded by
//! the rollout's [`Done`](super::rollout::Done) flags.

use crate::model::{Millis, Timestamp, task_definition_name};
use crate::policy::{self, AlertBuilder, Finding};

use super::effects::{AlertName, Effect, Effects, MetricName, Transition};
use super::rollout::{Done, Rollout, RolloutState};
use super::service::{DeploymentTasks, ServiceState};

pub(crate) struct RolloutCtx<'a> {
    pub(crate) state: &'a ServiceState,
    pub(crate) rollout: &'a mut Rollout,
    pub(crate) stats: &'a DeploymentTasks,
    pub(crate) out: &'a mut Effects,
}

impl RolloutCtx<'_> {
    pub(crate) fn transition(&mut self, from: Option<RolloutState>, to: RolloutState) {
        let at = self.rollout.entered_at(to, self.stats.first_running_at);
        self.rollout.state = Some(to);
        self.out.items.push(Effect::Transition(Transition {
            service: self.state.service.clone(),
            deployment_id: self.rollout.deployment.clone(),
            from,
            to,
            at,
        }));
        let summary = self.state.summary(self.rollout);
        self.out
            .rollouts
            .retain(|r| r.deployment_id != summary.deployment_id);
        self.out.rollouts.push(summary);
    }

    fn what(&self) -> String {
        let td = self
            .stats
            .task_definition
            .as_deref()
            .map(|t| format!(" ({})", task_definition_name(t)))
            .unwrap_or_default();
        let kind = if self.rollout.is_rollback {
            "rollback"
        } else {
            "deployment"
        };
        format!("{kind} {}{td}", self.rollout.deployment)
    }

    fn alert(&self, name: AlertName, at: Timestamp) -> AlertBuilder<'_> {
        let td = self
            .stats
            .task_definition
            .as_deref()
            .map(|t| task_definition_name(t).to_owned());
        let rollback_of = self.rollout.rollback_of.clone();
        AlertBuilder::new(&self.state.service, name, at)
            .deployment(Some(&self.rollout.deployment))
            .details(|d| {
                d.task_definition = td;
                d.rollback_of = rollback_of;
            })
    }

    fn metric(&mut self, name: MetricName, value: f64, at: Timestamp) {
        let m = policy::metric(
            &self.state.service,
            name,
            value,
            at,
            Some(&self.rollout.deployment),
            "0",
        );
        self.out.items.push(m);
    }

    fn push(&mut self, e: Effect) {
        self.out.items.push(e);
    }

    /// Alerts and metrics implied by the facts, each once.
    pub(crate) fn effects_for(&mut self, state: RolloutState) {
        let svc = self.state.service.name();
        let r = &*self.rollout;
        let (start, first_running) = (r.started_at, self.stats.first_running_at);
        if let Some(at) = start.filter(|_| self.rollout.done.first(Done::STARTED)) {
            let what = self.what();
            let extra = match (&self.rollout.rollback_of, &self.rollout.rollback_to) {
                (Some(v), Some(to)) => format!(": rolling back {v} to {to}"),
                (Some(v), None) => format!(": rolling back {v}"),
                (None, Some(to)) => format!(": rolling back to {to}"),
                (None, None) => String::new(),
            };
            let e = self.alert(AlertName::DeploymentStarted, at).build(
                &format!("{what} started"),
                format!("{svc}: {what} started{extra}."),
            );
            self.push(e);
            self.metric(MetricName::DeploymentStarted, 1.0, at);
            self.check_config(at);
        }
        if let (Some(s), Some(f)) = (start, first_running)
            && self.rollout.done.first(Done::FIRST_RUNNING)
        {
            {
                self.metric(
                    MetricName::TimeToFirstRunningTask,
                    f.since(s).as_secs_f64(),
                    f,
                );
            }
        }
        if let Some(at) = self
            .rollout
            .failed_at
            .filter(|_| self.rollout.done.first(Done::FAILED))
        {
            let what = self.what();
            let reason = self
                .rollout
                .failed_reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            let last = self.stats.last_failure.clone();
            let tail = last
                .as_ref()
                .and_then(|l| l.reason.as_deref())
                .map(|r| format!(" Last task failure: {r}"))
                .unwrap_or_default();
            let e = self
                .alert(AlertName::DeploymentFailed, at)
                .details(|d| {
                    d.reason = Some(reason.clone());
                    d.stop_reason = last.as_ref().and_then(|l| l.reason.clone());
                    d.exits = last.map(|l| l.exits).unwrap_or_default();
                })
                .build(
                    &format!("{what} failed"),
                    format!("{svc}: {what} failed: {reason}{tail}"),
                );
            self.push(e);
            self.metric(MetricName::DeploymentFailed, 1.0, at);
        }
        match state {
            RolloutState::Completed if self.rollout.done.first(Done::COMPLETED) => self.completed(),
            RolloutState::RolledBack if self.rollout.done.first(Done::ROLLED_BACK) => {
                self.rolled_back()
            }
            _ => {}
        }
        if let Some(at) = self.rollout.stalled_at {
            if self.rollout.done.first(Done::STALLED) {
                let what = self.what();
                let after = at.since(self.rollout.start());
                let e = self.alert(AlertName::DeploymentStalled, at).build(
                    &format!("{what} stalled"),
                    format!(
                        "{svc}: {what} is still in progress after {} (health-check failures {}, tasks failed to start {}).",
                        after.human(),
                        self.stats.health_check_failures,
                        self.stats.start_failures
                    ),
                );
                self.push(e);
                self.metric(MetricName::DeploymentStalled, 1.0, at);
            }
            if state.is_terminal() && self.rollout.done.first(Done::STALL_RESOLVED) {
                let what = self.what();
                let end = self.rollout.finished_at().unwrap_or(at);
                let e = self
                    .alert(AlertName::DeploymentStalled, end)
                    .resolved()
                    .build(
                        &format!("{what} ended ({})", state.as_str()),
                        format!("{svc}: {what} ended {} after stalling.", state.as_str()),
                    );
                self.push(e);
            }
        }
    }

    fn completed(&mut self) {
        let Some(at) = self.rollout.completed_at else {
            return;
        };
        let svc = self.state.service.name();
        let what = self.what();
        let summary = self.state.summary(self.rollout);
        let duration = summary.duration_s;
        let downtime = summary.downtime_s;
        let took = duration
            .map(|d| format!(" in {}", Millis((d * 1000.0) as i64).human()))
            .unwrap_or_default();
        let e = self
            .alert(AlertName::DeploymentCompleted, at)
            .details(|d| {
                d.duration_s = duration;
                d.downtime_s = Some(downtime);
                d.failures = Some(summary.health_check_failures);
            })
            .build(
                &format!("{what} completed"),
                format!(
                    "{svc}: {what} completed{took}, downtime {}.",
                    Millis((downtime * 1000.0) as i64).human()
                ),
            );
        self.push(e);
        self.metric(MetricName::DeploymentSucceeded, 1.0, at);
        if let Some(d) = duration {
            self.metric(MetricName::DeploymentDuration, d, at);
        }
    }

    fn rolled_back(&mut self) {
        let Some((by, at)) = self.rollout.rolled_back.clone() else {
            return;
        };
        let svc = self.state.service.name();
        let what = self.what();
        let (hc, sf) = (self.stats.health_check_failures, self.stats.start_failures);
        let cause = match (hc, sf) {
            (0, 0) => String::new(),
            (h, 0) => format!(" after {h} health-check failure(s)"),
            (0, s) => format!(" after {s} task(s) failed to start"),
            (h, s) => format!(" after {h} health-check failure(s) and {s} failed start(s)"),
        };
        let last = self.stats.last_failure.clone();
        let tail = last
            .as_ref()
            .and_then(|l| l.reason.as_deref())
            .map(|r| format!(" Last task failure: {r}"))
            .unwrap_or_default();
        let e = self
            .alert(AlertName::DeploymentRolledBack, at)
            .details(|d| {
                d.rolled_back_by = Some(by.clone());
                d.failures = Some(hc + sf);
                d.stop_reason = last.as_ref().and_then(|l| l.reason.clone());
            })
            .build(
                &format!("{what} rolled back"),
                format!("{svc}: {what} is being rolled back by {by}{cause}.{tail}"),
            );
        self.push(e);
        self.metric(MetricName::DeploymentRolledBack, 1.0, at);
    }

    fn check_config(&mut self, at: Timestamp) {
        let Some(cfg) = self.state.config.as_ref() else {
            return;
        };
        if !self.rollout.done.first(Done::CONFIG_CHECKED) {
            return;
        }
        let a = policy::assess(cfg);
        if !a.findings.iter().any(|f| f.is_unsafe()) {
            return;
        }
        let svc = self.state.service.name();
        let what = self.what();
        let downtime = a.findings.contains(&Finding::DowntimePossible);
        let verdict = if downtime {
            "may stop the last serving task (downtime possible)"
        } else {
            "can neither start nor stop a task (the rollout will stall)"
        };
        let findings = a.explanation.clone();
        let e = self
            .alert(AlertName::UnsafeDeploymentConfig, at)
            .details(|d| d.findings = findings)
            .build(
                &format!("{what}: unsafe deployment settings"),
                format!(
                    "{svc}: {what} started with settings that {verdict}: desired {}, minimum healthy {}% → floor {}, maximum {}% → ceiling {}.",
                    a.desired, a.min_healthy_percent, a.floor, a.max_percent, a.ceiling
                ),
            );
        self.push(e);
    }
}
