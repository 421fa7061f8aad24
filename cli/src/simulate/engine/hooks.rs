//! Lifecycle hook invocations and their `ECS Hook State Change` events.
//!
//! The event has the shape of AWS's own example
//! (`samples/hook-state-change-awaiting-action.json`): `resources` holds the
//! service-deployment ARN, `updatedAt` has nanoseconds, `expiresAt` whole seconds
//! (`updatedAt`'s second plus the hook's timeout, as in the example). A PAUSE hook
//! sends `HOOK_AWAITING_ACTION`, then `HOOK_SUCCEEDED` (continued) or `HOOK_FAILED`
//! (rolled back); a Lambda hook `HOOK_IN_PROGRESS`, then the same. A hook nobody
//! answers in time sends `HOOK_TIMED_OUT` and ECS takes the timeout action. Every
//! invocation, including one per linear or canary step, has its own `hookId`.
//!
//! INFERRED (no public capture exists): Lambda hooks emit these events with
//! `hookType` `AWS_LAMBDA` (the model's target type) and an id shaped like a pause
//! hook's (`ecs-lambda-` and 43 url-safe characters); `eventType` is `INFO` for every
//! event, the only value AWS shows.

use serde_json::json;

use super::{Action, Engine, NativeStep};
use crate::simulate::clock::{nanos, whole_seconds};
use crate::simulate::json::obj;
use crate::simulate::native::{HookAction, HookKind};

/// One run of one hook at one stage visit.
#[derive(Debug)]
pub(super) struct Invocation {
    hook: usize,
    id: String,
    stage: &'static str,
    expires_at: u64,
    pub(super) open: bool,
}

impl Engine<'_> {
    /// Invokes hook `hook` at `stage`: its first event now, its answer later.
    pub(super) fn invoke(&mut self, hook: usize, stage: &'static str) {
        let now = self.now;
        let Some(run) = self.native.as_mut() else {
            return;
        };
        let h = &run.config.hooks[hook];
        let (prefix, first) = match h.kind {
            HookKind::Pause => ("ecs-pause-", "HOOK_AWAITING_ACTION"),
            HookKind::Lambda => ("ecs-lambda-", "HOOK_IN_PROGRESS"),
        };
        let timeout_ms = u64::from(h.timeout_minutes) * 60_000;
        // Lambda hooks answer at once when the deployment rolls back (ECS re-invokes
        // the traffic-shift hooks with the weights on blue; they have nothing to stop).
        let answer_ms = if run.rolling_back {
            2_000
        } else {
            h.answer_after_s * 1_000
        };
        let id = format!("{prefix}{}", run.hook_ids.base64url(43));
        let expires_at = (now / 1_000) * 1_000 + timeout_ms;
        run.open += 1;
        run.invocations.push(Invocation {
            hook,
            id,
            stage,
            expires_at,
            open: true,
        });
        let n = run.invocations.len() - 1;
        self.hook_event(n, first);
        self.schedule(
            answer_ms.min(timeout_ms),
            Action::Native(NativeStep::HookEnd(n)),
        );
    }

    /// Invocation `n` answers, or its timeout expires.
    pub(super) fn hook_end(&mut self, n: usize) {
        let now = self.now;
        let Some(run) = self.native.as_mut() else {
            return;
        };
        let Some(inv) = run.invocations.get_mut(n).filter(|i| i.open) else {
            return;
        };
        inv.open = false;
        let h = &run.config.hooks[inv.hook];
        let timed_out = !run.rolling_back && now >= inv.expires_at;
        let action = match (run.rolling_back, timed_out) {
            (true, _) => HookAction::Continue,
            (false, true) => h.timeout_action,
            (false, false) => h.answer,
        };
        let name = match (timed_out, action) {
            (true, _) => "HOOK_TIMED_OUT",
            (false, HookAction::Continue) => "HOOK_SUCCEEDED",
            (false, HookAction::Rollback) => "HOOK_FAILED",
        };
        self.hook_event(n, name);
        self.hook_answered(action);
    }

    fn hook_event(&mut self, n: usize, name: &str) {
        let now = self.now;
        let Some(run) = self.native.as_mut() else {
            return;
        };
        let inv = &run.invocations[n];
        let hook_type = match run.config.hooks[inv.hook].kind {
            HookKind::Pause => "PAUSE",
            HookKind::Lambda => "AWS_LAMBDA",
        };
        let sub_ms = run.hook_ids.between(0, 999_999);
        let names = self.stream.names();
        let detail = obj(vec![
            ("eventType", json!("INFO")),
            ("eventName", json!(name)),
            ("hookId", json!(inv.id)),
            ("hookType", json!(hook_type)),
            ("expiresAt", json!(whole_seconds(inv.expires_at))),
            ("lifecycleStage", json!(inv.stage)),
            ("clusterArn", json!(names.cluster_arn)),
            ("serviceArn", json!(names.service_arn)),
            ("serviceDeploymentArn", json!(run.deployment_arn)),
            ("updatedAt", json!(nanos(now, sub_ms))),
        ]);
        let resource = run.deployment_arn.clone();
        self.stream
            .push("ECS Hook State Change", now, resource, detail);
    }
}
