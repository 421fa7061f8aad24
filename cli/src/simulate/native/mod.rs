//! ECS-native deployments (`deploymentConfiguration.strategy` BLUE_GREEN, LINEAR,
//! CANARY): their settings, the lifecycle stages ECS walks through, and the lifecycle
//! hooks that run at them.
//!
//! The stage order and timings follow AWS's developer guide ("Amazon ECS blue/green
//! service deployments workflow", "Amazon ECS linear deployments", "Amazon ECS canary
//! deployments", "Lifecycle hooks", "Pause hooks"), as summarised in reference
//! `ecs-events.md` §9:
//! `PRE_SCALE_UP` → `SCALE_UP` (the green revision starts beside blue, 200 %) →
//! `POST_SCALE_UP` → `TEST_TRAFFIC_SHIFT` → `POST_TEST_TRAFFIC_SHIFT` →
//! `PRE_PRODUCTION_TRAFFIC_SHIFT` → `PRODUCTION_TRAFFIC_SHIFT` (both once for
//! blue/green, once per step for linear and canary, with the step bake between steps
//! but not after the last) → `POST_PRODUCTION_TRAFFIC_SHIFT` → `BAKE_TIME` (exactly
//! `bakeTimeInMinutes`) → `CLEAN_UP` (blue scaled to zero). `RECONCILE_SERVICE` runs
//! only when more than one service revision is ACTIVE when the deployment starts; in
//! these scenarios only blue is, so it is skipped, as ECS skips it.
//!
//! Layout: this file holds the settings and each scenario's defaults; `describe.rs`
//! writes the matching `aws ecs describe-services` output; the event loop plays the
//! stages in `engine/native.rs` and the hook invocations in `engine/hooks.rs`.

mod describe;

pub use describe::describe_services;

use super::Scenario;

/// `deploymentConfiguration.strategy`, with the strategy's own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// All production traffic moves at once.
    BlueGreen,
    /// `linearConfiguration`: `stepPercent` more traffic per step, with
    /// `stepBakeTimeInMinutes` between steps.
    Linear {
        /// `stepPercent` (whole percents here; ECS allows 0.1 steps from 3.0).
        step_percent: u32,
        /// `stepBakeTimeInMinutes`.
        step_bake_minutes: u32,
    },
    /// `canaryConfiguration`: `canaryPercent`, `canaryBakeTimeInMinutes`, then 100 %.
    Canary {
        /// `canaryPercent` (whole percents here).
        canary_percent: u32,
        /// `canaryBakeTimeInMinutes`.
        canary_bake_minutes: u32,
    },
}

impl Strategy {
    /// The wire value of `deploymentConfiguration.strategy`.
    pub fn wire(self) -> &'static str {
        match self {
            Self::BlueGreen => "BLUE_GREEN",
            Self::Linear { .. } => "LINEAR",
            Self::Canary { .. } => "CANARY",
        }
    }

    /// The production traffic weights of the steps, ending at 100, and the bake
    /// between two steps in minutes.
    pub fn steps(self) -> (Vec<u32>, u32) {
        match self {
            Self::BlueGreen => (vec![100], 0),
            Self::Linear {
                step_percent,
                step_bake_minutes,
            } => {
                let s = step_percent.clamp(1, 100);
                let mut steps: Vec<u32> = (1..).map(|k| k * s).take_while(|w| *w < 100).collect();
                steps.push(100);
                (steps, step_bake_minutes)
            }
            Self::Canary {
                canary_percent,
                canary_bake_minutes,
            } => {
                let mut steps = vec![canary_percent.clamp(1, 100)];
                if steps[0] < 100 {
                    steps.push(100);
                }
                (steps, canary_bake_minutes)
            }
        }
    }
}

/// `lifecycleHooks[].targetType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// `AWS_LAMBDA` (the default when `targetType` is absent).
    Lambda,
    /// `PAUSE`: the deployment waits for `ContinueServiceDeployment`.
    Pause,
}

/// What ECS does when a hook times out, or what someone answers to a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// Go on to the next stage.
    Continue,
    /// Roll back to the previous service revision.
    Rollback,
}

impl HookAction {
    /// The wire value (`CONTINUE`, `ROLLBACK`).
    pub fn wire(self) -> &'static str {
        match self {
            Self::Continue => "CONTINUE",
            Self::Rollback => "ROLLBACK",
        }
    }
}

/// One `lifecycleHooks[]` entry, and how it behaves in the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `targetType`.
    pub kind: HookKind,
    /// The Lambda function's name (`hookTargetArn` is built from it); unused for PAUSE.
    pub function: String,
    /// `lifecycleStages`.
    pub stages: Vec<&'static str>,
    /// `timeoutConfiguration.timeoutInMinutes`.
    pub timeout_minutes: u32,
    /// `timeoutConfiguration.action`.
    pub timeout_action: HookAction,
    /// Scenario: seconds until the Lambda returns or someone answers the pause.
    pub answer_after_s: u64,
    /// Scenario: the Lambda's `hookStatus` (SUCCEEDED = Continue, FAILED = Rollback),
    /// or the pause's `ContinueServiceDeployment --action`.
    pub answer: HookAction,
}

