//! The SDK's `Service` as the plain [`DescribedService`], field by field: the
//! meaning of each field (and of its absence) is decided once, in
//! [`DescribedService::config`], for the SDK's answers and for the JSON the CLI
//! reads alike. Feature `ecs-sdk` (part of `aws`): the CLI's live `audit` uses it
//! without the other adapters.

use aws_sdk_ecs::types::Service;
use serde::de::IgnoredAny;

use crate::describe::{
    CanaryConfiguration, CircuitBreaker, DeploymentConfiguration, DeploymentController,
    DescribedService, Hook, HookTimeout, LinearConfiguration, Tag, Threshold,
};

/// DescribeServices' service, as the plain model.
pub fn described(s: &Service) -> DescribedService {
    let count = |n: i32| u32::try_from(n).ok();
    DescribedService {
        service_name: s.service_name().map(str::to_owned),
        service_arn: s.service_arn().map(str::to_owned),
        cluster_arn: s.cluster_arn().map(str::to_owned),
        status: s.status().map(str::to_owned),
        desired_count: count(s.desired_count()),
        running_count: count(s.running_count()),
        scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_owned()),
        deployment_controller: s.deployment_controller().map(|c| DeploymentController {
            r#type: Some(c.r#type().as_str().to_owned()),
        }),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds().and_then(count),
        load_balancers: s.load_balancers.as_ref().map(|l| vec![IgnoredAny; l.len()]),
        deployment_configuration: s
            .deployment_configuration()
            .map(|d| DeploymentConfiguration {
                minimum_healthy_percent: d.minimum_healthy_percent().and_then(count),
                maximum_percent: d.maximum_percent().and_then(count),
                deployment_circuit_breaker: d.deployment_circuit_breaker().map(|b| {
                    CircuitBreaker {
                        enable: b.enable(),
                        rollback: b.rollback(),
                        threshold_configuration: b.threshold_configuration().map(|t| Threshold {
                            r#type: Some(t.r#type().as_str().to_owned()),
                            value: count(t.value()),
                        }),
                    }
                }),
                strategy: d.strategy().map(|x| x.as_str().to_owned()),
                bake_time_in_minutes: d.bake_time_in_minutes().and_then(count),
                linear_configuration: d.linear_configuration().map(|l| LinearConfiguration {
                    step_percent: l.step_percent(),
                    step_bake_time_in_minutes: l.step_bake_time_in_minutes().and_then(count),
                }),
                canary_configuration: d.canary_configuration().map(|c| CanaryConfiguration {
                    canary_percent: c.canary_percent(),
                    canary_bake_time_in_minutes: c.canary_bake_time_in_minutes().and_then(count),
                }),
                lifecycle_hooks: d
                    .lifecycle_hooks()
                    .iter()
                    .map(|h| Hook {
                        target_type: h.target_type().map(|t| t.as_str().to_owned()),
                        hook_target_arn: h.hook_target_arn().map(str::to_owned),
                        lifecycle_stages: h
                            .lifecycle_stages()
                            .iter()
                            .map(|st| st.as_str().to_owned())
                            .collect(),
                        timeout_configuration: h.timeout_configuration().map(|t| HookTimeout {
                            timeout_in_minutes: t.timeout_in_minutes().and_then(count),
                            action: t.action().map(|a| a.as_str().to_owned()),
                        }),
                    })
                    .collect(),
            }),
        tags: s
            .tags()
            .iter()
            .map(|t| Tag {
                key: t.key().map(str::to_owned),
                value: t.value().map(str::to_owned),
            })
            .collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aws_sdk_ecs::types::{
        DeploymentCircuitBreaker, DeploymentConfiguration, Service, ThresholdConfiguration,
        ThresholdType,
    };

    use super::described;
    use crate::describe::DescribedService;

    /// The same service as the SDK answers it and as `describe-services` prints it
    /// gives the same configuration. Without `deploymentConfiguration` the breaker
    /// is off on both paths: the SDK path used to leave it unknown (`None`) while the
    /// file path said off, so the watcher and `audit` disagreed on one service.
    #[test]
    fn sdk_and_json_agree_when_deployment_configuration_is_absent() {
        let sdk = Service::builder()
            .service_name("checkout")
            .desired_count(3)
            .build();
        let json: DescribedService =
            serde_json::from_str(r#"{"serviceName":"checkout","desiredCount":3,"runningCount":0}"#)
                .unwrap();
        let from_sdk = described(&sdk).config();
        assert_eq!(from_sdk.circuit_breaker, Some(false));
        assert_eq!(from_sdk.rollback, Some(false));
        assert_eq!(from_sdk, json.config());
    }

    /// Every deployment setting the SDK carries reaches the configuration.
    #[test]
    fn sdk_deployment_settings_reach_the_configuration() {
        let breaker = DeploymentCircuitBreaker::builder()
            .enable(true)
            .rollback(true)
            .threshold_configuration(
                ThresholdConfiguration::builder()
                    .r#type(ThresholdType::Count)
                    .value(2)
                    .build()
                    .unwrap(),
            )
            .build();
        let sdk = Service::builder()
            .desired_count(4)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .minimum_healthy_percent(50)
                    .maximum_percent(150)
                    .deployment_circuit_breaker(breaker)
                    .build(),
            )
            .build();
        let c = described(&sdk).config();
        assert_eq!(
            (c.min_healthy_percent, c.max_percent),
            (Some(50), Some(150))
        );
        assert_eq!((c.circuit_breaker, c.rollback), (Some(true), Some(true)));
        assert_eq!(c.failure_threshold, Some(2));
    }

    /// The ECS-native settings travel the SDK path as they travel the file path.
    #[test]
    fn sdk_and_json_agree_on_a_canary_with_a_pause_hook() {
        use aws_sdk_ecs::types::{
            CanaryConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookAction,
            DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType,
            DeploymentLifecycleHookTimeoutConfiguration, DeploymentStrategy,
        };
        let hook = DeploymentLifecycleHook::builder()
            .target_type(DeploymentLifecycleHookTargetType::Pause)
            .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift)
            .timeout_configuration(
                DeploymentLifecycleHookTimeoutConfiguration::builder()
                    .timeout_in_minutes(60)
                    .action(DeploymentLifecycleHookAction::Rollback)
                    .build(),
            )
            .build();
        let sdk = Service::builder()
            .desired_count(2)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .strategy(DeploymentStrategy::Canary)
                    .bake_time_in_minutes(10)
                    .canary_configuration(
                        CanaryConfiguration::builder()
                            .canary_percent(10.0)
                            .canary_bake_time_in_minutes(5)
                            .build(),
                    )
                    .lifecycle_hooks(hook)
                    .build(),
            )
            .build();
        let json: DescribedService = serde_json::from_str(
            r#"{"desiredCount":2,"deploymentConfiguration":{"strategy":"CANARY","bakeTimeInMinutes":10,
                "canaryConfiguration":{"canaryPercent":10.0,"canaryBakeTimeInMinutes":5},
                "lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["POST_TEST_TRAFFIC_SHIFT"],
                  "timeoutConfiguration":{"timeoutInMinutes":60,"action":"ROLLBACK"}}]}}"#,
        )
        .unwrap();
        let from_sdk = described(&sdk).config();
        assert_eq!(from_sdk, json.config());
        assert_eq!(from_sdk.lifecycle_hooks.len(), 1);
        assert!(from_sdk.traffic_steps.is_some());
    }
}
