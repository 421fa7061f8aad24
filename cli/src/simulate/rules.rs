//! The ECS rolling-update rules, as pure arithmetic.
//!
//! This is the part of the simulator that must agree with ECS (reference
//! `ecs-events.md` §7.1–7.2); the event loop only asks it what to do. Keeping it free of
//! events and time makes every rule testable on its own:
//! - floor of healthy tasks = `ceil(desired * minimumHealthyPercent / 100)`;
//! - ceiling of RUNNING + PENDING tasks = `floor(desired * maximumPercent / 100)`;
//! - each scheduler step starts up to `ceiling - (running + pending)` new tasks and stops
//!   up to `healthy - floor` old healthy tasks (old tasks that are not healthy cost
//!   nothing to stop, so they all go);
//! - circuit-breaker threshold = `clamp(ceil(desired / 2), 3, 200)`.

/// The floor and ceiling a deployment must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    /// Fewest healthy tasks the service may have during the rollout (rounded up).
    pub(super) floor: u32,
    /// Most RUNNING + PENDING tasks the service may have (rounded down).
    pub(super) ceiling: u32,
}

impl Limits {
    /// Computes the limits in `u64`, so that large percents cannot overflow.
    pub(super) fn new(desired: u32, min_healthy_percent: u32, max_percent: u32) -> Self {
        let d = u64::from(desired);
        let floor = (d * u64::from(min_healthy_percent)).div_ceil(100);
        let ceiling = d * u64::from(max_percent) / 100;
        Self {
            floor: u32::try_from(floor).unwrap_or(u32::MAX),
            ceiling: u32::try_from(ceiling).unwrap_or(u32::MAX),
        }
    }

    /// ECS can neither start a task (no room above the ceiling) nor stop one (no slack
    /// above the floor): the deployment makes no progress at all. The event loop never
    /// asks this (stalls emerge from [`step`]); tests check they emerge exactly here.
    #[cfg(test)]
    pub(super) fn deadlocks(self, desired: u32) -> bool {
        self.ceiling <= desired && self.floor >= desired
    }
}

/// Failed tasks after which the circuit breaker fails the deployment (ECS default).
///
/// Clamped because ECS clamps: a one-task service would otherwise fail on its first bad
/// task, and a huge one would need hundreds of failures.
pub(super) fn breaker_threshold(desired: u32) -> u32 {
    desired.div_ceil(2).clamp(3, 200)
}

/// How long ECS waits before it starts a replacement after the `failures`-th failed task
/// of a deployment: the service throttle backs off from 15 s, doubling, up to 5 minutes
/// (real bad-image rollouts take 2–5 minutes between attempts).
pub(super) fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(5);
    (15_000u64 << doublings).min(300_000)
}

/// What the scheduler sees when it takes a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Fleet {
    /// Tasks not yet STOPPED, of any deployment (they all count toward the ceiling).
    pub(super) active: u32,
    /// Tasks of the primary deployment that are not STOPPED and not asked to stop.
    pub(super) primary_live: u32,
    /// Healthy tasks not asked to stop, of any deployment.
    pub(super) healthy: u32,
    /// Old (non-primary) healthy tasks not yet asked to stop.
    pub(super) old_healthy: u32,
}

/// One scheduler step's decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Step {
    /// New tasks of the primary deployment to start.
    pub(super) start: u32,
    /// Old healthy tasks to stop (old unhealthy ones are always stopped).
    pub(super) stop_healthy: u32,
}

/// The scheduler's step: `may_start` is false while the primary deployment is throttled
/// after a failure, or has failed.
pub(super) fn step(limits: Limits, desired: u32, fleet: Fleet, may_start: bool) -> Step {
    let start = if may_start {
        desired
            .saturating_sub(fleet.primary_live)
            .min(limits.ceiling.saturating_sub(fleet.active))
    } else {
        0
    };
    let stop_healthy = fleet
        .old_healthy
        .min(fleet.healthy.saturating_sub(limits.floor));
    Step {
        start,
        stop_healthy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_follows_ecs() {
        // 75 % of 2 rounds up to 2; 125 % of 3 rounds down to 3 (both from ECS docs).
        assert_eq!(Limits::new(2, 75, 200).floor, 2);
        assert_eq!(Limits::new(3, 100, 125).ceiling, 3);
        assert_eq!(
            Limits::new(1, 100, 200),
            Limits {
                floor: 1,
                ceiling: 2
            }
        );
        assert_eq!(Limits::new(4, 50, 100).floor, 2);
        assert_eq!(
            Limits::new(7, 33, 150),
            Limits {
                floor: 3,
                ceiling: 10
            }
        );
    }

    #[test]
    fn deadlock_needs_both_a_full_ceiling_and_a_full_floor() {
        assert!(Limits::new(1, 100, 100).deadlocks(1));
        assert!(Limits::new(2, 75, 100).deadlocks(2));
        assert!(Limits::new(3, 100, 125).deadlocks(3));
        assert!(!Limits::new(1, 100, 200).deadlocks(1));
        assert!(!Limits::new(1, 0, 100).deadlocks(1));
    }

    #[test]
    fn breaker_threshold_matches_the_documented_table() {
        for (desired, threshold) in [(1, 3), (6, 3), (7, 4), (25, 13), (400, 200), (800, 200)] {
            assert_eq!(breaker_threshold(desired), threshold, "desired {desired}");
        }
    }

    #[test]
    fn min_50_max_100_stops_two_of_four_before_starting() {
        let fleet = Fleet {
            active: 4,
            primary_live: 0,
            healthy: 4,
            old_healthy: 4,
        };
        let step = step(Limits::new(4, 50, 100), 4, fleet, true);
        assert_eq!(
            step,
            Step {
                start: 0,
                stop_healthy: 2
            }
        );
    }

    #[test]
    fn backoff_grows_from_seconds_to_minutes() {
        assert_eq!(backoff_ms(1), 15_000);
        assert_eq!(backoff_ms(3), 60_000);
        assert_eq!(backoff_ms(40), 300_000);
    }
}
