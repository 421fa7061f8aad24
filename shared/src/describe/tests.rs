#![allow(clippy::unwrap_used)]

use super::*;

fn service(json: &str) -> DescribedService {
    serde_json::from_str(json).unwrap()
}

/// A service created without `deploymentConfiguration` has no circuit breaker: ECS
/// leaves it off unless it is set. Off, not unknown, so the rules and the audit
/// report say the same thing whether the settings came from the SDK or from a file.
#[test]
fn no_deployment_configuration_means_the_breaker_is_off() {
    let c = service(r#"{"serviceName":"a","desiredCount":2}"#).config();
    assert_eq!(c.circuit_breaker, Some(false));
    assert_eq!(c.rollback, Some(false));
    assert_eq!((c.min_healthy_percent, c.max_percent), (None, None));
    assert_eq!(c.load_balanced, None);
}

/// A breaker that is listed but not enabled does not roll back, whatever it says.
#[test]
fn a_disabled_breaker_never_rolls_back() {
    let c = service(
        r#"{"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":false,"rollback":true}}}"#,
    )
    .config();
    assert_eq!((c.circuit_breaker, c.rollback), (Some(false), Some(false)));
}

/// Only a COUNT threshold is the breaker's failure threshold.
#[test]
fn a_count_threshold_is_the_failure_threshold() {
    let with = |kind: &str| {
        service(&format!(
            r#"{{"deploymentConfiguration":{{"deploymentCircuitBreaker":{{"enable":true,
            "rollback":true,"thresholdConfiguration":{{"type":"{kind}","value":3}}}}}}}}"#
        ))
        .config()
    };
    assert_eq!(with("COUNT").failure_threshold, Some(3));
    assert_eq!(with("PERCENTAGE").failure_threshold, None);
}

/// The watcher's tags become per-service overrides; unknown values are ignored.
#[test]
fn tags_override_the_watcher() {
    let c = service(
        r#"{"tags":[{"key":"rollout-watcher:stall-after","value":"20m"},
        {"key":"rollout-watcher:mute","value":"yes"},
        {"key":"rollout-watcher:notify-info","value":"maybe"}]}"#,
    )
    .config();
    assert_eq!(c.stall_after, Some(Millis::from_secs(1200)));
    assert!(c.mute);
    assert_eq!(c.notify_info, None);
}

/// Names come from the ARNs when the name is absent, old ARNs included.
#[test]
fn names_come_from_the_arns_when_the_name_is_absent() {
    let s = DescribedService {
        service_arn: Some("arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-api".into()),
        ..DescribedService::default()
    };
    assert_eq!(s.names(), ("prod".to_owned(), "checkout-api".to_owned()));
    let s = DescribedService {
        cluster_arn: Some("arn:aws:ecs:eu-west-1:123456789012:cluster/prod".into()),
        service_arn: Some("arn:aws:ecs:eu-west-1:123456789012:service/legacy".into()),
        ..DescribedService::default()
    };
    assert_eq!(s.names(), ("prod".to_owned(), "legacy".to_owned()));
}

/// A blue/green service with a pause hook: the strategy, the bake time and the hook
/// (its stages, timeout and what ECS does when it expires) reach the configuration.
#[test]
fn a_blue_green_service_brings_its_bake_time_and_hooks() {
    let c = service(
        r#"{"deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":15,
            "lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["POST_TEST_TRAFFIC_SHIFT"],
              "timeoutConfiguration":{"timeoutInMinutes":720,"action":"CONTINUE"}},
              {"hookTargetArn":"arn:aws:lambda:us-east-1:1:function:smoke","lifecycleStages":["POST_SCALE_UP"]}]}}"#,
    )
    .config();
    assert_eq!(c.strategy, Some(DeploymentStrategy::BlueGreen));
    assert_eq!(c.bake_time, Some(Millis::from_secs(15 * 60)));
    assert_eq!(c.traffic_steps, None);
    assert_eq!(c.lifecycle_hooks.len(), 2);
    let pause = &c.lifecycle_hooks[0];
    assert!(pause.is_pause());
    assert_eq!(pause.stages, ["POST_TEST_TRAFFIC_SHIFT"]);
    assert_eq!(pause.timeout, Some(Millis::from_secs(720 * 60)));
    assert_eq!(pause.timeout_action(), "CONTINUE");
    let lambda = &c.lifecycle_hooks[1];
    assert!(!lambda.is_pause());
    assert_eq!(lambda.timeout_action(), "ROLLBACK");
}

/// Linear and canary read their own block; the other one's is ignored, as ECS does;
/// a strategy this build does not know is no strategy (followed as rolling).
#[test]
fn linear_and_canary_steps_come_from_their_own_block() {
    let both = r#""linearConfiguration":{"stepPercent":25.0,"stepBakeTimeInMinutes":3},
        "canaryConfiguration":{"canaryPercent":10.0,"canaryBakeTimeInMinutes":5}"#;
    let linear = service(&format!(
        r#"{{"deploymentConfiguration":{{"strategy":"LINEAR",{both}}}}}"#
    ))
    .config();
    assert_eq!(
        linear.traffic_steps,
        Some(TrafficSteps {
            percent: 25.0,
            step_bake: Millis::from_secs(180)
        })
    );
    let canary = service(&format!(
        r#"{{"deploymentConfiguration":{{"strategy":"CANARY",{both}}}}}"#
    ))
    .config();
    assert_eq!(
        canary.traffic_steps,
        Some(TrafficSteps {
            percent: 10.0,
            step_bake: Millis::from_secs(300)
        })
    );
    let rolling = service(&format!(
        r#"{{"deploymentConfiguration":{{"strategy":"ROLLING",{both}}}}}"#
    ))
    .config();
    assert_eq!(rolling.traffic_steps, None);
    let unknown = service(r#"{"deploymentConfiguration":{"strategy":"RAINBOW"}}"#).config();
    assert_eq!(unknown.strategy, None);
}
