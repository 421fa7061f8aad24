//! Task lifecycles: how long each Fargate state lasts, and what a stop looks like.
//!
//! Durations are drawn from ranges that match Fargate timings (samples and reference
//! §4, §8): a task is RUNNING 16–52 s after it is created (ENI, image pull, start);
//! ALB health checks pass 20–40 s after RUNNING; a failing target is replaced 60–120 s
//! after RUNNING; a bad image gives up after 60–100 s of pull retries; a stopped task
//! drains (deregistration delay) for 20–28 s, then deprovisions in 3–6 s. A task serves
//! from RUNNING until its stop request (it is deregistered from the target group then),
//! so with the scheduler's 1–2 s reaction time the gap without a serving task in a
//! `min 0 %` rollout lasts 40–90 s: past a watcher's 30 s grace, the point of the
//! zero-running scenario.

use super::{Action, Engine, GRACE_MS, Step};
use crate::simulate::rng::Rng;
use crate::simulate::task::{Fate, Phase, StopCause, Task};

/// Seconds from PROVISIONING to PENDING (the ENI attaches).
const ENI_S: (u64, u64) = (8, 15);
/// Seconds from PENDING to the image pull starting.
const PULL_DELAY_S: (u64, u64) = (1, 2);
/// Seconds the image pull takes.
const PULL_S: (u64, u64) = (5, 25);
/// Seconds from the pull's end to RUNNING.
const START_S: (u64, u64) = (2, 10);

/// Draws `(pull delay, pull, start)` durations in ms, for a task that reached PENDING.
pub(super) fn startup(timing: &mut Rng) -> (u64, u64, u64) {
    let (delay, pull, start) = (PULL_DELAY_S, PULL_S, START_S);
    (
        timing.secs(delay.0, delay.1),
        timing.secs(pull.0, pull.1),
        timing.secs(start.0, start.1),
    )
}

/// Draws the PROVISIONING to PENDING duration in ms.
pub(super) fn attach(timing: &mut Rng) -> u64 {
    timing.secs(ENI_S.0, ENI_S.1)
}

