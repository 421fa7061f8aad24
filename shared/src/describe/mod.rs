//! ECS's `Service` as `describe-services` prints it, and the one mapping from it to
//! the watcher's [`ServiceConfig`].
//!
//! Why one plain model: the same service reaches the watcher three ways (the SDK's
//! answer in the Lambda functions, the SDK's answer in `audit --cluster`, and the JSON
//! `aws ecs describe-services` prints, read by `audit --describe-services`). Each
//! path fills this model (the SDK adapter field by field, the CLI with serde), and
//! [`DescribedService::config`] is the only place that decides what a field, or its
//! absence, means. It needs no SDK, so the JSON path builds without the `aws` feature.
//!
//! Absent is not the same as zero: a percent ECS did not report stays `None` (the
//! rules fill ECS's defaults and the audit says it assumed them). The circuit breaker
//! is the exception: ECS leaves it off unless `deploymentCircuitBreaker` sets it, so a
//! service without `deploymentConfiguration`, or without the breaker in it, has it
//! off (`Some(false)`), not unknown.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::core::ServiceConfig;
use crate::model::{CrashLoopRule, DeploymentStrategy, LifecycleHook, Millis, TrafficSteps};

#[cfg(test)]
mod tests;

/// Tag: per-service stall deadline (`20m`, `1h`).
pub const TAG_STALL_AFTER: &str = "rollout-watcher:stall-after";
/// Tag: per-service crash-loop rule (`3/15m`, `5/1h`).
pub const TAG_CRASH_LOOP: &str = "rollout-watcher:crash-loop";
/// Tag: `true` mutes every alert of the service.
pub const TAG_MUTE: &str = "rollout-watcher:mute";
/// Tag: `true`/`false` overrides NOTIFY_INFO for the service.
pub const TAG_NOTIFY_INFO: &str = "rollout-watcher:notify-info";

/// One entry of `services[]` (only the fields the watcher reads).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribedService {
    /// `serviceName`.
    pub service_name: Option<String>,
    /// `serviceArn`.
    pub service_arn: Option<String>,
    /// `clusterArn`.
    pub cluster_arn: Option<String>,
    /// `ACTIVE`, `DRAINING` or `INACTIVE` (deleted).
    pub status: Option<String>,
    /// `desiredCount`.
    pub desired_count: Option<u32>,
    /// `runningCount`.
    pub running_count: Option<u32>,
    /// `REPLICA` or `DAEMON`.
    pub scheduling_strategy: Option<String>,
    /// `deploymentController`.
    pub deployment_controller: Option<DeploymentController>,
    /// `healthCheckGracePeriodSeconds`.
    pub health_check_grace_period_seconds: Option<u32>,
    /// `loadBalancers` (only whether there are any matters).
    pub load_balancers: Option<Vec<IgnoredAny>>,
    /// `deploymentConfiguration`.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// `tags` (present with `--include TAGS`).
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `deploymentController`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DeploymentController {
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL`.
    pub r#type: Option<String>,
}

/// `deploymentConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfiguration {
    /// `minimumHealthyPercent`.
    pub minimum_healthy_percent: Option<u32>,
    /// `maximumPercent`.
    pub maximum_percent: Option<u32>,
    /// `deploymentCircuitBreaker`.
    pub deployment_circuit_breaker: Option<CircuitBreaker>,
    /// `strategy`: `ROLLING`, `BLUE_GREEN`, `LINEAR` or `CANARY`.
    pub strategy: Option<String>,
    /// `bakeTimeInMinutes`.
    pub bake_time_in_minutes: Option<u32>,
    /// `linearConfiguration`.
    pub linear_configuration: Option<LinearConfiguration>,
    /// `canaryConfiguration`.
    pub canary_configuration: Option<CanaryConfiguration>,
    /// `lifecycleHooks`.
    #[serde(default)]
    pub lifecycle_hooks: Vec<Hook>,
}

/// `deploymentConfiguration.linearConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinearConfiguration {
    /// `stepPercent`.
    pub step_percent: Option<f64>,
    /// `stepBakeTimeInMinutes`.
    pub step_bake_time_in_minutes: Option<u32>,
}

/// `deploymentConfiguration.canaryConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfiguration {
    /// `canaryPercent`.
    pub canary_percent: Option<f64>,
    /// `canaryBakeTimeInMinutes`.
    pub canary_bake_time_in_minutes: Option<u32>,
}

/// One of `deploymentConfiguration.lifecycleHooks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    /// `targetType`: `AWS_LAMBDA` or `PAUSE`.
    pub target_type: Option<String>,
    /// `hookTargetArn`.
    pub hook_target_arn: Option<String>,
    /// `lifecycleStages`.
    #[serde(default)]
    pub lifecycle_stages: Vec<String>,
    /// `timeoutConfiguration`.
    pub timeout_configuration: Option<HookTimeout>,
}

/// `lifecycleHooks[].timeoutConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookTimeout {
    /// `timeoutInMinutes`.
    pub timeout_in_minutes: Option<u32>,
    /// `action`: `ROLLBACK` or `CONTINUE`.
    pub action: Option<String>,
}

/// `deploymentConfiguration.deploymentCircuitBreaker`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreaker {
    /// `enable`.
    #[serde(default)]
    pub enable: bool,
    /// `rollback`.
    #[serde(default)]
    pub rollback: bool,
    /// `thresholdConfiguration`.
    pub threshold_configuration: Option<Threshold>,
}