/// The ECS-native part of a service's `deploymentConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Native {
    /// `strategy` with its linear or canary settings.
    pub strategy: Strategy,
    /// `bakeTimeInMinutes`.
    pub bake_minutes: u32,
    /// `lifecycleHooks`.
    pub hooks: Vec<Hook>,
}

impl Native {
    /// Each ECS-native scenario's settings (`None` for the rolling ones).
    ///
    /// - `blue-green`: a 15-minute bake, a Lambda hook checking test traffic at
    ///   `POST_TEST_TRAFFIC_SHIFT` (answers SUCCEEDED after 40 s).
    /// - `blue-green-paused`: a PAUSE hook at `POST_TEST_TRAFFIC_SHIFT` (timeout 60 min,
    ///   ROLLBACK) answered CONTINUE after 12 minutes, then the 15-minute bake.
    /// - `canary`: 10 % with a 10-minute canary bake, then 100 %, a 10-minute bake; a
    ///   Lambda hook at `PRODUCTION_TRAFFIC_SHIFT` runs at both steps.
    /// - `linear`: 25 % steps with 3-minute step bakes (four steps, three step bakes), a
    ///   5-minute bake; a Lambda hook at `PRE_PRODUCTION_TRAFFIC_SHIFT` runs per step.
    /// - `hook-rollback`: the PAUSE hook of `blue-green-paused`, answered ROLLBACK after
    ///   4 minutes.
    pub fn for_scenario(scenario: Scenario) -> Option<Self> {
        let lambda = |function: &str, stage: &'static str, after: u64| Hook {
            kind: HookKind::Lambda,
            function: function.to_owned(),
            stages: vec![stage],
            timeout_minutes: 15,
            timeout_action: HookAction::Rollback,
            answer_after_s: after,
            answer: HookAction::Continue,
        };
        let pause = |answer_after_s: u64, answer: HookAction| Hook {
            kind: HookKind::Pause,
            function: String::new(),
            stages: vec!["POST_TEST_TRAFFIC_SHIFT"],
            timeout_minutes: 60,
            timeout_action: HookAction::Rollback,
            answer_after_s,
            answer,
        };
        let (strategy, bake_minutes, hook) = match scenario {
            Scenario::BlueGreen => (
                Strategy::BlueGreen,
                15,
                lambda("web-test-traffic-check", "POST_TEST_TRAFFIC_SHIFT", 40),
            ),
            Scenario::BlueGreenPaused => (
                Strategy::BlueGreen,
                15,
                pause(12 * 60, HookAction::Continue),
            ),
            Scenario::Canary => (
                Strategy::Canary {
                    canary_percent: 10,
                    canary_bake_minutes: 10,
                },
                10,
                lambda("web-traffic-check", "PRODUCTION_TRAFFIC_SHIFT", 20),
            ),
            Scenario::Linear => (
                Strategy::Linear {
                    step_percent: 25,
                    step_bake_minutes: 3,
                },
                5,
                lambda("web-step-check", "PRE_PRODUCTION_TRAFFIC_SHIFT", 15),
            ),
            Scenario::HookRollback => {
                (Strategy::BlueGreen, 15, pause(4 * 60, HookAction::Rollback))
            }
            _ => return None,
        };
        Some(Self {
            strategy,
            bake_minutes,
            hooks: vec![hook],
        })
    }

    /// What a user reads about these settings: strategy, bake time, hooks.
    pub fn summary(&self) -> String {
        let strategy = match self.strategy {
            Strategy::BlueGreen => "BLUE_GREEN".to_owned(),
            Strategy::Linear {
                step_percent,
                step_bake_minutes,
            } => format!("LINEAR ({step_percent}% steps, {step_bake_minutes} min step bake)"),
            Strategy::Canary {
                canary_percent,
                canary_bake_minutes,
            } => format!("CANARY ({canary_percent}%, {canary_bake_minutes} min canary bake)"),
        };
        let hooks: Vec<String> = self
            .hooks
            .iter()
            .map(|h| {
                let kind = match h.kind {
                    HookKind::Lambda => format!("Lambda {}", h.function),
                    HookKind::Pause => "PAUSE".to_owned(),
                };
                format!(
                    "{kind} at {} (timeout {} min, then {})",
                    h.stages.join(", "),
                    h.timeout_minutes,
                    h.timeout_action.wire()
                )
            })
            .collect();
        let hooks = if hooks.is_empty() {
            "none".to_owned()
        } else {
            hooks.join("; ")
        };
        format!(
            "strategy {strategy}, bake time {} min, hooks: {hooks}",
            self.bake_minutes
        )
    }
}