impl Engine<'_> {
    /// A new task of deployment `dep`, placed round-robin across the subnets.
    pub(super) fn new_task(&mut self, dep: usize) -> usize {
        let d = &self.deployments[dep];
        let subnet = &self.subnets[self.tasks.len() % self.subnets.len()];
        let task = Task::new(
            &mut self.ids,
            subnet,
            dep,
            &d.id,
            d.revision,
            &d.digest,
            d.fate,
        );
        self.tasks.push(task);
        self.tasks.len() - 1
    }

    pub(super) fn task_step(&mut self, i: usize, step: Step) {
        let now = self.now;
        let t = &self.tasks[i];
        let (phase, live) = (t.phase, !t.stop_decided);
        match step {
            Step::Provision if phase == Phase::Requested => {
                self.tasks[i].phase = Phase::Provisioning;
                self.tasks[i].created_at = now;
                self.emit_task(i);
                let delay = attach(&mut self.timing);
                self.schedule(delay, Action::Task(i, Step::Pend));
            }
            Step::Pend if phase == Phase::Provisioning && live => {
                let (pull_delay, pull, start) = startup(&mut self.timing);
                let pull_started = now + pull_delay;
                let t = &mut self.tasks[i];
                t.phase = Phase::Pending;
                t.connectivity_at = Some(now);
                t.pull_started_at = Some(pull_started);
                let fate = t.fate;
                self.emit_task(i);
                if fate == Fate::FailsToPull {
                    let delay = self.timing.secs(60, 100);
                    self.schedule(delay, Action::Task(i, Step::FailPull));
                } else {
                    let pull_stopped = pull_started + pull;
                    self.tasks[i].pull_stopped_at = Some(pull_stopped);
                    let run_at = pull_stopped + start;
                    self.schedule_at(run_at, Action::Task(i, Step::Run));
                }
            }
            Step::Run if phase == Phase::Pending && live => self.run_task(i),
            Step::BecomeHealthy if phase == Phase::Running && live => {
                self.tasks[i].healthy = true;
                self.request_tick();
            }
            Step::FailHealthCheck if phase == Phase::Running && live => {
                self.decide_stop(i, StopCause::HealthCheck, 0);
            }
            Step::FailPull if phase == Phase::Pending && live => {
                let stopping = now - self.timing.between(400, 900);
                let t = &mut self.tasks[i];
                t.stop_decided = true;
                t.stop = Some(StopCause::PullFailed);
                t.stopping_at = Some(stopping);
                t.execution_stopped_at = Some(stopping + 200);
                t.stopped_at = Some(now);
                t.phase = Phase::Stopped;
                let dep = t.deployment;
                self.emit_task(i);
                self.record_failure(dep, &StopCause::PullFailed);
                self.request_tick();
            }
            Step::AnnounceStop if !matches!(phase, Phase::Requested | Phase::Stopped) => {
                self.tasks[i].stopping_at = Some(now);
                self.emit_task(i);
                let delay = if phase == Phase::Running {
                    self.timing.secs(20, 28)
                } else {
                    self.timing.secs(2, 5)
                };
                self.schedule(delay, Action::Task(i, Step::Deprovision));
            }
            Step::Deprovision => {
                let t = &mut self.tasks[i];
                t.phase = Phase::Deprovisioning;
                t.execution_stopped_at = Some(now);
                self.emit_task(i);
                let delay = self.timing.secs(3, 6);
                self.schedule(delay, Action::Task(i, Step::Stop));
            }
            Step::Stop => {
                let t = &mut self.tasks[i];
                t.phase = Phase::Stopped;
                t.stopped_at = Some(now);
                let (dep, cause) = (t.deployment, t.stop.clone());
                self.emit_task(i);
                if let Some(cause @ StopCause::HealthCheck) = cause {
                    self.record_failure(dep, &cause);
                }
                self.request_tick();
            }
            // A step overtaken by a stop decision (or a duplicate): nothing happens.
            _ => {}
        }
    }

    fn run_task(&mut self, i: usize) {
        let t = &mut self.tasks[i];
        t.phase = Phase::Running;
        t.started_at = Some(self.now);
        let (fate, dep) = (t.fate, t.deployment);
        self.emit_task(i);
        match fate {
            Fate::Healthy => {
                let delay = self.timing.secs(20, 40);
                self.schedule(delay, Action::Task(i, Step::BecomeHealthy));
            }
            Fate::FailsHealthChecks => {
                let delay = self.timing.secs(60, 120);
                self.schedule(delay, Action::Task(i, Step::FailHealthCheck));
            }
            Fate::FailsToPull => {}
        }
        let superseding = self.params.scenario == crate::simulate::Scenario::Superseded;
        if superseding && dep == super::MAIN && !self.supersede_planned {
            self.supersede_planned = true;
            let delay = self.timing.secs(5, 15);
            self.schedule(delay, Action::Supersede);
        }
    }

    /// Stops task `i` for `cause`; the stop request is emitted `delay` ms from now.
    pub(super) fn decide_stop(&mut self, i: usize, cause: StopCause, delay: u64) {
        let clean_exit = self.timing.coin();
        let t = &mut self.tasks[i];
        t.stop_decided = true;
        t.healthy = false;
        if t.phase == Phase::Requested {
            t.phase = Phase::Stopped; // never announced, so nothing to emit
            return;
        }
        if t.started_at.is_some() {
            let sigterm_ignored = cause == StopCause::HealthCheck || !clean_exit;
            t.exit_code = Some(if sigterm_ignored { 143 } else { 0 });
        }
        t.stop = Some(cause);
        self.schedule(delay, Action::Task(i, Step::AnnounceStop));
    }

    /// Emits task `i`'s event for its current state, and tracks serving tasks (RUNNING
    /// and not asked to stop, as a watcher counts them): after the rollout began, a
    /// stretch of more than [`GRACE_MS`] without any is downtime.
    pub(super) fn emit_task(&mut self, i: usize) {
        let now = self.now;
        let t = &self.tasks[i];
        let was_serving = t.announced_serving;
        let detail = t.detail(self.stream.names(), now);
        let resource = self.stream.names().task_arn(&t.id);
        self.stream
            .push("ECS Task State Change", now, resource, detail);
        let t = &mut self.tasks[i];
        t.version += 1;
        let serving = t.phase == Phase::Running && t.stopping_at.is_none();
        t.announced_serving = serving;
        match (was_serving, serving) {
            (false, true) => self.serving += 1,
            (true, false) => self.serving -= 1,
            _ => {}
        }
        if self.primary == 0 {
            return; // the service as it was: not watched yet
        }
        match (self.serving, self.zero_since) {
            (0, None) => self.zero_since = Some(now),
            (1.., Some(since)) => {
                self.downtime |= now - since > GRACE_MS;
                self.zero_since = None;
            }
            _ => {}
        }
    }
}
