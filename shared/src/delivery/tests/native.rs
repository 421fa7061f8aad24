//! ECS-native rollouts (blue/green) where events cannot tell: the handler asks
//! DescribeServiceDeployments once for a hook event's service deployment not joined
//! yet; the sweeper reads open native rollouts and finishes or pauses them from the
//! Service Deployments API's word, each alert once.

use crate::delivery::SweepConfig;
use crate::model::{DeploymentStrategy, HookView, LifecycleHook, ServiceDeploymentView};

use super::*;

const DIGITS: &str = "1485800978477494678";
const SD: &str =
    "arn:aws:ecs:eu-west-1:123456789012:service-deployment/prod/web/0EYSiB0qap8xf0N76FsbE";
const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";

fn blue_green() -> ServiceConfig {
    ServiceConfig {
        strategy: Some(DeploymentStrategy::BlueGreen),
        lifecycle_hooks: vec![LifecycleHook {
            target_type: Some("PAUSE".into()),
            stages: vec!["POST_TEST_TRAFFIC_SHIFT".into()],
            ..LifecycleHook::default()
        }],
        ..safe()
    }
}

fn rollout_id() -> String {
    format!("ecs-svc/{DIGITS}")
}

/// What DescribeServiceDeployments says of the rollout's service deployment.
fn reading(status: &str, hook_status: Option<&str>, at: &str) -> ServiceDeploymentView {
    let at = Timestamp::parse(at).unwrap();
    ServiceDeploymentView {
        arn: SD.into(),
        target_revision: Some(format!(
            "arn:aws:ecs:eu-west-1:123456789012:service-revision/prod/web/{DIGITS}"
        )),
        status: status.into(),
        stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
        updated_at: Some(at),
        finished_at: (status == "SUCCESSFUL").then_some(at),
        hooks: hook_status
            .map(|s| HookView {
                hook_id: HOOK.into(),
                target_type: Some("PAUSE".into()),
                status: s.into(),
                expires_at: None,
                timeout_action: Some("ROLLBACK".into()),
            })
            .into_iter()
            .collect(),
        ..ServiceDeploymentView::default()
    }
}

fn hook_event(name: &str, time: &str) -> Value {
    json!({
        "version": "0", "id": format!("hook-{name}"), "detail-type": "ECS Hook State Change",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "eu-west-1",
        "resources": [SD],
        "detail": {
            "eventType": "INFO", "eventName": name, "hookId": HOOK, "hookType": "PAUSE",
            "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "clusterArn": CLUSTER,
            "serviceArn": SVC, "serviceDeploymentArn": SD, "updatedAt": time
        }
    })
}

fn sweep_config() -> SweepConfig {
    SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    }
}

fn paused_alerts(w: &World) -> Vec<Alert> {
    w.notifier
        .published()
        .into_iter()
        .filter(|a| a.alert == AlertName::DeploymentPaused)
        .collect()
}

/// A pause hook's event arrives before any deployment event: one describe names its
/// rollout, the pause alert names it, and the rollout keeps both keys. The same event
/// delivered again asks nothing and publishes nothing.
#[tokio::test]
async fn hook_event_of_an_unknown_service_deployment_describes_once_and_joins() {
    let w = world(blue_green());
    w.inspector.set_service_deployments(vec![reading(
        "IN_PROGRESS",
        Some("AWAITING_ACTION"),
        "2026-03-02T10:05:00Z",
    )]);
    let e = hook_event("HOOK_AWAITING_ACTION", "2026-03-02T10:05:00Z");
    let first = w.handle(&e, "req-1").await.unwrap();
    assert_eq!(first.status, "applied");
    assert_eq!(w.inspector.deployment_describes(), 1);
    let paused = paused_alerts(&w);
    assert_eq!(paused.len(), 1);
    assert_eq!(
        paused[0]
            .deployment_id
            .as_ref()
            .map(|d| d.as_str().to_owned()),
        Some(rollout_id())
    );
    let rec = record(&w).await;
    assert!(rec.state.is_joined(SD));
    assert_eq!(rec.state.open_rollouts()[0].as_str(), rollout_id());

    let again = w.handle(&e, "req-2").await.unwrap();
    assert_eq!(again.status, "duplicate");
    assert_eq!(
        w.inspector.deployment_describes(),
        1,
        "joined: no second call"
    );
    assert_eq!(paused_alerts(&w).len(), 1);
}

