//! The words of ECS-native deployments' alerts: a pause that waits for someone (and
//! tells them exactly what to run), its end, a lifecycle hook that failed, and a
//! deployment ECS rolled back in place.

use crate::core::{AlertName, Effect, Failures, HookEnd, HookRef, MetricName, RolloutRef};
use crate::model::{DeploymentId, Millis, ServiceArn, Timestamp};

use super::super::text::{AlertBuilder, metric};

/// The ECS console's page of one service deployment (INFERRED from the console's
/// URL scheme for a service's deployments tab; AWS documents neither).
pub(crate) fn deployment_console_url(service: &ServiceArn, service_deployment: &str) -> String {
    let region = service.region();
    let id = service_deployment.rsplit('/').next().unwrap_or_default();
    format!(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{}/services/{}/deployments/{id}?region={region}",
        service.cluster(),
        service.name()
    )
}

/// The AWS CLI command that answers a pause with `action` (CONTINUE or ROLLBACK).
pub(crate) fn continue_command(service: &ServiceArn, hook: &HookRef, action: &str) -> String {
    format!(
        "aws ecs continue-service-deployment --region {} --service-deployment-arn {} --hook-id {} --action {action}",
        service.region(),
        hook.service_deployment,
        hook.id
    )
}

/// "deployment ecs-svc/1", or the service deployment's id while not joined.
fn what(deployment: Option<&DeploymentId>, hook: &HookRef) -> String {
    match deployment {
        Some(d) => format!("deployment {d}"),
        None => {
            let id = hook
                .service_deployment
                .rsplit('/')
                .next()
                .unwrap_or_default();
            format!("service deployment {id}")
        }
    }
}

fn stage_of(hook: &HookRef) -> &str {
    hook.stage.as_deref().unwrap_or("an unknown stage")
}

fn hook_alert<'a>(
    service: &'a ServiceArn,
    name: AlertName,
    at: Timestamp,
    deployment: Option<&DeploymentId>,
    hook: &HookRef,
) -> AlertBuilder<'a> {
    let (id, stage, arn) = (
        hook.id.clone(),
        hook.stage.clone(),
        hook.service_deployment.clone(),
    );
    let url = deployment_console_url(service, &arn);
    AlertBuilder::new(service, name, at)
        .deployment(deployment)
        .occurrence(hook.id.clone())
        .details(|d| {
            d.hook_id = Some(id);
            d.stage = stage;
            d.service_deployment_arn = Some(arn);
            d.console_url = url;
        })
}

pub(super) fn paused(
    service: &ServiceArn,
    deployment: Option<&DeploymentId>,
    hook: &HookRef,
    at: Timestamp,
) -> Effect {
    let (svc, what, stage) = (service.name(), what(deployment, hook), stage_of(hook));
    let expiry = hook.expires_at.map_or_else(
        || "its timeout".to_owned(),
        // `expiresAt` has whole seconds: measured from the pause's own second.
        |e| {
            let second = Timestamp::from_millis(at.as_millis().div_euclid(1000) * 1000);
            format!("{} ({} from now)", e.to_rfc3339(), e.since(second).human())
        },
    );
    hook_alert(service, AlertName::DeploymentPaused, at, deployment, hook).build(
        &format!("{what} paused at {stage}"),
        format!(
            "{svc}: {what} is paused at {stage}: PAUSE hook {} waits for action until {expiry}, then ECS takes its timeout action, {}. To continue: {} . To roll back: {} .",
            hook.id,
            hook.timeout_action,
            continue_command(service, hook, "CONTINUE"),
            continue_command(service, hook, "ROLLBACK"),
        ),
    )
}

pub(super) fn pause_ended(
    service: &ServiceArn,
    deployment: Option<&DeploymentId>,
    hook: &HookRef,
    (end, paused): (Option<HookEnd>, Millis),
    at: Timestamp,
    out: &mut Vec<Effect>,
) {
    let (svc, what, stage) = (service.name(), what(deployment, hook), stage_of(hook));
    let how = match end {
        Some(HookEnd::Succeeded) => "continued".to_owned(),
        Some(HookEnd::Failed) => "answered ROLLBACK".to_owned(),
        Some(HookEnd::TimedOut) => format!("timed out ({})", hook.timeout_action),
        None => "over: the deployment ended".to_owned(),
    };
    let e = hook_alert(service, AlertName::DeploymentPaused, at, deployment, hook)
        .resolved()
        .build(
            &format!("{what} no longer paused"),
            format!(
                "{svc}: the pause of {what} at {stage} (hook {}) is {how} after {}.",
                hook.id,
                paused.human()
            ),
        );
    out.push(e);
    out.push(metric(
        service,
        MetricName::DeploymentPausedTime,
        paused.as_secs_f64(),
        at,
        deployment,
        &hook.id,
    ));
}

pub(super) fn hook_failed(
    service: &ServiceArn,
    deployment: Option<&DeploymentId>,
    hook: &HookRef,
    end: HookEnd,
    at: Timestamp,
    out: &mut Vec<Effect>,
) {
    let (svc, what, stage) = (service.name(), what(deployment, hook), stage_of(hook));
    let kind = if hook.hook_type == "PAUSE" {
        "PAUSE hook".to_owned()
    } else {
        format!("{} hook", hook.hook_type)
    };
    let how = match end {
        HookEnd::TimedOut => "timed out with timeout action ROLLBACK".to_owned(),
        _ if hook.hook_type == "PAUSE" => "was answered ROLLBACK".to_owned(),
        _ => "failed".to_owned(),
    };
    let e = hook_alert(service, AlertName::LifecycleHookFailed, at, deployment, hook).build(
        &format!("{kind} failed at {stage}"),
        format!(
            "{svc}: the {kind} {} of {what} at {stage} {how}: ECS rolls the deployment back to the previous service revision.",
            hook.id
        ),
    );
    out.push(e);
    out.push(metric(
        service,
        MetricName::LifecycleHookFailures,
        1.0,
        at,
        deployment,
        &hook.id,
    ));
}

/// The rollback ECS began in place (no rollback deployment of its own).
pub(super) fn rolled_back_in_place(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    (hook, reason): (Option<&HookRef>, Option<&str>),
    f: &Failures,
    out: &mut Vec<Effect>,
) {
    let svc = service.name();
    let td = r
        .task_definition
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let what = format!("deployment {}{td}", r.deployment);
    let cause = match (hook, reason) {
        (Some(h), _) => format!(" after lifecycle hook {} at {}", h.id, stage_of(h)),
        (None, Some(reason)) => format!(": {reason}"),
        (None, None) => String::new(),
    };
    let (failures, td) = (
        f.health_checks + f.starts + f.crashes,
        r.task_definition.clone(),
    );
    let e = AlertBuilder::new(service, AlertName::DeploymentRolledBack, at)
        .deployment(Some(&r.deployment))
        .details(|d| {
            d.task_definition = td;
            d.failures = Some(failures);
            d.hook_id = hook.map(|h| h.id.clone());
            d.service_deployment_arn = hook.map(|h| h.service_deployment.clone());
            d.reason = reason.map(str::to_owned);
        })
        .build(
            &format!("{what} rolled back"),
            format!("{svc}: ECS is rolling {what} back to the previous service revision{cause}."),
        );
    out.push(e);
    out.push(metric(
        service,
        MetricName::DeploymentRolledBack,
        1.0,
        at,
        Some(&r.deployment),
        "0",
    ));
}
