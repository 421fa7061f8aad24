//! The knobs of the state machine and what it knows of a service's configuration.

use serde::{Deserialize, Serialize};

use crate::model::{Millis, Timestamp};

/// Watcher-wide settings (from the environment or CLI flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// A rollout in progress longer than this is `stalled` (default 15 min).
    pub stall_after: Millis,
    /// A zero must last this long in event time before `zero_running_tasks` fires
    /// (default 30 s), so that a late RUNNING event never pages anyone by mistake.
    pub zero_grace: Millis,
    /// When true, a zero past its grace waits for an [`Observation`] (DescribeServices)
    /// before firing; the deployed functions set it, the offline replay does not.
    pub confirm_zero: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            stall_after: Millis::from_secs(15 * 60),
            zero_grace: Millis::from_secs(30),
            confirm_zero: false,
        }
    }
}

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
    /// Tag `rollout-watcher:mute`: no alerts are published for this service.
    #[serde(default)]
    pub mute: bool,
    /// Tag `rollout-watcher:notify-info`: overrides the watcher-wide setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_info: Option<bool>,
    /// When this was read (wall-clock time of the look-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
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
