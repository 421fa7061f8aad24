//! The lifecycle stages, played in the event loop.
//!
//! A deployment is a list of legs, one per stage visit (linear and canary visit
//! `PRE_PRODUCTION_TRAFFIC_SHIFT` and `PRODUCTION_TRAFFIC_SHIFT` once per step). A leg
//! is done when its work is done (a stage's own few seconds, green healthy, a traffic
//! shift, a bake, blue stopped) and every hook invoked at it has answered CONTINUE.
//! Typical durations are INFERRED (AWS documents none): 1–3 s for a stage without
//! work, 5–15 s for an ALB traffic shift; the bakes last exactly what is configured.
//!
//! A hook that fails (or times out with action ROLLBACK) rolls back: ECS documents no
//! ROLLBACK stage; the traffic-shift stages run again with the weights back on blue
//! (their Lambda hooks are invoked again), then green is scaled down. The deployment
//! event sequence of a native rollback is not documented: the simulator sends
//! `SERVICE_DEPLOYMENT_FAILED` ("hook execution failure(s) detected", the text seen in
//! containers-roadmap #2664) when the hook fails, and no new `ecs-svc` deployment,
//! because blue's tasks never stopped.

use super::hooks::Invocation;
use super::{Action, Engine, NativeStep, Status, Step};
use crate::simulate::StageMark;
use crate::simulate::json::DeploymentEvent;
use crate::simulate::native::{Hook, HookAction, Native};
use crate::simulate::rng::Rng;
use crate::simulate::task::{Phase, StopCause, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// A stage with nothing to do but its hooks.
    Brief,
    /// Green scales up to the desired count, beside blue, and becomes healthy.
    ScaleUp,
    /// Test (`true`) or production traffic moves to this weight on green.
    Shift(bool, u32),
    /// A bake of this many minutes.
    Bake(u32),
    /// Blue is scaled down to zero.
    CleanUp,
    /// Rollback: green is scaled down to zero.
    ScaleDownGreen,
}

#[derive(Debug, Clone, Copy)]
struct Leg {
    stage: &'static str,
    work: Work,
    /// A step bake is part of its step's PRODUCTION_TRAFFIC_SHIFT: no new stage, no hooks.
    visit: bool,
}

/// A native deployment in progress.
#[derive(Debug)]
pub(super) struct NativeRun {
    pub(super) config: Native,
    legs: Vec<Leg>,
    next: usize,
    epoch: u32,
    pub(super) open: u32,
    waiting: Option<Work>,
    pub(super) invocations: Vec<Invocation>,
    pub(super) hook_ids: Rng,
    pub(super) deployment_arn: String,
    pub(super) rolling_back: bool,
    test: u32,
    production: u32,
    pub(super) stages: Vec<StageMark>,
}

impl NativeRun {
    pub(super) fn new(config: Native, seed: u64, arn_prefix: &str) -> Self {
        let mut hook_ids = Rng::hooks(seed);
        let deployment_arn = format!("{arn_prefix}/{}", hook_ids.alphanumeric(21));
        let brief = |stage| Leg {
            stage,
            work: Work::Brief,
            visit: true,
        };
        let leg = |stage, work| Leg {
            stage,
            work,
            visit: true,
        };
        let mut legs = vec![
            brief("PRE_SCALE_UP"),
            leg("SCALE_UP", Work::ScaleUp),
            brief("POST_SCALE_UP"),
            leg("TEST_TRAFFIC_SHIFT", Work::Shift(true, 100)),
            brief("POST_TEST_TRAFFIC_SHIFT"),
        ];
        let (steps, step_bake) = config.strategy.steps();
        for (i, weight) in steps.iter().enumerate() {
            legs.push(brief("PRE_PRODUCTION_TRAFFIC_SHIFT"));
            legs.push(leg("PRODUCTION_TRAFFIC_SHIFT", Work::Shift(false, *weight)));
            if i + 1 < steps.len() && step_bake > 0 {
                legs.push(Leg {
                    stage: "PRODUCTION_TRAFFIC_SHIFT",
                    work: Work::Bake(step_bake),
                    visit: false,
                });
            }
        }
        legs.push(brief("POST_PRODUCTION_TRAFFIC_SHIFT"));
        legs.push(leg("BAKE_TIME", Work::Bake(config.bake_minutes)));
        legs.push(leg("CLEAN_UP", Work::CleanUp));
        Self {
            config,
            legs,
            next: 0,
            epoch: 0,
            open: 0,
            waiting: None,
            invocations: Vec::new(),
            hook_ids,
            deployment_arn,
            rolling_back: false,
            test: 0,
            production: 0,
            stages: Vec::new(),
        }
    }
}

