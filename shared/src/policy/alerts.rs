//! The words of every alert, one function per kind: what each occurrence is called,
//! how it reads to a person at 3 a.m., and the metrics that count it.
//!
//! A new alert kind is a new function here, its arm in [`render`], the occurrence the
//! state machine produces for it, and its row in DESIGN.md's alert table.

use crate::core::{
    AlertName, Effect, Failures, MetricName, Occurrence, RolloutRef, RolloutState, StopClass,
    StopInfo,
};
use crate::model::{
    DeploymentId, Finding, Millis, ServiceActionKind, ServiceArn, ServiceConfig, Timestamp, task_id,
};

use super::text::{AlertBuilder, breaker_text, exit_text, metric, short_task};
use super::{assess, crashes, task_console_url};

/// The effects one occurrence becomes, in order.
pub(super) fn render(service: &ServiceArn, o: Occurrence, out: &mut Vec<Effect>) {
    match o {
        Occurrence::Transition(t) => out.push(Effect::Transition(t)),
        Occurrence::RolloutStarted { rollout, at } => started(service, &rollout, at, out),
        Occurrence::FirstTaskRunning {
            deployment,
            at,
            after,
        } => out.push(metric(
            service,
            MetricName::TimeToFirstRunningTask,
            after.as_secs_f64(),
            at,
            Some(&deployment),
            "0",
        )),
        Occurrence::UnsafeConfig {
            rollout,
            at,
            config,
        } => out.push(unsafe_config(service, &rollout, at, &config)),
        Occurrence::RolloutFailed {
            rollout,
            at,
            reason,
            last_failure,
            crashes,
        } => failed(service, &rollout, at, reason, (last_failure, crashes), out),
        Occurrence::RolloutCompleted {
            rollout,
            at,
            duration_s,
            downtime_s,
            health_check_failures,
        } => completed(
            service,
            &rollout,
            at,
            (duration_s, downtime_s, health_check_failures),
            out,
        ),
        Occurrence::RolledBack {
            rollout,
            at,
            by,
            failures,
        } => rolled_back(service, &rollout, at, &by, &failures, out),
        Occurrence::Stalled {
            rollout,
            at,
            after,
            failures,
        } => stalled(service, &rollout, at, after, &failures, out),
        Occurrence::StallEnded { rollout, at, state } => {
            out.push(stall_ended(service, &rollout, at, state));
        }
        Occurrence::TaskFailed {
            stop,
            deployment,
            task_definition,
            breaker,
            at,
        } => task_failed(
            service,
            &stop,
            deployment.as_ref(),
            task_definition,
            breaker,
            at,
            out,
        ),
        Occurrence::TaskCrashed {
            stop,
            deployment,
            task_definition,
            started,
            breaker,
            at,
        } => crashes::task_crashed(
            service,
            &stop,
            (deployment.as_ref(), task_definition),
            started,
            breaker,
            at,
            out,
        ),
        Occurrence::CrashLoop {
            start,
            at,
            crashes,
            rule,
        } => out.push(crashes::crash_loop(service, start, at, crashes, rule)),
        Occurrence::CrashLoopResolved {
            start,
            end,
            crashes,
            rule,
        } => out.push(crashes::crash_loop_resolved(
            service, start, end, crashes, rule,
        )),
        Occurrence::ServiceAction {
            alert,
            kind,
            deployment,
            occurrence,
            reason,
            at,
        } => out.push(service_action(
            service,
            alert,
            kind,
            deployment.as_ref(),
            occurrence,
            reason,
            at,
        )),
        Occurrence::ZeroFired {
            start,
            at,
            deployment,
            last_stop,
            desired,
        } => out.push(zero_fired(
            service,
            (start, at),
            deployment.as_ref(),
            last_stop.as_ref(),
            desired,
        )),
        Occurrence::Downtime { start, end } => out.push(metric(
            service,
            MetricName::ZeroTaskDowntime,
            end.since(start).as_secs_f64(),
            end,
            None,
            &start.as_millis().to_string(),
        )),
        Occurrence::ZeroResolved {
            start,
            end,
            fired,
            deployment,
            wanted,
        } => out.push(zero_resolved(
            service,
            (start, end),
            fired,
            deployment.as_ref(),
            wanted,
        )),
        Occurrence::Serving { count, at } => out.push(metric(
            service,
            MetricName::RunningTaskCount,
            f64::from(count),
            at,
            None,
            &format!("{}:{count}", at.as_millis()),
        )),
    }
}

/// "deployment ecs-svc/123 (web:7)", "rollback ecs-svc/456".
fn what(r: &RolloutRef) -> String {
    let td = r
        .task_definition
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let kind = if r.is_rollback {
        "rollback"
    } else {
        "deployment"
    };
    format!("{kind} {}{td}", r.deployment)
}

