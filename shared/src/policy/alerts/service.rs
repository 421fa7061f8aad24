//! The words of the service's own alerts: a task that failed, a service action ECS
//! reported, no task serving and serving again.

use crate::core::{AlertName, Effect, MetricName, StopClass, StopInfo};
use crate::model::{DeploymentId, ServiceActionKind, ServiceArn, Timestamp, task_id};

use super::super::text::{AlertBuilder, breaker_text, exit_text, metric, short_task};

pub(super) fn task_failed(
    service: &ServiceArn,
    stop: &StopInfo,
    dep: Option<&DeploymentId>,
    td_name: Option<String>,
    breaker: Option<(u32, u32)>,
    at: Timestamp,
    out: &mut Vec<Effect>,
) {
    let (name, metric_name) = if stop.class == StopClass::HealthCheck {
        (
            AlertName::HealthCheckFailed,
            MetricName::HealthCheckFailures,
        )
    } else {
        (AlertName::TaskFailedToStart, MetricName::TaskStartFailures)
    };
    let svc = service.name();
    let (of_dep, td_text) = super::task::subject(dep, td_name.as_deref());
    let reason = stop
        .reason
        .clone()
        .unwrap_or_else(|| stop.class.describe().to_owned());
    let exits = exit_text(stop);
    let task = short_task(&stop.task_arn);
    let id = task_id(&stop.task_arn);
    let e = AlertBuilder::new(service, name, at)
        .deployment(dep)
        .occurrence(id)
        .details(|d| super::task::details(d, service, stop, td_name, breaker))
        .build(
            &format!(
                "task {task} {}{}",
                stop.class.describe(),
                breaker
                    .map(|(n, t)| format!(" ({n} of {t})"))
                    .unwrap_or_default()
            ),
            format!(
                "{svc}: task {task}{of_dep}{td_text} {}{}: {reason}{exits}",
                stop.class.describe(),
                breaker_text(breaker),
            ),
        );
    out.push(e);
    out.push(metric(service, metric_name, 1.0, at, dep, id));
}

pub(super) fn service_action(
    service: &ServiceArn,
    name: AlertName,
    kind: ServiceActionKind,
    active: Option<&DeploymentId>,
    occurrence: String,
    reason: Option<String>,
    at: Timestamp,
) -> Effect {
    let what = match kind {
        ServiceActionKind::TaskStartImpaired => {
            "ECS is unable to consistently start tasks (SERVICE_TASK_START_IMPAIRED)"
        }
        ServiceActionKind::PlacementFailure => {
            "ECS cannot place a task (SERVICE_TASK_PLACEMENT_FAILURE)"
        }
        ServiceActionKind::ConfigurationFailure => {
            "ECS cannot place a task because of a configuration error (SERVICE_TASK_CONFIGURATION_FAILURE)"
        }
    };
    let svc = service.name();
    let during = active
        .map(|d| format!(" during deployment {d}"))
        .unwrap_or_default();
    let reason_text = reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    AlertBuilder::new(service, name, at)
        .deployment(active)
        .occurrence(occurrence)
        .details(|d| d.reason = reason)
        .build(
            what.split(" (").next().unwrap_or(what),
            format!("{svc}: {what}{during}{reason_text}."),
        )
}

pub(super) fn zero_fired(
    service: &ServiceArn,
    (start, at): (Timestamp, Timestamp),
    dep: Option<&DeploymentId>,
    last_stop: Option<&StopInfo>,
    desired: Option<u32>,
) -> Effect {
    let svc = service.name();
    let for_ = at.since(start).human();
    let during = dep
        .map(|d| format!(" during deployment {d}"))
        .unwrap_or_default();
    let last = last_stop.map(|s| {
        let reason = s
            .reason
            .clone()
            .unwrap_or_else(|| s.class.describe().to_owned());
        format!(
            " Last task {} stopped: {reason}{}",
            short_task(&s.task_arn),
            exit_text(s)
        )
    });
    AlertBuilder::new(service, AlertName::ZeroRunningTasks, at)
        .deployment(dep)
        .occurrence(start.as_millis().to_string())
        .details(|d| {
            d.stop_reason = last_stop.and_then(|s| s.reason.clone());
            d.stop_code = last_stop.and_then(|s| s.code.clone());
            d.exits = last_stop.map(|s| s.exits.clone()).unwrap_or_default();
            d.task_arn = last_stop.map(|s| s.task_arn.clone());
            d.desired_count = desired;
        })
        .build(
            "0 tasks serving",
            format!(
                "{svc}: 0 tasks serving for {for_} (since {start}){during}{}.{}",
                should_run(desired),
                last.unwrap_or_default()
            ),
        )
}

/// What the watcher knows the service should run: only ECS's desired count says so.
fn should_run(desired: Option<u32>) -> String {
    match desired {
        Some(d) if d >= 1 => format!("; the service should run at least 1 (desired count {d})"),
        _ => String::new(),
    }
}

pub(super) fn zero_resolved(
    service: &ServiceArn,
    (start, end): (Timestamp, Timestamp),
    fired: Timestamp,
    dep: Option<&DeploymentId>,
    wanted: bool,
) -> Effect {
    let svc = service.name();
    let downtime = end.since(start);
    let alert = AlertBuilder::new(service, AlertName::ZeroRunningTasks, end.max(start))
        .resolved()
        .deployment(dep)
        .occurrence(fired.as_millis().to_string());
    if !wanted {
        // Nothing serves again: someone (or an autoscaler) asked for no task. The
        // window counts no downtime, so none is reported as "0 s" either.
        return alert.details(|d| d.desired_count = Some(0)).build(
            "desired count 0, no task expected",
            format!(
                "{svc}: the desired count is now 0; no task is expected to serve. No task had served since {start} ({} without one).",
                downtime.human()
            ),
        );
    }
    alert
        .details(|d| d.downtime_s = Some(downtime.as_secs_f64()))
        .build(
            &format!("serving again after {}", downtime.human()),
            format!(
                "{svc}: a task is serving again after {} of downtime (from {start} to {end}).",
                downtime.human(),
            ),
        )
}
