//! The SDK's Service Deployments API answers as the plain
//! [`crate::model::ServiceDeploymentView`] model, field by field (feature `ecs-sdk`):
//! `wait`, the handler and the sweeper read the same values.

use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{ServiceDeployment, ServiceDeploymentBrief};

use crate::model::{BriefView, HookView, ServiceDeploymentView, Timestamp};

fn ts(d: Option<&DateTime>) -> Option<Timestamp> {
    d.and_then(|d| d.to_millis().ok())
        .map(Timestamp::from_millis)
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// ListServiceDeployments' brief, as the plain model (`None` without an ARN).
pub fn brief(b: &ServiceDeploymentBrief) -> Option<BriefView> {
    Some(BriefView {
        arn: b.service_deployment_arn()?.to_owned(),
        target_revision: b.target_service_revision_arn().map(str::to_owned),
        created_at: ts(b.created_at()),
    })
}

/// DescribeServiceDeployments' deployment, as the plain model.
pub fn service_deployment(d: &ServiceDeployment) -> ServiceDeploymentView {
    let breaker = d.deployment_circuit_breaker();
    let alarms = d.alarms();
    ServiceDeploymentView {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        target_revision: d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(str::to_owned),
        status: d
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_owned),
        stage: d.lifecycle_stage().map(|s| s.as_str().to_owned()),
        updated_at: ts(d.updated_at()),
        finished_at: ts(d.finished_at()),
        rollback_started_at: d.rollback().and_then(|r| ts(r.started_at())),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_owned),
        breaker_status: breaker
            .and_then(|b| b.status())
            .map(|s| s.as_str().to_owned()),
        breaker_failures: breaker.map(|b| count(b.failure_count())),
        breaker_threshold: breaker.map(|b| count(b.threshold())),
        alarms_status: alarms
            .and_then(|a| a.status())
            .map(|s| s.as_str().to_owned()),
        triggered_alarms: alarms
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .filter_map(|h| {
                Some(HookView {
                    hook_id: h.hook_id()?.to_owned(),
                    target_type: h.target_type().map(|t| t.as_str().to_owned()),
                    status: h
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    expires_at: ts(h.expires_at()),
                    timeout_action: h.timeout_action().map(|a| a.as_str().to_owned()),
                })
            })
            .collect(),
    }
}
