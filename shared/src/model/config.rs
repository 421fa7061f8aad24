//! A service's configuration as ECS reports it, and the arithmetic ECS applies to it.
//!
//! It sits in the model, under the state machine, because both the state machine (the
//! circuit breaker's threshold, whether a rollout's settings are unsafe) and the audit's
//! words need the same numbers: the floor and ceiling ECS rounds to decide what a
//! rolling deployment may do.
//!
//! ECS rounds the floor of healthy tasks *up* and the ceiling of running+pending
//! tasks *down* (CloudFormation `DeploymentConfiguration` docs, and the rolling
//! update guide's "75 % of 2 = 2" and "125 % of 3 = 3" examples). Those two integers
//! decide everything: whether ECS may stop the last serving task first, and whether
//! it can move at all.

use serde::{Deserialize, Serialize};

use super::crash_loop::CrashLoopRule;
use super::timestamp::{Millis, Timestamp};

/// A service's configuration as ECS reports it (DescribeServices + tags). Every field
/// is optional: the watcher works from events alone and gets sharper with this.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    /// `desiredCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
    /// `deploymentConfiguration.minimumHealthyPercent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_healthy_percent: Option<u32>,
    /// `deploymentConfiguration.maximumPercent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_percent: Option<u32>,
    /// Circuit breaker enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<bool>,
    /// Circuit breaker rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<bool>,
    /// A configured failure threshold (`thresholdConfiguration` of type COUNT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// `REPLICA` or `DAEMON`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_strategy: Option<String>,
    /// `ECS`, `CODE_DEPLOY`, `EXTERNAL` (the deployment controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_controller: Option<String>,
    /// `healthCheckGracePeriodSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_grace_s: Option<u32>,
    /// Whether a load balancer is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balanced: Option<bool>,
    /// Tag `rollout-watcher:stall-after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_after: Option<Millis>,
    /// Tag `rollout-watcher:crash-loop` (`N/window`): overrides the watcher-wide rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_loop: Option<CrashLoopRule>,
    /// Tag `rollout-watcher:mute`: no alerts are published for this service.
    #[serde(default)]
    pub mute: bool,
    /// Tag `rollout-watcher:notify-info`: overrides the watcher-wide setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_info: Option<bool>,
    /// `deploymentConfiguration.strategy`; absent means ROLLING (ECS's default). A
    /// strategy this build does not know stays `None` and is followed as rolling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    /// `deploymentConfiguration.bakeTimeInMinutes`: how long ECS keeps the old
    /// revision after all production traffic moved (blue/green, linear, canary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time: Option<Millis>,
    /// `linearConfiguration` or `canaryConfiguration`, whichever the strategy uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_steps: Option<TrafficSteps>,
    /// `deploymentConfiguration.lifecycleHooks`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_hooks: Vec<LifecycleHook>,
    /// When this was read (wall-clock time of the look-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
}

/// `deploymentConfiguration.strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStrategy {
    /// Rolling update (old and new tasks serve side by side).
    Rolling,
    /// All traffic moves at once from blue to green, then a bake time.
    BlueGreen,
    /// Traffic moves in equal steps, each with its own bake time.
    Linear,
    /// A small share of traffic first, a bake, then the rest.
    Canary,
}

impl DeploymentStrategy {
    /// The strategy ECS names `text` (`None` for one this build does not know).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ROLLING" => Some(Self::Rolling),
            "BLUE_GREEN" => Some(Self::BlueGreen),
            "LINEAR" => Some(Self::Linear),
            "CANARY" => Some(Self::Canary),
            _ => None,
        }
    }

    /// ECS's name for it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rolling => "ROLLING",
            Self::BlueGreen => "BLUE_GREEN",
            Self::Linear => "LINEAR",
            Self::Canary => "CANARY",
        }
    }
}

/// A linear or canary deployment's traffic steps: `stepPercent` /
/// `stepBakeTimeInMinutes` (linear) or `canaryPercent` / `canaryBakeTimeInMinutes`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficSteps {
    /// The share of production traffic each step (linear) or the canary moves.
    pub percent: f64,
    /// The bake after each step (linear) or after the canary.
    pub step_bake: Millis,
}

/// One of `deploymentConfiguration.lifecycleHooks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleHook {
    /// `targetType`: `AWS_LAMBDA` or `PAUSE` (an open set; absent on older services
    /// means a Lambda hook, the only kind there was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// `hookTargetArn` (the Lambda function).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// `lifecycleStages` it runs at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// `timeoutConfiguration.timeoutInMinutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Millis>,
    /// `timeoutConfiguration.action`: `ROLLBACK` (ECS's default) or `CONTINUE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<String>,
}

impl LifecycleHook {
    /// Whether it is a PAUSE hook (waits for `ContinueServiceDeployment`).
    pub fn is_pause(&self) -> bool {
        self.target_type.as_deref() == Some("PAUSE")
    }

    /// What ECS does when the hook times out (ROLLBACK unless set).
    pub fn timeout_action(&self) -> &str {
        self.timeout_action.as_deref().unwrap_or("ROLLBACK")
    }
}

/// A look at the service right now (DescribeServices): used to confirm a zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// `desiredCount`.
    pub desired: u32,
    /// `runningCount`.
    pub running: u32,
    /// When it was observed.
    pub at: Timestamp,
}

impl Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Self)
    }
}

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

/// The rules' numbers for one service, before anyone puts them into words.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Whether the rolling rules apply (a REPLICA service on the ECS controller).
    pub rolling: bool,
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
