//! The event loop: a discrete-event simulation of the ECS service scheduler.
//!
//! Actions (a task moving to its next state, a scheduler step, a deployment event) sit
//! in a queue ordered by time and popped in order, so events are emitted in time order
//! and the envelope `time` never goes backwards. Nothing here decides what ECS may do:
//! each scheduler step asks [`rules::step`] and obeys it, which is why a stall, a gap
//! with zero running tasks or a slow rollout comes out of the settings rather than out
//! of a script. Scenarios only choose how the new tasks behave (their [`Fate`]) and
//! whether a user starts another deployment midway. Task lifecycles are in `tasks.rs`,
//! deployment lifecycles (completion, circuit breaker, rollback) in `deployments.rs`.

mod deployments;
mod hooks;
mod native;
mod tasks;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde_json::Value;

use super::clock::{BASE_MS, SECOND};
use super::json::{Names, Stream};
use super::rng::Rng;
use super::rules::{self, Fleet, Limits};
use super::task::{Fate, Phase, StopCause, Subnet, Task};
use super::{Params, StageMark};
use native::NativeRun;

/// The rollout the scenario is about (D1); D0 is the service as it was.
const MAIN: usize = 1;
/// Task definition revisions: D0 runs 41, the rollout deploys 42, a user's later one 43.
const REVISIONS: [u32; 3] = [41, 42, 43];
/// How long the service may have no serving task before that counts as downtime.
const GRACE_MS: u64 = 30 * SECOND;
/// A bound on the work per simulation, so that a bug cannot loop forever.
const MAX_ACTIONS: u64 = 5_000_000;

/// What happened to the main deployment, and to the service, by the end of the stream.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) events: Vec<Value>,
    pub(super) main: MainState,
    /// Some deployment was still in progress when the stream ended.
    pub(super) unfinished: bool,
    pub(super) downtime: bool,
    /// The lifecycle stages an ECS-native deployment went through (empty for rolling).
    pub(super) stages: Vec<StageMark>,
}

/// The main deployment's end state, in ECS terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MainState {
    InProgress,
    Completed,
    Failed,
    RolledBack,
    Superseded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Provision,
    Pend,
    Run,
    BecomeHealthy,
    FailHealthCheck,
    FailPull,
    AnnounceStop,
    Deprovision,
    Stop,
}

/// The native deployment's own actions in the event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum NativeStep {
    /// Enter the next leg.
    Enter,
    /// The work of the leg with this epoch is done.
    WorkDone(u32),
    /// Invocation `n` answers (or times out).
    HookEnd(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Task(usize, Step),
    Tick,
    Rollback(usize),
    Complete(usize),
    SteadyState,
    Supersede,
    Native(NativeStep),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InProgress,
    Completed,
    Failed,
    Superseded,
}

#[derive(Debug)]
struct Deployment {
    id: String,
    revision: u32,
    digest: String,
    fate: Fate,
    status: Status,
    failures: u32,
    rolled_back: bool,
    completing: bool,
}

/// The simulated service: deployments and tasks, the action queue, the stream.
struct Engine<'p> {
    params: &'p Params,
    limits: Limits,
    threshold: u32,
    timing: Rng,
    ids: Rng,
    deployment_ids: Rng,
    stream: Stream,
    subnets: Vec<Subnet>,
    now: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Action)>>,
    seq: u64,
    tasks: Vec<Task>,
    deployments: Vec<Deployment>,
    /// The deployment ECS rolls out now (index into `deployments`); 0 until D1 starts.
    primary: usize,
    tick_pending: bool,
    /// ECS's service throttle: no new task of the primary deployment before this.
    throttle_until: u64,
    supersede_planned: bool,
    /// The rollout settled (COMPLETED and steady state were emitted).
    finished: bool,
    /// Breaker off: enough failed attempts were shown; ECS would go on forever.
    halted: bool,
    /// Tasks serving per the emitted events, and since when there were none.
    serving: u32,
    zero_since: Option<u64>,
    downtime: bool,
    /// The ECS-native deployment's stages and hooks; `None` for a rolling one.
    native: Option<NativeRun>,
}

/// Runs one simulation to its end: the main rollout settles, or nothing more can happen.
pub(super) fn run(params: &Params) -> anyhow::Result<Outcome> {
    let mut engine = Engine::new(params);
    engine.previous_deployment();
    engine.begin_rollout();
    let mut actions = 0;
    loop {
        let Some(Reverse((at, _, action))) = engine.queue.pop() else {
            if engine.supersede_when_idle() {
                continue;
            }
            break;
        };
        actions += 1;
        if actions > MAX_ACTIONS {
            anyhow::bail!("simulation did not settle after {MAX_ACTIONS} steps");
        }
        engine.now = at;
        engine.handle(action);
        if engine.finished || engine.halted {
            break;
        }
    }
    Ok(engine.outcome())
}