/// `deploymentCircuitBreaker.thresholdConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Threshold {
    /// `COUNT` or `PERCENTAGE`.
    pub r#type: Option<String>,
    /// The count or percentage.
    pub value: Option<u32>,
}

/// One of `tags[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Tag {
    /// The key.
    pub key: Option<String>,
    /// The value.
    pub value: Option<String>,
}

impl DescribedService {
    /// Whether ECS lists the service as deleted.
    pub fn is_inactive(&self) -> bool {
        self.status.as_deref() == Some("INACTIVE")
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key.as_deref() == Some(key))
            .and_then(|t| t.value.as_deref())
    }

    /// The service's deployment settings and per-service overrides (its tags).
    pub fn config(&self) -> ServiceConfig {
        let dc = self.deployment_configuration.as_ref();
        let breaker = dc.and_then(|d| d.deployment_circuit_breaker.as_ref());
        // Off unless ECS says it is on (see the module's documentation).
        let enabled = breaker.is_some_and(|b| b.enable);
        ServiceConfig {
            desired_count: self.desired_count,
            min_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent),
            max_percent: dc.and_then(|d| d.maximum_percent),
            circuit_breaker: Some(enabled),
            rollback: Some(enabled && breaker.is_some_and(|b| b.rollback)),
            failure_threshold: breaker
                .and_then(|b| b.threshold_configuration.as_ref())
                .filter(|t| t.r#type.as_deref() == Some("COUNT"))
                .and_then(|t| t.value),
            scheduling_strategy: self.scheduling_strategy.clone(),
            deployment_controller: self
                .deployment_controller
                .as_ref()
                .and_then(|c| c.r#type.clone()),
            health_check_grace_s: self.health_check_grace_period_seconds,
            load_balanced: self.load_balancers.as_ref().map(|l| !l.is_empty()),
            stall_after: self.tag(TAG_STALL_AFTER).and_then(Millis::parse_duration),
            crash_loop: self.tag(TAG_CRASH_LOOP).and_then(CrashLoopRule::parse),
            mute: self.tag(TAG_MUTE).and_then(parse_bool).unwrap_or(false),
            notify_info: self.tag(TAG_NOTIFY_INFO).and_then(parse_bool),
            strategy: dc
                .and_then(|d| d.strategy.as_deref())
                .and_then(DeploymentStrategy::parse),
            bake_time: dc
                .and_then(|d| d.bake_time_in_minutes)
                .map(|m| Millis::from_secs(i64::from(m) * 60)),
            traffic_steps: dc.and_then(DeploymentConfiguration::traffic_steps),
            lifecycle_hooks: dc
                .map(|d| d.lifecycle_hooks.iter().map(Hook::config).collect())
                .unwrap_or_default(),
            read_at: None,
        }
    }

    /// Cluster and service names from whichever of the ARNs and the name is present
    /// (`?` for one that is not). Service ARNs are `…:service/CLUSTER/NAME` (or the
    /// old `…:service/NAME`).
    pub fn names(&self) -> (String, String) {
        let path = self
            .service_arn
            .as_deref()
            .and_then(|a| a.split_once(":service/"))
            .map(|(_, p)| p);
        let (arn_cluster, arn_name) = match path.map(|p| p.split_once('/')) {
            Some(Some((c, n))) => (Some(c), Some(n)),
            Some(None) => (None, path),
            None => (None, None),
        };
        let cluster = self
            .cluster_arn
            .as_deref()
            .and_then(|a| a.split_once(":cluster/"))
            .map(|(_, c)| c)
            .or(arn_cluster)
            .unwrap_or("?");
        let name = self.service_name.as_deref().or(arn_name).unwrap_or("?");
        (cluster.to_owned(), name.to_owned())
    }
}

impl DeploymentConfiguration {
    /// The steps of the strategy in force: linear's or canary's, never both (ECS
    /// ignores the other one's block).
    fn traffic_steps(&self) -> Option<TrafficSteps> {
        let minutes = |m: Option<u32>| Millis::from_secs(i64::from(m.unwrap_or(0)) * 60);
        match self.strategy.as_deref().and_then(DeploymentStrategy::parse) {
            Some(DeploymentStrategy::Linear) => {
                let l = self.linear_configuration.as_ref()?;
                Some(TrafficSteps {
                    percent: l.step_percent?,
                    step_bake: minutes(l.step_bake_time_in_minutes),
                })
            }
            Some(DeploymentStrategy::Canary) => {
                let c = self.canary_configuration.as_ref()?;
                Some(TrafficSteps {
                    percent: c.canary_percent?,
                    step_bake: minutes(c.canary_bake_time_in_minutes),
                })
            }
            _ => None,
        }
    }
}

impl Hook {
    fn config(&self) -> LifecycleHook {
        let timeout = self.timeout_configuration.as_ref();
        LifecycleHook {
            target_type: self.target_type.clone(),
            target_arn: self.hook_target_arn.clone(),
            stages: self.lifecycle_stages.clone(),
            timeout: timeout
                .and_then(|t| t.timeout_in_minutes)
                .map(|m| Millis::from_secs(i64::from(m) * 60)),
            timeout_action: timeout.and_then(|t| t.action.clone()),
        }
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}
