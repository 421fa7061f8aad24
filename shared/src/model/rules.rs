//! The arithmetic ECS applies to a service's configuration, and what it means for a
//! rollout: the zero-downtime rules every strategy is judged by.
//!
//! It sits in the model, under the state machine, because both the state machine (the
//! circuit breaker's threshold, whether a rollout's settings are unsafe) and the audit's
//! words need the same numbers.
//!
//! Rolling: ECS rounds the floor of healthy tasks *up* and the ceiling of
//! running+pending tasks *down* (CloudFormation `DeploymentConfiguration` docs, and the
//! rolling update guide's "75 % of 2 = 2" and "125 % of 3 = 3" examples). Those two
//! integers decide whether ECS may stop the last serving task first, and whether it
//! can move at all.
//!
//! Blue/green, linear and canary: ECS brings the new revision up to the desired count
//! beside the old one before it moves any production traffic, so the percents decide
//! nothing and no finding of theirs applies. What can go wrong there is what happens
//! after the shift: with a bake time of 0 the old revision is gone the moment traffic
//! moved, leaving no window to move it back; and a PAUSE hook whose timeout action is
//! CONTINUE promotes the new revision when nobody answers (pause hooks run on rolling
//! deployments too). Neither stops a task serving, so neither is unsafe: they make a
//! service risky, the way a missing circuit breaker does.

use serde::Serialize;

use super::config::{DeploymentStrategy, ServiceConfig};

/// `clamp(ceil(0.5 * desired), 3, 200)`: the circuit breaker's default failure
/// threshold (D5). The clamp keeps a one-task service from failing on a single
/// flaky start, and a huge service from waiting for thousands of failures.
pub fn breaker_threshold(desired: u32) -> u32 {
    desired.div_ceil(2).clamp(3, 200)
}

/// `ceil(desired * min% / 100)`: healthy tasks ECS keeps during a rollout.
pub fn floor_tasks(desired: u32, min_healthy_percent: u32) -> u32 {
    let n = u64::from(desired) * u64::from(min_healthy_percent);
    u32::try_from(n.div_ceil(100)).unwrap_or(u32::MAX)
}

/// `floor(desired * max% / 100)`: running+pending tasks ECS allows during a rollout.
pub fn ceiling_tasks(desired: u32, max_percent: u32) -> u32 {
    let n = u64::from(desired) * u64::from(max_percent);
    u32::try_from(n / 100).unwrap_or(u32::MAX)
}

/// One finding about a service's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The floor is 0 while desired >= 1: a rollout may stop the last serving task.
    DowntimePossible,
    /// ECS can neither start an extra task nor stop an old one: rollouts stall.
    CannotProgress,
    /// No circuit breaker: a bad image never fails or rolls back.
    NoCircuitBreaker,
    /// Circuit breaker without rollback: a failed rollout stays failed.
    NoRollback,
    /// Not a REPLICA service on the ECS controller: the rules do not apply.
    NotRolling,
    /// Blue/green, linear or canary with a bake time of 0: the old revision is gone
    /// the moment production traffic moved, so there is no window to move it back.
    NoBakeTime,
    /// A PAUSE hook whose timeout action is CONTINUE: unanswered, it promotes the new
    /// revision unattended.
    PauseContinuesUnattended,
}

impl Finding {
    /// Whether it makes a rollout unable to keep a task serving (or to finish).
    pub const fn is_unsafe(self) -> bool {
        matches!(self, Self::DowntimePossible | Self::CannotProgress)
    }
}

/// The rules' numbers for one service, before anyone puts them into words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    /// Desired count used.
    pub desired: u32,
    /// minimumHealthyPercent used.
    pub min_healthy_percent: u32,
    /// maximumPercent used.
    pub max_percent: u32,
    /// Healthy tasks ECS keeps.
    pub floor: u32,
    /// Running+pending tasks ECS allows.
    pub ceiling: u32,
    /// The circuit breaker's threshold (configured or default).
    pub threshold: u32,
    /// Circuit breaker on.
    pub circuit_breaker: bool,
    /// Rollback on.
    pub rollback: bool,
    /// Whether the rules apply at all (a REPLICA service on the ECS controller).
    #[serde(skip)]
    pub rolling: bool,
    /// The ECS-native strategy (blue/green, linear, canary) whose rules applied
    /// instead of the rolling floor and ceiling; `None` for a rolling deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<DeploymentStrategy>,
    /// What was found.
    pub findings: Vec<Finding>,
}

impl ServiceConfig {
    /// Applies the zero-downtime rules. REPLICA defaults (min 100, max 200) fill
    /// unknown percents, as ECS does.
    pub fn check(&self) -> RuleCheck {
        let desired = self.desired_count.unwrap_or(0);
        let min = self.min_healthy_percent.unwrap_or(100);
        let max = self.max_percent.unwrap_or(200);
        let floor = floor_tasks(desired, min);
        let ceiling = ceiling_tasks(desired, max);
        let breaker = self.circuit_breaker.unwrap_or(false);
        let rollback = breaker && self.rollback.unwrap_or(false);
        let threshold = self
            .failure_threshold
            .unwrap_or_else(|| breaker_threshold(desired));
        let mut findings = Vec::new();
        let rolling = self
            .scheduling_strategy
            .as_deref()
            .is_none_or(|s| s == "REPLICA")
            && self
                .deployment_controller
                .as_deref()
                .is_none_or(|c| c == "ECS");
        let native = self.strategy.filter(|s| *s != DeploymentStrategy::Rolling);
        if !rolling {
            findings.push(Finding::NotRolling);
        } else if native.is_some() {
            if self.bake_time.is_some_and(|b| b.0 == 0) {
                findings.push(Finding::NoBakeTime);
            }
        } else if desired >= 1 {
            if floor == 0 {
                findings.push(Finding::DowntimePossible);
            }
            if ceiling <= desired && floor >= desired {
                findings.push(Finding::CannotProgress);
            }
        }
        if rolling && !breaker {
            findings.push(Finding::NoCircuitBreaker);
        } else if rolling && !rollback {
            findings.push(Finding::NoRollback);
        }
        if rolling
            && self
                .lifecycle_hooks
                .iter()
                .any(|h| h.is_pause() && h.timeout_action() == "CONTINUE")
        {
            findings.push(Finding::PauseContinuesUnattended);
        }
        RuleCheck {
            desired,
            min_healthy_percent: min,
            max_percent: max,
            floor,
            ceiling,
            threshold,
            circuit_breaker: breaker,
            rollback,
            rolling,
            native,
            findings,
        }
    }

    /// The circuit breaker's failure threshold: the configured one, or ECS's default
    /// for the desired count (1 when unknown).
    pub fn threshold(config: Option<&Self>) -> u32 {
        config
            .and_then(|c| c.failure_threshold)
            .unwrap_or_else(|| breaker_threshold(config.and_then(|c| c.desired_count).unwrap_or(1)))
    }
}