impl<'p> Engine<'p> {
    fn new(params: &'p Params) -> Self {
        let names = Names::new(params);
        let mut ids = Rng::identity(params.seed);
        let subnets = (0..3u64)
            .map(|i| Subnet {
                id: format!("subnet-{}", ids.hex(17)),
                az: format!("{}{}", params.region, ["a", "b", "c"][(i % 3) as usize]),
                octet: 16 * i + ids.between(0, 15),
            })
            .collect();
        Self {
            params,
            limits: Limits::new(
                params.desired,
                params.min_healthy_percent,
                params.max_percent,
            ),
            threshold: rules::breaker_threshold(params.desired),
            timing: Rng::timing(params.seed),
            ids,
            deployment_ids: Rng::deployments(params.seed),
            stream: Stream::new(params.seed, names),
            subnets,
            now: BASE_MS,
            queue: BinaryHeap::new(),
            seq: 0,
            tasks: Vec::new(),
            deployments: Vec::new(),
            primary: 0,
            tick_pending: false,
            throttle_until: 0,
            supersede_planned: false,
            finished: false,
            halted: false,
            serving: 0,
            zero_since: None,
            downtime: false,
            native: params.native.clone().map(|config| {
                let names = Names::new(params);
                let prefix = format!(
                    "arn:aws:ecs:{}:{}:service-deployment/{}/{}",
                    names.region, names.account, names.cluster, names.service
                );
                NativeRun::new(config, params.seed, &prefix)
            }),
        }
    }

    fn schedule(&mut self, delay: u64, action: Action) {
        self.schedule_at(self.now + delay, action);
    }

    fn schedule_at(&mut self, at: u64, action: Action) {
        self.seq += 1;
        self.queue
            .push(Reverse((at.max(self.now), self.seq, action)));
    }

    fn handle(&mut self, action: Action) {
        match action {
            Action::Task(i, step) => self.task_step(i, step),
            Action::Tick => {
                self.tick_pending = false;
                self.tick();
            }
            Action::Rollback(dep) => self.rollback(dep),
            Action::Complete(dep) => self.complete(dep),
            Action::SteadyState => {
                self.stream.steady_state(self.now);
                self.finished = true;
            }
            Action::Supersede => self.supersede(),
            Action::Native(step) => self.native_handle(step),
        }
    }

    /// ECS reacts to a change within a second or two, not instantly.
    fn request_tick(&mut self) {
        if !self.tick_pending {
            self.tick_pending = true;
            let delay = self.timing.between(1_000, 2_000);
            self.schedule(delay, Action::Tick);
        }
    }

    fn fleet(&self) -> Fleet {
        let mut fleet = Fleet::default();
        for t in self.tasks.iter().filter(|t| t.phase != Phase::Stopped) {
            fleet.active += 1;
            let live = !t.stop_decided;
            let primary = t.deployment == self.primary;
            fleet.primary_live += u32::from(live && primary);
            fleet.healthy += u32::from(live && t.healthy);
            fleet.old_healthy += u32::from(live && t.healthy && !primary);
        }
        fleet
    }

    /// One scheduler step: stop what may be stopped, start what may be started.
    fn tick(&mut self) {
        if self.native.is_some() {
            self.native_tick();
            return;
        }
        let dep = &self.deployments[self.primary];
        let in_progress = dep.status == Status::InProgress;
        let throttled = self.now < self.throttle_until;
        let fleet = self.fleet();
        let step = rules::step(
            self.limits,
            self.params.desired,
            fleet,
            in_progress && !throttled,
        );
        let by = dep.id.clone();
        let old = |t: &Task, healthy: bool| {
            t.deployment != self.primary
                && t.phase != Phase::Stopped
                && !t.stop_decided
                && t.healthy == healthy
        };
        // Old tasks that are not healthy cost nothing to stop; healthy ones only down to
        // the floor.
        let stops: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| old(&self.tasks[i], false))
            .chain(
                (0..self.tasks.len())
                    .filter(|&i| old(&self.tasks[i], true))
                    .take(step.stop_healthy as usize),
            )
            .collect();
        let mut offset = 0;
        for i in stops {
            offset += self.timing.between(30, 250);
            self.decide_stop(i, StopCause::Scaling(by.clone()), offset);
        }
        for _ in 0..step.start {
            offset += self.timing.between(30, 250);
            let i = self.new_task(self.primary);
            self.schedule(offset, Action::Task(i, Step::Provision));
        }
        if in_progress && throttled && fleet.primary_live < self.params.desired {
            self.schedule_at(self.throttle_until, Action::Tick);
        }
        self.check_completion();
    }

    fn outcome(self) -> Outcome {
        let main = &self.deployments[MAIN];
        let state = match main.status {
            Status::InProgress => MainState::InProgress,
            Status::Completed => MainState::Completed,
            Status::Failed if main.rolled_back => MainState::RolledBack,
            Status::Failed => MainState::Failed,
            Status::Superseded => MainState::Superseded,
        };
        Outcome {
            unfinished: self
                .deployments
                .iter()
                .any(|d| d.status == Status::InProgress),
            downtime: self.downtime || self.zero_since.is_some(),
            main: state,
            stages: self.native.map(|r| r.stages).unwrap_or_default(),
            events: self.stream.events,
        }
    }
}