/// An alert about a rollout, with the details every rollout alert carries.
fn rollout_alert<'a>(
    service: &'a ServiceArn,
    name: AlertName,
    at: Timestamp,
    r: &RolloutRef,
) -> AlertBuilder<'a> {
    let (td, rollback_of) = (r.task_definition.clone(), r.rollback_of.clone());
    AlertBuilder::new(service, name, at)
        .deployment(Some(&r.deployment))
        .details(|d| {
            d.task_definition = td;
            d.rollback_of = rollback_of;
        })
}

/// A once-per-rollout count.
fn rollout_metric(
    service: &ServiceArn,
    name: MetricName,
    value: f64,
    at: Timestamp,
    r: &RolloutRef,
) -> Effect {
    metric(service, name, value, at, Some(&r.deployment), "0")
}

/// " Last task failure: <reason>", when one is known.
fn last_failure_text(last: Option<&StopInfo>) -> String {
    last.and_then(|l| l.reason.as_deref())
        .map(|r| format!(" Last task failure: {r}"))
        .unwrap_or_default()
}

fn started(service: &ServiceArn, r: &RolloutRef, at: Timestamp, out: &mut Vec<Effect>) {
    let (svc, what) = (service.name(), what(r));
    let extra = match (&r.rollback_of, &r.rollback_to) {
        (Some(v), Some(to)) => format!(": rolling back {v} to {to}"),
        (Some(v), None) => format!(": rolling back {v}"),
        (None, Some(to)) => format!(": rolling back to {to}"),
        (None, None) => String::new(),
    };
    out.push(
        rollout_alert(service, AlertName::DeploymentStarted, at, r).build(
            &format!("{what} started"),
            format!("{svc}: {what} started{extra}."),
        ),
    );
    out.push(rollout_metric(
        service,
        MetricName::DeploymentStarted,
        1.0,
        at,
        r,
    ));
}

fn unsafe_config(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    cfg: &ServiceConfig,
) -> Effect {
    let (svc, what) = (service.name(), what(r));
    let a = assess(cfg);
    let verdict = if a.findings.contains(&Finding::DowntimePossible) {
        "may stop the last serving task (downtime possible)"
    } else {
        "can neither start nor stop a task (the rollout will stall)"
    };
    let findings = a.explanation.clone();
    rollout_alert(service, AlertName::UnsafeDeploymentConfig, at, r)
        .details(|d| d.findings = findings)
        .build(
            &format!("{what}: unsafe deployment settings"),
            format!(
                "{svc}: {what} started with settings that {verdict}: desired {}, minimum healthy {}% → floor {}, maximum {}% → ceiling {}.",
                a.desired, a.min_healthy_percent, a.floor, a.max_percent, a.ceiling
            ),
        )
}

fn failed(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    reason: Option<String>,
    (last, crashes): (Option<StopInfo>, u32),
    out: &mut Vec<Effect>,
) {
    let (svc, what) = (service.name(), what(r));
    let reason = reason.unwrap_or_else(|| "no reason given".into());
    let crashed = match crashes {
        0 => String::new(),
        n => format!(" ({n} new task(s) crashed after reaching RUNNING)"),
    };
    let tail = last_failure_text(last.as_ref());
    let e = rollout_alert(service, AlertName::DeploymentFailed, at, r)
        .details(|d| {
            d.reason = Some(reason.clone());
            d.stop_reason = last.as_ref().and_then(|l| l.reason.clone());
            d.exits = last.map(|l| l.exits).unwrap_or_default();
        })
        .build(
            &format!("{what} failed"),
            format!("{svc}: {what} failed: {reason}{crashed}{tail}"),
        );
    out.push(e);
    out.push(rollout_metric(
        service,
        MetricName::DeploymentFailed,
        1.0,
        at,
        r,
    ));
}

fn completed(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    (duration, downtime, failures): (Option<f64>, Option<f64>, u32),
    out: &mut Vec<Effect>,
) {
    let (svc, what) = (service.name(), what(r));
    let took = duration
        .map(|d| format!(" in {}", Millis((d * 1000.0) as i64).human()))
        .unwrap_or_default();
    let e = rollout_alert(service, AlertName::DeploymentCompleted, at, r)
        .details(|d| {
            d.duration_s = duration;
            d.downtime_s = downtime;
            d.failures = Some(failures);
        })
        .build(
            &format!("{what} completed"),
            match downtime {
                Some(down) => format!(
                    "{svc}: {what} completed{took}, downtime {}.",
                    Millis((down * 1000.0) as i64).human()
                ),
                None => format!(
                    "{svc}: {what} completed; downtime unknown (the watcher did not see this rollout start)."
                ),
            },
        );
    out.push(e);
    out.push(rollout_metric(
        service,
        MetricName::DeploymentSucceeded,
        1.0,
        at,
        r,
    ));
    if let Some(d) = duration {
        out.push(rollout_metric(
            service,
            MetricName::DeploymentDuration,
            d,
            at,
            r,
        ));
    }
}

