//! The audit's verdict on a service's deployment settings, with its reasoning in
//! words: DESIGN.md's zero-downtime rules, made readable. The arithmetic itself is
//! the model's ([`ServiceConfig::check`]), shared with the state machine; this is how
//! it reads to the person who runs `audit`.

use serde::Serialize;

use crate::model::{DeploymentStrategy, Finding, RuleCheck, ServiceConfig};

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

/// The rules applied to one service: their numbers and findings, the verdict, and
/// the reasoning in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// The numbers and findings ([`ServiceConfig::check`]).
    #[serde(flatten)]
    pub check: RuleCheck,
    /// The verdict.
    pub verdict: Verdict,
    /// The reasoning, the way a person checks it: `1 × 100% = 1 task (rounded up)`.
    pub explanation: Vec<String>,
}

/// Applies the rules. REPLICA defaults (min 100, max 200) fill unknown percents,
/// as ECS does; an unknown desired count gives [`Verdict::Unknown`].
pub fn assess(cfg: &ServiceConfig) -> Assessment {
    let check = cfg.check();
    let verdict = if cfg.desired_count.is_none() || !check.rolling {
        Verdict::Unknown
    } else if check.findings.iter().any(|f| f.is_unsafe()) {
        Verdict::Unsafe
    } else if check.findings.is_empty() {
        Verdict::Safe
    } else {
        Verdict::Risky
    };
    let mut explanation = match check.native {
        Some(strategy) => native_lines(cfg, &check, strategy),
        None => rolling_lines(&check),
    };
    let (desired, floor, ceiling) = (check.desired, check.floor, check.ceiling);
    for f in &check.findings {
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
            Finding::NoBakeTime => "bake time 0: the old revision is torn down as soon as production traffic moved, leaving no window to move it back without a new deployment".to_owned(),
            Finding::PauseContinuesUnattended => format!(
                "a PAUSE hook at {} continues when it times out (timeout action CONTINUE): unanswered, it promotes the new revision unattended",
                pause_stages(cfg)
            ),
        });
    }
    if check.circuit_breaker {
        explanation.push(format!(
            "circuit breaker fails the rollout after {} failed tasks (clamp(ceil(0.5 × {desired}), 3, 200))",
            check.threshold
        ));
    }
    Assessment {
        check,
        verdict,
        explanation,
    }
}

fn tasks(n: u32) -> &'static str {
    if n == 1 { "task" } else { "tasks" }
}

/// The rolling rules' two lines of arithmetic.
fn rolling_lines(c: &RuleCheck) -> Vec<String> {
    let (desired, min, max) = (c.desired, c.min_healthy_percent, c.max_percent);
    vec![
        format!(
            "Maximum tasks during deployment: {desired} × {max}% = {} {} (rounded down)",
            c.ceiling,
            tasks(c.ceiling)
        ),
        format!(
            "Minimum healthy tasks: {desired} × {min}% = {} {} (rounded up)",
            c.floor,
            tasks(c.floor)
        ),
    ]
}

/// An ECS-native strategy's two lines: how the new revision comes up, and how long
/// the old one stays ready to take traffic back.
fn native_lines(cfg: &ServiceConfig, c: &RuleCheck, strategy: DeploymentStrategy) -> Vec<String> {
    let d = c.desired;
    let up = format!(
        "Strategy {}: ECS brings the new revision up to the desired count ({d} {}) beside the old one before moving production traffic; the rolling floor and ceiling do not apply",
        strategy.as_str(),
        tasks(d)
    );
    let steps = cfg.traffic_steps.map(|t| {
        let what = if strategy == DeploymentStrategy::Canary {
            format!("{}% of traffic first (canary), then the rest", t.percent)
        } else {
            format!("{}% of traffic per step", t.percent)
        };
        format!("{what}, {} of bake after each step; ", t.step_bake.human())
    });
    let bake = match cfg.bake_time {
        Some(b) => format!(
            "{}bake time {}: the old revision stays ready to take traffic back for that long after the shift",
            steps.unwrap_or_default(),
            b.human()
        ),
        None => format!("{}bake time not reported", steps.unwrap_or_default()),
    };
    vec![up, bake]
}

