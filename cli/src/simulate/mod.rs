//! `rollout-watcher simulate`: deterministic, realistic ECS EventBridge event streams.
//!
//! Why a simulator: real ECS rollouts are slow, cost money and cannot be made to fail on
//! demand, yet the watcher must be exercised on stalls, rollbacks and zero-task gaps.
//! The streams this module writes have the exact shapes of the samples in
//! `shared/reference/samples/`, and what happens in them is decided by ECS's own rules
//! (floor and ceiling rounding, the circuit-breaker threshold, rollback to the last
//! completed deployment; reference `ecs-events.md` §2, §4, §7), so the same settings
//! that stall or break a real rollout stall or break a simulated one. The same
//! [`Params`] always give byte-identical output.
//!
//! # Layout
//! - `rules.rs`: the ECS arithmetic (floor, ceiling, scheduler step, breaker threshold).
//! - `native/`: ECS-native strategies (blue/green, linear, canary) and lifecycle hooks:
//!   their settings, and the `aws ecs describe-services` output that matches them.
//! - `engine/`: the discrete-event loop that plays the scheduler, task lifecycles, and
//!   the lifecycle stages and hooks of ECS-native deployments.
//! - `task.rs`, `json.rs`: the JSON shapes of task, deployment and service events.
//! - `clock.rs`, `rng.rs`: RFC 3339 formatting and the seeded random streams.
//!
//! # The stream
//! It starts with the service as it was: one RUNNING event per task of the previous
//! deployment D0 (`web:41`), an hour before the rollout. At 2026-03-02T10:00:00Z the
//! rollout D1 (`web:42`) goes IN_PROGRESS and the scheduler takes over. Events are in
//! emission order with non-decreasing `time`; the stream ends when the service settles
//! (COMPLETED, then `SERVICE_STEADY_STATE`) or when nothing more can happen.
//!
//! An ECS-native rollout ([`Params::native`]) walks ECS's lifecycle stages instead of
//! the rolling scheduler: green starts beside blue, traffic shifts, the bake time
//! passes, blue is stopped at `CLEAN_UP`, and only then comes COMPLETED (the most
//! likely sequence; AWS documents none). Lifecycle hooks send `ECS Hook State Change`
//! events; [`Simulation::stages`] lists the stages as the Service Deployments API
//! would report them.

mod clock;
mod engine;
mod json;
pub mod native;
mod rng;
mod rules;
mod task;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, ensure};

use engine::MainState;
pub use native::{Hook, HookAction, HookKind, Native, Strategy, describe_services};

/// The largest `desired` count accepted: streams grow with it (about six events a task).
pub const MAX_DESIRED: u32 = 500;

/// What the new task definition does when ECS rolls it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// The new tasks are healthy: a rolling update that completes.
    Success,
    /// The new tasks start but fail ALB health checks: circuit breaker, then rollback.
    HealthCheckRollback,
    /// The new image does not exist: tasks fail to start, circuit breaker, rollback.
    BadImage,
    /// Healthy tasks, but with `min 0 %` ECS stops the old tasks first (a gap).
    ZeroRunning,
    /// A user starts another deployment while the rollout's first task comes up.
    Superseded,
    /// Healthy tasks, but settings under which ECS can neither start nor stop a task.
    Stalled,
    /// BLUE_GREEN: green beside blue, test traffic, a Lambda check, all production
    /// traffic at once, a 15-minute bake, blue stopped: completes.
    BlueGreen,
    /// BLUE_GREEN with a PAUSE hook at POST_TEST_TRAFFIC_SHIFT answered CONTINUE after
    /// 12 minutes, then the 15-minute bake: completes.
    BlueGreenPaused,
    /// CANARY: 10 % of production traffic, a 10-minute canary bake, then 100 %.
    Canary,
    /// LINEAR: 25 % more production traffic per step, 3-minute step bakes.
    Linear,
    /// BLUE_GREEN whose PAUSE hook is answered ROLLBACK: traffic back to blue, green
    /// stopped.
    HookRollback,
}

impl Scenario {
    /// The rolling-update scenarios, in the order `demo` lists them. The ECS-native ones
    /// are in [`Self::NATIVE`], apart until the watcher's state machine follows hooks.
    pub const ALL: [Self; 6] = [
        Self::Success,
        Self::HealthCheckRollback,
        Self::BadImage,
        Self::ZeroRunning,
        Self::Superseded,
        Self::Stalled,
    ];

    /// The ECS-native scenarios (deploymentConfiguration.strategy BLUE_GREEN, CANARY,
    /// LINEAR, with lifecycle hooks).
    pub const NATIVE: [Self; 5] = [
        Self::BlueGreen,
        Self::BlueGreenPaused,
        Self::Canary,
        Self::Linear,
        Self::HookRollback,
    ];