impl Engine<'_> {
    fn run_mut(&mut self) -> Option<&mut NativeRun> {
        self.native.as_mut()
    }

    /// D1 went IN_PROGRESS: ECS starts the first stage a moment later.
    pub(super) fn native_begin(&mut self) {
        let delay = self.timing.secs(1, 3);
        self.schedule(delay, Action::Native(NativeStep::Enter));
    }

    pub(super) fn native_handle(&mut self, step: NativeStep) {
        match step {
            NativeStep::Enter => self.enter_leg(),
            NativeStep::WorkDone(epoch) => {
                if self.native.as_ref().is_some_and(|r| r.epoch == epoch) {
                    self.part_done();
                }
            }
            NativeStep::HookEnd(n) => self.hook_end(n),
        }
    }

    fn enter_leg(&mut self) {
        let now = self.now;
        let Some(run) = self.run_mut() else { return };
        let Some(leg) = run.legs.get(run.next).copied() else {
            return;
        };
        run.epoch += 1;
        run.open = 1;
        let epoch = run.epoch;
        if let Work::Shift(test, weight) = leg.work {
            if test {
                run.test = weight;
            } else {
                run.production = weight;
            }
        }
        if leg.visit {
            let mark = StageMark {
                at_ms: now,
                stage: leg.stage,
                test_percent: run.test,
                production_percent: run.production,
                rolling_back: run.rolling_back,
            };
            run.stages.push(mark);
        }
        let hooks: Vec<usize> = if leg.visit {
            let at = |h: &Hook| h.stages.contains(&leg.stage);
            (0..run.config.hooks.len())
                .filter(|&i| at(&run.config.hooks[i]))
                .collect()
        } else {
            Vec::new()
        };
        for hook in hooks {
            self.invoke(hook, leg.stage);
        }
        let done = Action::Native(NativeStep::WorkDone(epoch));
        match leg.work {
            Work::Brief => {
                let delay = self.timing.secs(1, 3);
                self.schedule(delay, done);
            }
            Work::Shift(..) => {
                let delay = self.timing.secs(5, 15);
                self.schedule(delay, done);
            }
            Work::Bake(minutes) => self.schedule(u64::from(minutes) * 60_000, done),
            Work::ScaleUp => {
                let mut offset = 0;
                for _ in 0..self.params.desired {
                    offset += self.timing.between(30, 250);
                    let i = self.new_task(self.primary);
                    self.schedule(offset, Action::Task(i, Step::Provision));
                }
                self.wait_for(Work::ScaleUp);
            }
            Work::CleanUp => {
                let by = self.deployments[self.primary].id.clone();
                self.scale_down(|dep, primary| dep != primary, &by);
                self.wait_for(Work::CleanUp);
            }
            Work::ScaleDownGreen => {
                let by = self.deployments[self.primary].id.clone();
                self.scale_down(|dep, primary| dep == primary, &by);
                self.wait_for(Work::ScaleDownGreen);
            }
        }
    }

    fn wait_for(&mut self, work: Work) {
        if let Some(run) = self.run_mut() {
            run.waiting = Some(work);
        }
        self.native_tick();
    }

    /// Asks the scheduler to stop every live task `pick` chooses, for deployment `by`.
    fn scale_down(&mut self, pick: impl Fn(usize, usize) -> bool, by: &str) {
        let mut offset = 0;
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            if pick(t.deployment, self.primary) && t.phase != Phase::Stopped && !t.stop_decided {
                offset += self.timing.between(30, 250);
                self.decide_stop(i, StopCause::Scaling(by.to_owned()), offset);
            }
        }
    }

    /// The scheduler's step for a native deployment: nothing starts or stops on its
    /// own; a leg waiting for tasks learns whether they are there.
    pub(super) fn native_tick(&mut self) {
        let Some(work) = self.native.as_ref().and_then(|r| r.waiting) else {
            return;
        };
        let primary = self.primary;
        let live = |t: &&Task| t.phase != Phase::Stopped;
        let done = match work {
            Work::ScaleUp => {
                let healthy = self
                    .tasks
                    .iter()
                    .filter(|t| t.deployment == primary && t.healthy && !t.stop_decided)
                    .count();
                healthy == self.params.desired as usize
            }
            Work::CleanUp => !self
                .tasks
                .iter()
                .filter(live)
                .any(|t| t.deployment != primary),
            Work::ScaleDownGreen => !self
                .tasks
                .iter()
                .filter(live)
                .any(|t| t.deployment == primary),
            _ => false,
        };
        if done {
            if let Some(run) = self.run_mut() {
                run.waiting = None;
            }
            self.part_done();
        }
    }

    /// One part of the current leg (its work or one hook) is done.
    pub(super) fn part_done(&mut self) {
        let Some(run) = self.run_mut() else { return };
        run.open = run.open.saturating_sub(1);
        if run.open > 0 {
            return;
        }
        run.next += 1;
        let (more, rolling_back) = (run.next < run.legs.len(), run.rolling_back);
        if more {
            let delay = self.timing.between(200, 1_500);
            self.schedule(delay, Action::Native(NativeStep::Enter));
        } else if rolling_back {
            let delay = self.timing.secs(5, 20);
            self.schedule(delay, Action::SteadyState);
        } else {
            // Blue is gone: the same COMPLETED rule as a rolling deployment's.
            self.deployments[self.primary].completing = true;
            let delay = self.timing.secs(5, 20);
            self.schedule(delay, Action::Complete(self.primary));
        }
    }

    /// A hook asked for a rollback: the deployment fails, and ECS moves traffic back to
    /// blue and scales green down.
    pub(super) fn native_rollback(&mut self) {
        let primary = self.primary;
        let reason = "deployment failed: hook execution failure(s) detected".to_owned();
        self.announce(primary, DeploymentEvent::Failed, Some(reason));
        self.deployments[primary].status = Status::Failed;
        self.deployments[primary].rolled_back = true;
        let Some(run) = self.run_mut() else { return };
        run.rolling_back = true;
        run.epoch += 1;
        run.waiting = None;
        for inv in &mut run.invocations {
            inv.open = false;
        }
        let mut legs = Vec::new();
        if run.test > 0 {
            legs.push(Leg {
                stage: "TEST_TRAFFIC_SHIFT",
                work: Work::Shift(true, 0),
                visit: true,
            });
        }
        if run.production > 0 {
            legs.push(Leg {
                stage: "PRODUCTION_TRAFFIC_SHIFT",
                work: Work::Shift(false, 0),
                visit: true,
            });
        }
        // Which stage the service deployment reports while green scales down is
        // UNKNOWN, so this leg records none.
        legs.push(Leg {
            stage: "CLEAN_UP",
            work: Work::ScaleDownGreen,
            visit: false,
        });
        run.legs = legs;
        run.next = 0;
        let delay = self.timing.between(500, 2_000);
        self.schedule(delay, Action::Native(NativeStep::Enter));
    }

    /// What an answered hook means for the leg.
    pub(super) fn hook_answered(&mut self, action: HookAction) {
        match action {
            HookAction::Continue => self.part_done(),
            HookAction::Rollback => self.native_rollback(),
        }
    }
}
