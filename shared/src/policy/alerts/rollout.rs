//! The words of a rollout's alerts: started, completed, failed, rolled back, stalled,
//! and unsafe settings at its start.

use crate::core::{AlertName, Effect, Failures, MetricName, RolloutRef, RolloutState, StopInfo};
use crate::model::{DeploymentId, Finding, Millis, ServiceArn, ServiceConfig, Timestamp};

use super::super::assess;
use super::super::text::{AlertBuilder, metric};

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

pub(super) fn started(service: &ServiceArn, r: &RolloutRef, at: Timestamp, out: &mut Vec<Effect>) {
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

pub(super) fn unsafe_config(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    cfg: &ServiceConfig,
) -> Effect {
    let (svc, what) = (service.name(), what(r));
    let a = assess(cfg);
    let verdict = if a.check.findings.contains(&Finding::DowntimePossible) {
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
                a.check.desired,
                a.check.min_healthy_percent,
                a.check.floor,
                a.check.max_percent,
                a.check.ceiling
            ),
        )
}

pub(super) fn failed(
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

pub(super) fn completed(
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

pub(super) fn rolled_back(
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

pub(super) fn stalled(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    after: Millis,
    f: &Failures,
    out: &mut Vec<Effect>,
) {
    let (svc, what) = (service.name(), what(r));
    // Crashes of new tasks may be what holds it (a breaker that watches health checks
    // once a task ran does not count them): named when there were any.
    let crashed = match f.crashes {
        0 => String::new(),
        n => format!(", new tasks crashed {n}"),
    };
    let e = rollout_alert(service, AlertName::DeploymentStalled, at, r).build(
        &format!("{what} stalled"),
        format!(
            "{svc}: {what} is still in progress after {} (health-check failures {}, tasks failed to start {}{crashed}).",
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

pub(super) fn stall_ended(
    service: &ServiceArn,
    r: &RolloutRef,
    at: Timestamp,
    state: RolloutState,
) -> Effect {
    let (svc, what) = (service.name(), what(r));
    rollout_alert(service, AlertName::DeploymentStalled, at, r)
        .resolved()
        .build(
            &format!("{what} ended ({})", state.as_str()),
            format!("{svc}: {what} ended {} after stalling.", state.as_str()),
        )
}
