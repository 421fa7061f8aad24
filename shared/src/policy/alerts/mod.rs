//! The words of every alert, one function per kind: what each occurrence is called,
//! how it reads to a person at 3 a.m., and the metrics that count it.
//!
//! A new alert kind is a new function in [`rollout`] (about a rollout) or [`service`]
//! (about the service's tasks), its arm in [`render`], the occurrence the state machine
//! produces for it, and its row in DESIGN.md's alert table. Crashes have their own
//! file, [`crash`].

mod crash;
mod native;
mod rollout;
mod service;
mod task;

use crate::core::{Effect, MetricName, Occurrence, Stage};
use crate::model::ServiceArn;

use super::text::metric;
use rollout::{completed, failed, rolled_back, stall_ended, stalled, started, unsafe_config};
use service::{service_action, task_failed, zero_fired, zero_resolved};

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
        } => crash::task_crashed(
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
        } => out.push(crash::crash_loop(service, start, at, crashes, rule)),
        Occurrence::CrashLoopResolved {
            start,
            end,
            crashes,
            rule,
        } => out.push(crash::crash_loop_resolved(
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
        Occurrence::Stage {
            deployment,
            stage,
            at,
        } => out.push(Effect::Stage(Stage {
            service: service.clone(),
            deployment_id: deployment,
            stage,
            at,
        })),
        Occurrence::Paused {
            deployment,
            hook,
            at,
        } => out.push(native::paused(service, deployment.as_ref(), &hook, at)),
        Occurrence::PauseEnded {
            deployment,
            hook,
            end,
            paused,
            at,
        } => native::pause_ended(service, deployment.as_ref(), &hook, (end, paused), at, out),
        Occurrence::HookFailed {
            deployment,
            hook,
            end,
            at,
        } => native::hook_failed(service, deployment.as_ref(), &hook, end, at, out),
        Occurrence::NativeRolledBack {
            rollout,
            at,
            hook,
            reason,
            failures,
        } => native::rolled_back_in_place(
            service,
            &rollout,
            at,
            (hook.as_ref(), reason.as_deref()),
            &failures,
            out,
        ),
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