/// The stages of the PAUSE hooks that continue on their own.
fn pause_stages(cfg: &ServiceConfig) -> String {
    let stages: Vec<&str> = cfg
        .lifecycle_hooks
        .iter()
        .filter(|h| h.is_pause() && h.timeout_action() == "CONTINUE")
        .flat_map(|h| h.stages.iter().map(String::as_str))
        .collect();
    if stages.is_empty() {
        "an unnamed stage".to_owned()
    } else {
        stages.join(", ")
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
        assert_eq!(
            (a.check.floor, a.check.ceiling, a.check.threshold),
            (1, 2, 3)
        );
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
            assess(&cfg(1, 0, 100)).check.findings,
            vec![Finding::DowntimePossible]
        );
        assert_eq!(
            assess(&cfg(1, 100, 100)).check.findings,
            vec![Finding::CannotProgress]
        );
        assert_eq!(
            assess(&cfg(3, 75, 125)).check.findings,
            vec![Finding::CannotProgress]
        );
        assert_eq!(assess(&cfg(4, 50, 100)).verdict, Verdict::Safe);
        let mut no_breaker = cfg(2, 100, 200);
        no_breaker.circuit_breaker = Some(false);
        assert_eq!(assess(&no_breaker).verdict, Verdict::Risky);
        assert_eq!(assess(&ServiceConfig::default()).verdict, Verdict::Unknown);
    }

    fn native(strategy: DeploymentStrategy, bake_minutes: i64) -> ServiceConfig {
        ServiceConfig {
            strategy: Some(strategy),
            bake_time: Some(crate::model::Millis(bake_minutes * 60_000)),
            ..cfg(1, 100, 100)
        }
    }

    #[test]
    fn blue_green_is_not_judged_by_the_rolling_floor_and_ceiling() {
        // given: max 100 % would stall a rolling deployment; blue/green brings green
        // up beside blue whatever the percents say
        let a = assess(&native(DeploymentStrategy::BlueGreen, 15));
        assert_eq!(a.verdict, Verdict::Safe);
        assert!(a.check.findings.is_empty());
        assert!(
            a.explanation[0].starts_with("Strategy BLUE_GREEN: ECS brings the new revision up"),
            "{:?}",
            a.explanation
        );
        assert!(
            a.explanation[1].contains("bake time 15 min"),
            "{:?}",
            a.explanation
        );
    }

    #[test]
    fn a_bake_time_of_zero_leaves_no_window_to_roll_back() {
        let a = assess(&native(DeploymentStrategy::Canary, 0));
        assert_eq!(a.check.findings, vec![Finding::NoBakeTime]);
        assert_eq!(a.verdict, Verdict::Risky);
    }

    #[test]
    fn a_pause_hook_that_continues_on_timeout_promotes_unattended_on_any_strategy() {
        let hook = crate::model::LifecycleHook {
            target_type: Some("PAUSE".into()),
            stages: vec!["POST_TEST_TRAFFIC_SHIFT".into()],
            timeout_action: Some("CONTINUE".into()),
            ..Default::default()
        };
        for base in [native(DeploymentStrategy::BlueGreen, 15), cfg(1, 100, 200)] {
            let mut c = base;
            c.lifecycle_hooks = vec![hook.clone()];
            let a = assess(&c);
            assert_eq!(a.check.findings, vec![Finding::PauseContinuesUnattended]);
            assert_eq!(a.verdict, Verdict::Risky);
            assert!(
                a.explanation
                    .iter()
                    .any(|l| l.contains("PAUSE hook at POST_TEST_TRAFFIC_SHIFT continues")),
                "{:?}",
                a.explanation
            );
        }
        // a hook that rolls back (ECS's default) is what a gate wants
        let mut c = native(DeploymentStrategy::BlueGreen, 15);
        c.lifecycle_hooks = vec![crate::model::LifecycleHook {
            timeout_action: None,
            ..hook
        }];
        assert_eq!(assess(&c).verdict, Verdict::Safe);
    }
}
