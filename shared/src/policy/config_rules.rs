//! The audit's verdict on a service's deployment settings, with its reasoning in
//! words: DESIGN.md's zero-downtime rules, made readable. The arithmetic itself is
//! the model's ([`ServiceConfig::check`]), shared with the state machine; this is how
//! it reads to the person who runs `audit`.

use serde::Serialize;

use crate::model::{Finding, ServiceConfig};

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
    let check = cfg.check();
    let (desired, min, max) = (check.desired, check.min_healthy_percent, check.max_percent);
    let (floor, ceiling, threshold) = (check.floor, check.ceiling, check.threshold);
    let (breaker, rollback, rolling) = (check.circuit_breaker, check.rollback, check.rolling);
    let findings = check.findings;
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
    use crate::model::{breaker_threshold, ceiling_tasks, floor_tasks};

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