    /// Every scenario: [`Self::ALL`], then [`Self::NATIVE`].
    pub fn every() -> impl Iterator<Item = Self> {
        Self::ALL.into_iter().chain(Self::NATIVE)
    }

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::HealthCheckRollback => "health-check-rollback",
            Self::BadImage => "bad-image",
            Self::ZeroRunning => "zero-running",
            Self::Superseded => "superseded",
            Self::Stalled => "stalled",
            Self::BlueGreen => "blue-green",
            Self::BlueGreenPaused => "blue-green-paused",
            Self::Canary => "canary",
            Self::Linear => "linear",
            Self::HookRollback => "hook-rollback",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one of [`Scenario::every`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScenario(pub String);

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Scenario::every().map(Scenario::name).collect();
        write!(
            f,
            "unknown scenario {:?} (expected one of: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownScenario {}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::every()
            .find(|scenario| scenario.name() == s)
            .ok_or_else(|| UnknownScenario(s.to_owned()))
    }
}

/// Everything a simulation depends on; equal `Params` give byte-identical streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// What the new task definition does.
    pub scenario: Scenario,
    /// The service's desired count (1 to [`MAX_DESIRED`]).
    pub desired: u32,
    /// `deploymentConfiguration.minimumHealthyPercent`.
    pub min_healthy_percent: u32,
    /// `deploymentConfiguration.maximumPercent`.
    pub max_percent: u32,
    /// Deployment circuit breaker with rollback on (`true`) or off.
    pub circuit_breaker: bool,
    /// Seed of every id and duration in the stream.
    pub seed: u64,
    /// ECS cluster name.
    pub cluster: String,
    /// ECS service name (also the task definition family and container name).
    pub service: String,
    /// AWS region.
    pub region: String,
    /// AWS account id.
    pub account: String,
    /// `deploymentConfiguration.strategy` BLUE_GREEN, LINEAR or CANARY with its bake
    /// time and lifecycle hooks; `None` for ROLLING.
    pub native: Option<Native>,
}

impl Params {
    /// The settings teams use for one task behind an ALB (desired 1, min 100 %,
    /// max 200 %, breaker on, seed 1, `demo-cluster`/`web` in `eu-west-1`), except
    /// where the scenario needs others: `zero-running` uses min 0 % / max 100 % and
    /// `stalled` min 100 % / max 100 %. ECS-native scenarios take the settings of
    /// [`Native::for_scenario`].
    pub fn defaults(scenario: Scenario) -> Self {
        let (min_healthy_percent, max_percent) = match scenario {
            Scenario::ZeroRunning => (0, 100),
            Scenario::Stalled => (100, 100),
            _ => (100, 200),
        };
        Self {
            scenario,
            desired: 1,
            min_healthy_percent,
            max_percent,
            circuit_breaker: true,
            seed: 1,
            cluster: "demo-cluster".to_owned(),
            service: "web".to_owned(),
            region: "eu-west-1".to_owned(),
            account: "123456789012".to_owned(),
            native: Native::for_scenario(scenario),
        }
    }

    /// The settings as a user reads them, the first line of `demo`'s story:
    /// `desired 1, minimum healthy 100%, maximum 200%, circuit breaker on (rollback)`,
    /// then, for an ECS-native strategy, its strategy, bake time and hooks.
    pub fn header(&self) -> String {
        let breaker = if self.circuit_breaker {
            "on (rollback)"
        } else {
            "off"
        };
        let rolling = format!(
            "desired {}, minimum healthy {}%, maximum {}%, circuit breaker {breaker}",
            self.desired, self.min_healthy_percent, self.max_percent
        );
        match &self.native {
            None => rolling,
            Some(native) => format!("{rolling}, {}", native.summary()),
        }
    }
}

/// One lifecycle stage of an ECS-native deployment, when it began (what
/// `DescribeServiceDeployments` would report as `lifecycleStage` from then on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMark {
    /// When the stage began (epoch milliseconds).
    pub at_ms: u64,
    /// `RECONCILE_SERVICE` … `CLEAN_UP`.
    pub stage: &'static str,
    /// Test traffic on green (percent) from then on.
    pub test_percent: u32,
    /// Production traffic on green (percent) from then on.
    pub production_percent: u32,
    /// The stage is run again during a rollback (weights moving back to blue).
    pub rolling_back: bool,
}