/// DescribeServiceDeployments fails: the hook event is still applied, joined to the
/// service's in-progress rollout, and its pause alert published once.
#[tokio::test]
async fn describe_failure_still_applies_the_hook_event() {
    let w = world(blue_green());
    w.inspector.set_deployments_failing(true);
    let start = deployment(
        &rollout_id(),
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.handle(&start, "req-1").await.unwrap();
    let e = hook_event("HOOK_AWAITING_ACTION", "2026-03-02T10:05:00Z");
    let out = w.handle(&e, "req-2").await.unwrap();
    assert_eq!(out.status, "applied");
    assert_eq!(w.inspector.deployment_describes(), 1);
    let paused = paused_alerts(&w);
    assert_eq!(paused.len(), 1);
    assert_eq!(
        paused[0]
            .deployment_id
            .as_ref()
            .map(|d| d.as_str().to_owned()),
        Some(rollout_id())
    );
    assert!(record(&w).await.state.is_joined(SD));
}

/// A blue/green rollout whose COMPLETED event never came: the sweeper lists the
/// service's deployments once (it does not know the ARN), reads SUCCESSFUL, and the
/// rollout finishes completed with its alert, once across ticks.
#[tokio::test]
async fn sweeper_finishes_a_blue_green_rollout_from_a_successful_reading() {
    let w = world(blue_green());
    let start = deployment(
        &rollout_id(),
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.handle(&start, "req-1").await.unwrap();
    w.inspector
        .set_service_deployments(vec![reading("SUCCESSFUL", None, "2026-03-02T10:08:00Z")]);
    w.clock
        .set(Timestamp::parse("2026-03-02T10:10:00Z").unwrap());
    let report = w.sweep(&sweep_config(), "tick-1").await.unwrap();
    assert_eq!(report.services, 1);
    assert_eq!(
        (
            w.inspector.deployment_lists(),
            w.inspector.deployment_describes()
        ),
        (1, 1)
    );
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let history = w
        .store
        .history(&ServiceArn::parse(SVC).unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].state.as_str(), "completed");

    w.clock
        .set(Timestamp::parse("2026-03-02T10:11:00Z").unwrap());
    w.sweep(&sweep_config(), "tick-2").await.unwrap();
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
}

/// A pause only the API reports (its hook event was lost) raises deployment_paused
/// once across two ticks; the second tick knows the ARN and lists nothing.
#[tokio::test]
async fn pause_seen_only_by_the_api_alerts_once_across_ticks() {
    let w = world(blue_green());
    let start = deployment(
        &rollout_id(),
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.handle(&start, "req-1").await.unwrap();
    w.inspector.set_service_deployments(vec![reading(
        "IN_PROGRESS",
        Some("AWAITING_ACTION"),
        "2026-03-02T10:04:00Z",
    )]);
    for (tick, at) in [("tick-1", "10:05"), ("tick-2", "10:06")] {
        w.clock
            .set(Timestamp::parse(&format!("2026-03-02T{at}:00Z")).unwrap());
        w.sweep(&sweep_config(), tick).await.unwrap();
    }
    assert_eq!(paused_alerts(&w).len(), 1);
    assert_eq!(
        (
            w.inspector.deployment_lists(),
            w.inspector.deployment_describes()
        ),
        (1, 2)
    );
    assert!(record(&w).await.state.is_joined(SD));
}
