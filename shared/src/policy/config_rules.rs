//! DESIGN.md's zero-downtime rules, made executable: what a service's deployment
//! settings allow ECS to do during a rolling deployment.
//!
//! ECS rounds the floor of healthy tasks *up* and the ceiling of running+pending
//! tasks *down* (CloudFormation `DeploymentConfiguration` docs, and the rolling
//! update guide's "75 % of 2 = 2" and "125 % of 3 = 3" examples). Those two integers
//! decide everything: whether ECS may stop the last serving task first, and whether
//! it can move at all.

use serde::Serialize;

use crate::core::ServiceConfig;

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
}

impl Finding {
    /// Whether it makes a rollout unable to keep a task serving (or to finish).
    pub const fn is_unsafe(self) -> bool {
        matches!(self, Self::DowntimePossible | Self::CannotProgress)
    }
}

/// The verdict on a service's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Zero downtime holds, and a bad rollout fails and rolls back.
    Safe,
    /// Zero downtime holds, but a bad rollout is not caught or not undone.
    Risky,
    /// A rollout can cause downtime or cannot progress.
    Unsafe,
    /// Not enough is known to judge.
    Unknown,
}

/// The rules applied to one service.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
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
    /// What was found.
    pub findings: Vec<Finding>,
    /// The verdict.
    pub verdict: Verdict,
    /// The reasoning, the way a person checks it: `1 × 100% = 1 task (rounded up)`.
    pub explanation: Vec<String>,
}

/// Applies the rules. REPLICA defaults (min 100, max 200) fill unknown percents,
/// as ECS does; an unknown desired count gives [`Verdict::Unknown`].
pub fn assess(cfg: &ServiceConfig) -> Assessment {
    let desired = cfg.desired_count.unwrap_or(0);
    let min = cfg.min_healthy_percent.unwrap_or(100);
    let max = cfg.max_percent.unwrap_or(200);
    let floor = floor_tasks(desired, min);
    let ceiling = ceiling_tasks(desired, max);
    let breaker = cfg.circuit_breaker.unwrap_or(false);
    let rollback = breaker && cfg.rollback.unwrap_or(false);
    let threshold = cfg
        .failure_threshold
        .unwrap_or_else(|| breaker_threshold(desired));
    let mut findings = Vec::new();
    let rolling = cfg
        .scheduling_strategy
        .as_deref()
        .is_none_or(|s| s == "REPLICA")
        && cfg
            .deployment_controller
            .as_deref()
            .is_none_or(|c| c == "ECS");
    if !rolling {
        findings.push(Finding::NotRolling);
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
    let verdict = if cfg.desired_count.is_none() || !rolling {
        Verdict::Unknown
    } else if findings.iter().any(|f| f.is_unsafe()) {
        Verdict::Unsafe
    } else if findings.is_empty() {
        Verdict::Safe
    } else {
        Verdict::Risky
    };
    let s = |n: u32| if n == 1 { "task" } else { "tasks" };
    let mut explanation = vec![
        format!(
            "Maximum tasks during deployment: {desired} × {max}% = {ceiling} {} (rounded down)",
            s(ceiling)
        ),
        format!(
            "Minimum healthy tasks: {desired} × {min}% = {floor} {} (rounded up)",
            s(floor)
        ),
    ];
    for f in &findings {
        explanation.push(match f {
            Finding::DowntimePossible => format!(
                "floor is 0 with desired {desired}: ECS may stop the last serving task before a new one is healthy (downtime possible)"
            ),
            Finding::CannotProgress => format!(
                "ceiling {ceiling} ≤ desired {desired} and floor {floor} ≥ desired: ECS can neither start a new task nor stop an old one (rollouts stall)"
            ),
            Finding::NoCircuitBreaker => "no circuit breaker: a bad image never fails the rollout or rolls back".to_owned(),
            Finding::NoRollback => "circuit breaker without rollback: a failed rollout is not undone".to_owned(),
            Finding::NotRolling => "not a REPLICA service on the ECS rolling controller: these rules do not apply".to_owned(),
        });
    }
    if breaker {
        explanation.push(format!(
            "circuit breaker fails the rollout after {threshold} failed tasks (clamp(ceil(0.5 × {desired}), 3, 200))"
        ));
    }
    Assessment {
        desired,
        min_healthy_percent: min,
        max_percent: max,
        floor,
        ceiling,
        threshold,
        circuit_breaker: breaker,
        rollback,
        findings,
        verdict,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(desired: u32, min: u32, max: u32) -> ServiceConfig {
        ServiceConfig {
            desired_count: Some(desired),
            min_healthy_percent: Some(min),
            max_percent: Some(max),
            circuit_breaker: Some(true),
            rollback: Some(true),
            ..ServiceConfig::default()
        }
    }

    #[test]
    fn threshold_is_half_the_desired_count_clamped_to_3_and_200() {
        for (desired, want) in [
            (0, 3),
            (1, 3),
            (5, 3),
            (6, 3),
            (7, 4),
            (25, 13),
            (400, 200),
            (800, 200),
        ] {
            assert_eq!(breaker_threshold(desired), want, "desired {desired}");
        }
    }

    #[test]
    fn floor_rounds_up_and_ceiling_rounds_down() {
        assert_eq!(floor_tasks(2, 75), 2); // D7: 75 % of 2 = 2
        assert_eq!(ceiling_tasks(3, 125), 3); // D7: 125 % of 3 = 3
        assert_eq!(floor_tasks(1, 50), 1);
        assert_eq!(floor_tasks(1, 0), 0);
        assert_eq!(ceiling_tasks(1, 200), 2);
        assert_eq!(ceiling_tasks(u32::MAX, 200), u32::MAX);
    }

    #[test]
    fn the_single_task_setting_our_users_run_is_safe() {
        let a = assess(&cfg(1, 100, 200));
        assert_eq!((a.floor, a.ceiling, a.threshold), (1, 2, 3));
        assert_eq!(a.verdict, Verdict::Safe);
        assert_eq!(
            a.explanation[0],
            "Maximum tasks during deployment: 1 × 200% = 2 tasks (rounded down)"
        );
        assert_eq!(
            a.explanation[1],
            "Minimum healthy tasks: 1 × 100% = 1 task (rounded up)"
        );
    }

    #[test]
    fn unsafe_settings_are_named() {
        assert_eq!(
            assess(&cfg(1, 0, 100)).findings,
            vec![Finding::DowntimePossible]
        );
        assert_eq!(
            assess(&cfg(1, 100, 100)).findings,
            vec![Finding::CannotProgress]
        );
        assert_eq!(
            assess(&cfg(3, 75, 125)).findings,
            vec![Finding::CannotProgress]
        );
        assert_eq!(assess(&cfg(4, 50, 100)).verdict, Verdict::Safe);
        let mut no_breaker = cfg(2, 100, 200);
        no_breaker.circuit_breaker = Some(false);
        assert_eq!(assess(&no_breaker).verdict, Verdict::Risky);
        assert_eq!(assess(&ServiceConfig::default()).verdict, Verdict::Unknown);
    }
}