fn rolled_back(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    by: &DeploymentId,
    f: &Failures,
    out: &mut Vec<Effect>,
) {
    let (svc, what) = (service.name(), what(r));
    let mut cause = match (f.health_checks, f.starts) {
        (0, 0) => String::new(),
        (h, 0) => format!(" after {h} health-check failure(s)"),
        (0, s) => format!(" after {s} task(s) failed to start"),
        (h, s) => format!(" after {h} health-check failure(s) and {s} failed start(s)"),
    };
    match (f.crashes, cause.is_empty()) {
        (0, _) => {}
        (c, true) => cause = format!(" after {c} new task(s) crashed"),
        (c, false) => cause.push_str(&format!(" and {c} crash(es)")),
    }
    let tail = last_failure_text(f.last.as_ref());
    let e = rollout_alert(service, AlertName::DeploymentRolledBack, at, r)
        .details(|d| {
            d.rolled_back_by = Some(by.clone());
            d.failures = Some(f.health_checks + f.starts + f.crashes);
            d.stop_reason = f.last.as_ref().and_then(|l| l.reason.clone());
        })
        .build(
            &format!("{what} rolled back"),
            format!("{svc}: {what} is being rolled back by {by}{cause}.{tail}"),
        );
    out.push(e);
    out.push(rollout_metric(
        service,
        MetricName::DeploymentRolledBack,
        1.0,
        at,
        r,
    ));
}

fn stalled(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    after: Millis,
    f: &Failures,
    out: &mut Vec<Effect>,
) {
    let (svc, what) = (service.name(), what(r));
    let e = rollout_alert(service, AlertName::DeploymentStalled, at, r).build(
        &format!("{what} stalled"),
        format!(
            "{svc}: {what} is still in progress after {} (health-check failures {}, tasks failed to start {}).",
            after.human(),
            f.health_checks,
            f.starts
        ),
    );
    out.push(e);
    out.push(rollout_metric(
        service,
        MetricName::DeploymentStalled,
        1.0,
        at,
        r,
    ));
}

fn stall_ended(service: &ServiceArn, r: &RolloutRef, at: Timestamp, state: RolloutState) -> Effect {
    let (svc, what) = (service.name(), what(r));
    rollout_alert(service, AlertName::DeploymentStalled, at, r)
        .resolved()
        .build(
            &format!("{what} ended ({})", state.as_str()),
            format!("{svc}: {what} ended {} after stalling.", state.as_str()),
        )
}

fn task_failed(
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
    let of_dep = dep
        .map(|d| format!(" of deployment {d}"))
        .unwrap_or_default();
    let td_text = td_name
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let reason = stop
        .reason
        .clone()
        .unwrap_or_else(|| stop.class.describe().to_owned());
    let exits = exit_text(stop);
    let task = short_task(&stop.task_arn);
    let id = task_id(&stop.task_arn);
    let url = task_console_url(service, id);
    let e = AlertBuilder::new(service, name, at)
        .deployment(dep)
        .occurrence(id)
        .details(|d| {
            d.task_definition = td_name.clone();
            d.task_arn = Some(stop.task_arn.clone());
            d.stop_reason = stop.reason.clone();
            d.stop_code = stop.code.clone();
            d.exits = stop.exits.clone();
            d.failures = breaker.map(|b| b.0);
            d.threshold = breaker.map(|b| b.1);
            d.console_url = url;
        })
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

fn service_action(
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

fn zero_fired(
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

fn zero_resolved(
    service: &ServiceArn,
    (start, end): (Timestamp, Timestamp),
    fired: Timestamp,
    dep: Option<&DeploymentId>,
    wanted: bool,
) -> Effect {
    let svc = service.name();
    let downtime = end.since(start);
    let text = if wanted {
        format!(
            "{svc}: a task is serving again after {} of downtime (from {start} to {end}).",
            downtime.human(),
        )
    } else {
        format!("{svc}: the desired count is now 0; no task is expected to serve.")
    };
    AlertBuilder::new(service, AlertName::ZeroRunningTasks, end.max(start))
        .resolved()
        .deployment(dep)
        .occurrence(fired.as_millis().to_string())
        .details(|d| d.downtime_s = Some(downtime.as_secs_f64()))
        .build(&format!("serving again after {}", downtime.human()), text)
}
