//! A service's configuration as ECS reports it (DescribeServices and tags). The rules
//! ECS's deployments follow from it, and the findings they give, are in `rules`.

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
