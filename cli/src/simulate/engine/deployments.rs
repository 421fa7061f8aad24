//! Deployments: the previous one, the rollout, and what ends a rollout (completion,
//! the circuit breaker and its rollback, a user's newer deployment).
//!
//! These follow reference `ecs-events.md` §2 and §7.2–7.3: the breaker counts failed
//! tasks of the primary deployment and fails it at the threshold; a rollback is a new
//! deployment id running the task definition of the most recent COMPLETED deployment;
//! COMPLETED is announced once the primary deployment alone runs, healthy, at the
//! desired count.

use super::{Action, BASE_MS, Deployment, Engine, REVISIONS, SECOND, Status, tasks};
use crate::simulate::Scenario;
use crate::simulate::json::DeploymentEvent;
use crate::simulate::rules;
use crate::simulate::task::{Fate, Phase, StopCause, Task};

impl Engine<'_> {
    pub(super) fn add_deployment(
        &mut self,
        revision: u32,
        digest: Option<String>,
        fate: Fate,
    ) -> usize {
        let digest = digest.unwrap_or_else(|| format!("sha256:{}", self.ids.hex(64)));
        self.deployments.push(Deployment {
            id: self.deployment_ids.deployment_id(),
            revision,
            digest,
            fate,
            status: Status::InProgress,
            failures: 0,
            rolled_back: false,
            completing: false,
        });
        self.deployments.len() - 1
    }

    /// D0: `desired` tasks started an hour earlier, seen only as their RUNNING events.
    pub(super) fn previous_deployment(&mut self) {
        let d0 = self.add_deployment(REVISIONS[0], None, Fate::Healthy);
        self.deployments[d0].status = Status::Completed;
        let mut created = BASE_MS - 3600 * SECOND;
        for _ in 0..self.params.desired {
            created += self.timing.between(1_000, 3_000);
            let connected = created + tasks::attach(&mut self.timing);
            let (pull_delay, pull, start) = tasks::startup(&mut self.timing);
            let pull_started = connected + pull_delay;
            let pull_stopped = pull_started + pull;
            let started = pull_stopped + start;
            let i = self.new_task(d0);
            let task = &mut self.tasks[i];
            task.created_at = created;
            task.connectivity_at = Some(connected);
            task.pull_started_at = Some(pull_started);
            task.pull_stopped_at = Some(pull_stopped);
            task.started_at = Some(started);
            task.phase = Phase::Running;
            task.healthy = true;
            task.version = 2;
        }
        let mut order: Vec<usize> = (0..self.tasks.len()).collect();
        order.sort_by_key(|&i| self.tasks[i].started_at);
        for i in order {
            self.now = self.tasks[i].started_at.unwrap_or(BASE_MS);
            self.emit_task(i);
        }
    }

    /// D1: the rollout of the new task definition.
    pub(super) fn begin_rollout(&mut self) {
        let fate = match self.params.scenario {
            Scenario::HealthCheckRollback => Fate::FailsHealthChecks,
            Scenario::BadImage => Fate::FailsToPull,
            _ => Fate::Healthy,
        };
        self.now = BASE_MS;
        let d1 = self.add_deployment(REVISIONS[1], None, fate);
        self.announce(d1, DeploymentEvent::InProgress, None);
        self.primary = d1;
        if self.native.is_some() {
            self.native_begin();
        } else {
            self.request_tick();
        }
    }

    pub(super) fn announce(&mut self, dep: usize, kind: DeploymentEvent, reason: Option<String>) {
        let id = self.deployments[dep].id.clone();
        let reason = reason.unwrap_or_else(|| match kind {
            DeploymentEvent::Completed => format!("ECS deployment {id} completed."),
            _ => format!("ECS deployment {id} in progress."),
        });
        self.stream.deployment(kind, &id, self.now, &reason);
    }

    /// The primary deployment is done when exactly `desired` of its tasks are healthy
    /// and every other task has STOPPED.
    pub(super) fn settled(&self) -> bool {
        let healthy = |t: &&Task| t.deployment == self.primary && t.healthy && !t.stop_decided;
        let ours = self.tasks.iter().filter(healthy).count();
        let others_stopped = self
            .tasks
            .iter()
            .all(|t| t.phase == Phase::Stopped || healthy(&t));
        others_stopped && ours == self.params.desired as usize
    }

    pub(super) fn check_completion(&mut self) {
        let dep = &self.deployments[self.primary];
        if dep.status == Status::InProgress && !dep.completing && self.settled() {
            self.deployments[self.primary].completing = true;
            let delay = self.timing.secs(5, 20);
            self.schedule(delay, Action::Complete(self.primary));
        }
    }

    pub(super) fn complete(&mut self, dep: usize) {
        if dep != self.primary || self.deployments[dep].status != Status::InProgress {
            return;
        }
        if !self.settled() {
            self.deployments[dep].completing = false;
            self.request_tick();
            return;
        }
        self.announce(dep, DeploymentEvent::Completed, None);
        self.deployments[dep].status = Status::Completed;
        let delay = self.timing.secs(2, 15);
        self.schedule(delay, Action::SteadyState);
    }

    /// Counts a failed task of `dep`: throttles replacements and, at the threshold,
    /// trips the circuit breaker (or, without it, ends the stream after a few more).
    pub(super) fn record_failure(&mut self, dep: usize, kind: &StopCause) {
        self.deployments[dep].failures += 1;
        let d = &self.deployments[dep];
        if dep != self.primary || d.status != Status::InProgress {
            return;
        }
        let failures = d.failures;
        self.throttle_until = self.now + rules::backoff_ms(failures) + self.timing.secs(0, 10);
        if !self.params.circuit_breaker {
            self.halted = failures >= self.threshold + 2;
            return;
        }
        if failures >= self.threshold {
            let reason = match kind {
                StopCause::PullFailed => "ECS deployment circuit breaker: task failed to start.",
                _ => "ECS deployment circuit breaker: tasks failed ELB health checks.",
            };
            self.announce(dep, DeploymentEvent::Failed, Some(reason.to_owned()));
            self.deployments[dep].status = Status::Failed;
            let delay = self.timing.between(500, 2_000);
            self.schedule(delay, Action::Rollback(dep));
        }
    }

    /// The circuit breaker rolls back to the most recent COMPLETED deployment, as a new
    /// deployment running that deployment's task definition.
    pub(super) fn rollback(&mut self, failed: usize) {
        let Some(target) = self.deployments[..failed]
            .iter()
            .rposition(|d| d.status == Status::Completed)
        else {
            return; // ECS: nothing to roll back to, the deployment stalls.
        };
        let (revision, digest) = {
            let t = &self.deployments[target];
            (t.revision, t.digest.clone())
        };
        let reason = format!(
            "ECS deployment circuit breaker: rolling back to deploymentId {}.",
            self.deployments[target].id
        );
        let dep = self.add_deployment(revision, Some(digest), Fate::Healthy);
        self.announce(dep, DeploymentEvent::InProgress, Some(reason));
        self.deployments[failed].rolled_back = true;
        self.switch_primary(dep);
    }

    /// A user starts another deployment while the main one is still rolling out.
    pub(super) fn supersede(&mut self) {
        let dep = self.add_deployment(REVISIONS[2], None, Fate::Healthy);
        self.announce(dep, DeploymentEvent::InProgress, None);
        if self.deployments[self.primary].status == Status::InProgress {
            self.deployments[self.primary].status = Status::Superseded;
        }
        self.switch_primary(dep);
    }

    pub(super) fn switch_primary(&mut self, dep: usize) {
        self.primary = dep;
        self.throttle_until = 0;
        self.request_tick();
    }

    /// In the superseded scenario the user deploys again even if the rollout never got a
    /// task running (for example when the settings stall it).
    pub(super) fn supersede_when_idle(&mut self) -> bool {
        if self.params.scenario != Scenario::Superseded || self.supersede_planned {
            return false;
        }
        self.supersede_planned = true;
        let delay = self.timing.secs(120, 240);
        self.schedule(delay, Action::Supersede);
        true
    }
}
