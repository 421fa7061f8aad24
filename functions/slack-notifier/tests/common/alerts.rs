//! One alert of every kind, with the details the watcher gives it (the texts are
//! ECS's own, from DESIGN.md's samples).

use rollout_watcher::core::{Alert, AlertDetails, AlertName, AlertStatus};
use rollout_watcher::model::{ContainerExit, DeploymentId, ServiceArn, Timestamp};
use rollout_watcher::policy::console_url;

pub const SERVICE_ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-api";
pub const DEPLOYMENT: &str = "ecs-svc/4827305519374027721";
pub const TASK_ARN: &str =
    "arn:aws:ecs:eu-west-1:123456789012:task/prod/0c4b3f6a9a0e4f5c8c1d2e3f4a5b6c7d";

/// An alert for `checkout-api` in cluster `prod`, firing, with `details` filled in.
pub fn alert(name: AlertName, summary: &str, details: impl FnOnce(&mut AlertDetails)) -> Alert {
    let service = ServiceArn::parse(SERVICE_ARN).unwrap();
    let mut d = AlertDetails {
        console_url: console_url(&service),
        task_definition: Some("checkout-api:42".into()),
        ..AlertDetails::default()
    };
    details(&mut d);
    Alert {
        alert: name,
        status: AlertStatus::Firing,
        severity: name.severity(),
        cluster: service.cluster().to_owned(),
        service_name: service.name().to_owned(),
        service: service.clone(),
        deployment_id: DeploymentId::parse(DEPLOYMENT),
        at: Timestamp::parse("2026-03-02T10:15:00Z").unwrap(),
        title: format!("checkout-api: {}", name.as_str()),
        summary: summary.to_owned(),
        dedup_key: format!("{SERVICE_ARN}|{DEPLOYMENT}|{}|0", name.as_str()),
        details: d,
    }
}

pub fn resolved(mut a: Alert) -> Alert {
    a.status = AlertStatus::Resolved;
    a.dedup_key.push_str("|resolved");
    a
}

pub fn health_check_failed() -> Alert {
    alert(
        AlertName::HealthCheckFailed,
        "Task 0c4b3f6a of checkout-api:42 failed its ELB health checks (2 of 3 toward the circuit breaker).",
        |d| {
            d.task_arn = Some(TASK_ARN.into());
            d.stop_code = Some("ServiceSchedulerInitiated".into());
            d.stop_reason = Some("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout/6d0ecf831eec9f09)".into());
            d.exits = vec![ContainerExit {
                name: "app".into(),
                exit_code: Some(137),
                reason: None,
            }];
            d.failures = Some(2);
            d.threshold = Some(3);
        },
    )
}

pub fn task_failed_to_start() -> Alert {
    alert(
        AlertName::TaskFailedToStart,
        "Task 0c4b3f6a of checkout-api:42 never started: CannotPullContainerError.",
        |d| {
            d.task_arn = Some(TASK_ARN.into());
            d.stop_code = Some("TaskFailedToStart".into());
            d.stop_reason = Some("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:v43: not found".into());
            d.exits = vec![ContainerExit {
                name: "app".into(),
                exit_code: None,
                reason: Some("CannotPullContainerError".into()),
            }];
        },
    )
}

/// Every alert kind, the resolutions included.
pub fn every_kind() -> Vec<Alert> {
    vec![
        alert(
            AlertName::DeploymentStarted,
            "Deployment ecs-svc/4827305519374027721 of checkout-api:42 started.",
            |_| {},
        ),
        alert(
            AlertName::DeploymentCompleted,
            "checkout-api:42 is live after 1 min 14 s, with no downtime.",
            |d| {
                d.duration_s = Some(74.0);
                d.downtime_s = Some(0.0);
            },
        ),
        alert(
            AlertName::DeploymentFailed,
            "Deployment of checkout-api:42 failed: the circuit breaker tripped.",
            |d| {
                d.reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
                d.failures = Some(3);
                d.threshold = Some(3);
            },
        ),
        alert(
            AlertName::DeploymentRolledBack,
            "checkout-api:42 is being rolled back to checkout-api:41.",
            |d| {
                d.rolled_back_by = DeploymentId::parse("ecs-svc/9990001112223334445");
            },
        ),
        health_check_failed(),
        task_failed_to_start(),
        alert(
            AlertName::TaskStartImpaired,
            "checkout-api is unable to consistently start tasks.",
            |d| {
                d.reason = Some(
                    "(service checkout-api) is unable to consistently start tasks successfully."
                        .into(),
                );
            },
        ),
        alert(
            AlertName::TaskPlacementFailed,
            "checkout-api cannot place tasks.",
            |d| {
                d.reason = Some("(service checkout-api) was unable to place a task because no container instance met all of its requirements.".into());
            },
        ),
        alert(
            AlertName::ZeroRunningTasks,
            "checkout-api has 0 running tasks (desired 1).",
            |_| {},
        ),
        resolved(alert(
            AlertName::ZeroRunningTasks,
            "checkout-api is serving again after 1 min 33 s of downtime.",
            |d| {
                d.downtime_s = Some(93.0);
            },
        )),
        alert(
            AlertName::DeploymentStalled,
            "Deployment of checkout-api:42 is still in progress after 15 min.",
            |d| {
                d.duration_s = Some(900.0);
            },
        ),
        alert(
            AlertName::UnsafeDeploymentConfig,
            "checkout-api's deployment settings allow downtime.",
            |d| {
                d.findings = vec!["Minimum healthy tasks: 1 × 0% = 0 tasks (rounded up): ECS may stop the last serving task".into()];
            },
        ),
        alert(
            AlertName::TaskCrashed,
            "checkout-api: task 0c4b3f6a crashed after serving 1 h 0 min: container app was killed for running out of memory (OutOfMemoryError: Container killed due to memory usage), exit code 137.",
            |d| {
                d.task_arn = Some(TASK_ARN.into());
                d.stop_reason = Some("Essential container in task exited".into());
                d.stop_code = Some("EssentialContainerExited".into());
                d.exits = vec![ContainerExit {
                    name: "app".into(),
                    exit_code: Some(137),
                    reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                }];
            },
        ),
        alert(
            AlertName::CrashLoop,
            "checkout-api: crash loop: 3 task crashes since 2026-03-02T10:00:00Z (the rule: 3 crashes within 15 min).",
            |d| d.failures = Some(3),
        ),
    ]
}
