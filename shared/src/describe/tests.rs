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
