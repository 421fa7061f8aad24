//! The words of `task_crashed` and `crash_loop`, and the `TaskCrashes` metric.
//!
//! A crash page must tell the on-call engineer, without opening the console, which
//! container died and how: its name, its exit code and ECS's reason, and "killed for
//! running out of memory" in words when ECS said OutOfMemoryError. A sidecar that
//! exited 0 because the task was going down is never the one named. The circuit
//! breaker is mentioned only for a new task of an open rollout, the only case in which
//! ECS counts the crash.

use crate::core::{AlertName, Effect, MetricName, StopClass, StopInfo};
use crate::model::{ContainerExit, CrashLoopRule, DeploymentId, ServiceArn, Timestamp, task_id};

use super::super::text::{AlertBuilder, breaker_text, metric, short_task};

fn says_oom(text: &str) -> bool {
    text.to_ascii_lowercase().contains("outofmemory")
}

/// The container to blame: the one ECS says ran out of memory, else the first that
/// exited non-zero (or with a reason); never one that exited 0.
fn blamed(stop: &StopInfo) -> Option<&ContainerExit> {
    let oom = stop
        .exits
        .iter()
        .find(|e| e.reason.as_deref().is_some_and(says_oom));
    oom.or_else(|| {
        stop.exits
            .iter()
            .find(|e| e.exit_code.is_some_and(|c| c != 0))
    })
    .or_else(|| {
        stop.exits
            .iter()
            .find(|e| e.exit_code.is_none() && e.reason.is_some())
    })
}

/// "container app exited 2", "container app was killed for running out of memory
/// (OutOfMemoryError: ...), exit 137", "failed health checks after serving".
pub(super) fn cause(stop: &StopInfo) -> String {
    let container = blamed(stop);
    let code = |c: &ContainerExit| {
        c.exit_code
            .map(|x| format!(", exit code {x}"))
            .unwrap_or_default()
    };
    match (stop.class, container) {
        (StopClass::OutOfMemory, Some(c)) => format!(
            "container {} was killed for running out of memory ({}){}",
            c.name,
            c.reason
                .as_deref()
                .or(stop.reason.as_deref())
                .unwrap_or("OutOfMemoryError"),
            code(c)
        ),
        (StopClass::OutOfMemory, None) => format!(
            "the task was killed for running out of memory ({})",
            stop.reason.as_deref().unwrap_or("OutOfMemoryError")
        ),
        (StopClass::HealthCheck, _) => "failed its health checks after serving".to_owned(),
        (_, Some(c)) => {
            let exited = c
                .exit_code
                .map_or_else(|| "stopped".to_owned(), |x| format!("exited {x}"));
            let reason = c
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("essential container {} {exited}{reason}", c.name)
        }
        (_, None) => "an essential container exited".to_owned(),
    }
}

/// `task_crashed` and its metrics.
pub(super) fn task_crashed(
    service: &ServiceArn,
    stop: &StopInfo,
    (dep, td_name): (Option<&DeploymentId>, Option<String>),
    started: Option<Timestamp>,
    breaker: Option<(u32, u32)>,
    at: Timestamp,
    out: &mut Vec<Effect>,
) {
    let svc = service.name();
    let task = short_task(&stop.task_arn);
    let id = task_id(&stop.task_arn);
    let (of_dep, td_text) = super::task::subject(dep, td_name.as_deref());
    let served = started
        .map(|s| format!(" after serving {}", at.since(s).human()))
        .unwrap_or_default();
    let why = cause(stop);
    let ecs_said = stop
        .reason
        .as_deref()
        .map(|r| format!(" ECS: {r}"))
        .unwrap_or_default();
    let e = AlertBuilder::new(service, AlertName::TaskCrashed, at)
        .deployment(dep)
        .occurrence(id)
        .details(|d| super::task::details(d, service, stop, td_name, breaker))
        .build(
            &format!("task {task} crashed: {why}"),
            format!(
                "{svc}: task {task}{of_dep}{td_text} crashed{served}{}: {why}.{ecs_said}",
                breaker_text(breaker)
            ),
        );
    out.push(e);
    out.push(metric(service, MetricName::TaskCrashes, 1.0, at, dep, id));
    if stop.class == StopClass::HealthCheck {
        out.push(metric(
            service,
            MetricName::HealthCheckFailures,
            1.0,
            at,
            dep,
            id,
        ));
    }
}

/// `crash_loop` firing: keyed by the loop's first crash, service-wide.
pub(super) fn crash_loop(
    service: &ServiceArn,
    start: Timestamp,
    at: Timestamp,
    crashes: u32,
    rule: CrashLoopRule,
) -> Effect {
    let svc = service.name();
    AlertBuilder::new(service, AlertName::CrashLoop, at)
        .occurrence(start.as_millis().to_string())
        .details(|d| d.failures = Some(crashes))
        .build(
            &format!("crash loop: {crashes} crashes since {start}"),
            format!(
                "{svc}: crash loop: {crashes} task crashes since {start} (the rule: {}). ECS keeps replacing tasks that die; look at the task_crashed alerts for the container and its exit code. It resolves once {} pass without a crash.",
                rule.describe(),
                rule.window.human()
            ),
        )
}

/// `crash_loop` resolved: a whole window passed without a crash.
pub(super) fn crash_loop_resolved(
    service: &ServiceArn,
    start: Timestamp,
    end: Timestamp,
    crashes: u32,
    rule: CrashLoopRule,
) -> Effect {
    let svc = service.name();
    AlertBuilder::new(service, AlertName::CrashLoop, end)
        .resolved()
        .occurrence(start.as_millis().to_string())
        .details(|d| d.failures = Some(crashes))
        .build(
            &format!("no crash for {}", rule.window.human()),
            format!(
                "{svc}: no task crashed for {}; the crash loop that began at {start} ({crashes} crashes) is over.",
                rule.window.human()
            ),
        )
}