/// A simulated stream and what a correct watcher should conclude from it.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// EventBridge events in emission order (print one per line for JSON Lines).
    pub events: Vec<serde_json::Value>,
    /// The lifecycle stages an ECS-native deployment went through, in order (empty
    /// for rolling ones; the stage is not in the events unless a hook runs at it).
    pub stages: Vec<StageMark>,
    /// The outcome the ECS rules produced.
    pub expected: Expected,
}

/// What a watcher fed [`Simulation::events`] should conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// State of the main deployment D1: `completed`, `rolled_back`, `failed` or
    /// `superseded` when it ended; `stalled` when the stream ends with it still in
    /// progress. That is the state after the stall deadline (`replay --now` at or past
    /// the last event plus the deadline); before it, the watcher holds the in-progress
    /// state (`started`, `tasks_running` or `draining`).
    pub final_state: &'static str,
    /// The stream ends with a deployment still in progress (ECS settings that stall,
    /// or failures with the circuit breaker off): a watcher must flag it stalled.
    pub stalls: bool,
    /// After the rollout began the service had no serving task (RUNNING and not yet
    /// asked to stop: from `startedAt` to `stoppingAt`) for more than 30 s, or had none
    /// when the stream ended.
    pub downtime: bool,
}

/// A busy account's stream for the benchmarks: rollouts of every scenario on one
/// service each (`svc-0`, `svc-1`, …, desired 1 to 4), interleaved by event time as
/// EventBridge would deliver them (ties keep simulation order), cut to `events`.
pub fn busy_account(events: usize) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(busy_rollouts(events, 0)?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// Day `day` (0 is [`busy_account`]'s) of the same account, as JSON lines: the same
/// services rolling again with other ids, every date `day` days on. Days one after
/// another are the month the benchmarks replay, where each service rolls once a day
/// and the watcher lets its oldest rollouts go.
pub fn busy_account_day(events: usize, day: u32) -> anyhow::Result<Vec<String>> {
    busy_rollouts(events, u64::from(day) * 1_000_000)?
        .into_iter()
        .map(|(_, e)| shift_dates(&e.to_string(), day))
        .collect()
}

fn busy_rollouts(events: usize, seeds: u64) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    let mut all: Vec<(String, serde_json::Value)> = Vec::new();
    let mut i = 0u64;
    while all.len() < events {
        let scenario = Scenario::ALL[usize::try_from(i).unwrap_or(0) % Scenario::ALL.len()];
        let mut p = Params::defaults(scenario);
        p.service = format!("svc-{i}");
        p.desired = 1 + u32::try_from(i % 4).unwrap_or(0);
        p.seed = i + seeds;
        for e in simulate(&p)?.events {
            let t = e["time"].as_str().unwrap_or_default().to_owned();
            all.push((t, e));
        }
        i += 1;
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.truncate(events);
    Ok(all)
}

/// `text` with every `2026-03-DD` date `days` later (the simulator's rollouts all
/// happen in the first days of March 2026, so a month of days stays in March).
fn shift_dates(text: &str, days: u32) -> anyhow::Result<String> {
    if days == 0 {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("2026-03-") {
        let (head, tail) = rest.split_at(i + 8);
        out.push_str(head);
        let day: u32 = tail
            .get(..2)
            .and_then(|d| d.parse().ok())
            .context("a date without its day")?;
        ensure!(
            day + days <= 31,
            "2026-03-{day:02} + {days} days leaves March"
        );
        out.push_str(&format!("{:02}", day + days));
        rest = tail.get(2..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// Simulates one rollout under ECS's rules.
///
/// Errors only for parameters no ECS service has: `desired` outside 1..=[`MAX_DESIRED`],
/// or an empty cluster, service, region or account.
pub fn simulate(params: &Params) -> anyhow::Result<Simulation> {
    ensure!(
        (1..=MAX_DESIRED).contains(&params.desired),
        "--desired must be between 1 and {MAX_DESIRED}, got {}",
        params.desired
    );
    for (flag, value) in [
        ("cluster", &params.cluster),
        ("service", &params.service),
        ("region", &params.region),
        ("account", &params.account),
    ] {
        ensure!(!value.trim().is_empty(), "{flag} must not be empty");
    }
    let outcome =
        engine::run(params).with_context(|| format!("simulating scenario {}", params.scenario))?;
    let final_state = match outcome.main {
        MainState::InProgress => "stalled",
        MainState::Completed => "completed",
        MainState::Failed => "failed",
        MainState::RolledBack => "rolled_back",
        MainState::Superseded => "superseded",
    };
    Ok(Simulation {
        events: outcome.events,
        stages: outcome.stages,
        expected: Expected {
            final_state,
            stalls: outcome.unfinished,
            downtime: outcome.downtime,
        },
    })
}
