//! The SNS subject, as an email subscriber or a pager reads it: under SNS's 100
//! characters, it must still say which service and what happened, whatever the
//! length of the service's name.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::adapters::sns::ascii_subject;
use rollout_watcher::core::{Alert, AlertName, Settings};
use rollout_watcher::message;
use rollout_watcher::replay::Replay;

const SERVICE: &str = "payments-gateway-reconciliation-worker";

/// A rollout of `service` that starts, then fails on the circuit breaker.
fn failed_rollout(service: &str) -> Vec<Alert> {
    let arn = format!("arn:aws:ecs:us-west-2:111122223333:service/default/{service}");
    let event = |name: &str, kind: &str, at: &str, reason: &str| {
        serde_json::json!({
            "version": "0",
            "id": format!("{name}-{at}"),
            "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs",
            "account": "111122223333",
            "time": at,
            "region": "us-west-2",
            "resources": [arn],
            "detail": {
                "eventType": kind,
                "eventName": name,
                "deploymentId": "ecs-svc/5201917352089438067",
                "updatedAt": at,
                "reason": reason
            }
        })
        .to_string()
    };
    let mut world = Replay::new(Settings::default());
    let mut alerts = Vec::new();
    for e in [
        event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "INFO",
            "2026-03-02T10:00:00Z",
            "ECS deployment ecs-svc/5201917352089438067 in progress.",
        ),
        event(
            "SERVICE_DEPLOYMENT_FAILED",
            "ERROR",
            "2026-03-02T10:09:00Z",
            "ECS deployment circuit breaker: task failed to start.",
        ),
    ] {
        alerts.extend(world.apply_json(&e).unwrap().alerts().cloned());
    }
    alerts
}

/// A service with a long (but ordinary) name fails its rollout: the subject that
/// SNS sends to the on-call's mail still ends in what happened ("deployment
/// failed"), with the severity and the service, instead of being cut inside the
/// deployment id and task definition so that a start and a failure read the same.
#[test]
fn a_long_service_name_still_says_what_happened_in_the_subject() {
    let alerts = failed_rollout(SERVICE);
    let failed = alerts
        .iter()
        .find(|a| a.alert == AlertName::DeploymentFailed)
        .unwrap();
    let started = alerts
        .iter()
        .find(|a| a.alert == AlertName::DeploymentStarted)
        .unwrap();

    let subject = ascii_subject(&message::subject(failed, Some("production")));

    assert!(subject.len() < 100, "{subject}");
    assert!(subject.starts_with("[production] [CRITICAL] "), "{subject}");
    assert!(subject.contains(SERVICE), "{subject}");
    assert!(subject.contains("deployment failed"), "{subject}");
    let start = ascii_subject(&message::subject(started, Some("production")));
    assert_ne!(subject, start, "a failure must not read like a start");
    assert!(start.contains("deployment started"), "{start}");
}

/// A service name of ECS's full 255 characters: the name is cut, never the severity
/// or what happened.
#[test]
fn a_name_too_long_for_the_subject_is_cut_before_what_happened() {
    let alert = failed_rollout(&"s".repeat(255))
        .into_iter()
        .find(|a| a.alert == AlertName::DeploymentFailed)
        .unwrap();

    let subject = ascii_subject(&message::subject(&alert, Some("production")));

    assert!(subject.len() < 100, "{subject}");
    assert!(
        subject.starts_with("[production] [CRITICAL] sss"),
        "{subject}"
    );
    assert!(subject.ends_with("...: deployment failed"), "{subject}");
}

/// When everything fits, the subject is the alert's own title with the account and
/// region, as before.
#[test]
fn a_short_subject_keeps_the_title_and_the_place() {
    let failed = failed_rollout("web")
        .into_iter()
        .find(|a| a.alert == AlertName::DeploymentFailed)
        .unwrap();

    let subject = message::subject(&failed, None);

    assert_eq!(
        subject,
        "[CRITICAL] web: deployment ecs-svc/5201917352089438067 failed (111122223333 us-west-2)"
    );
}
