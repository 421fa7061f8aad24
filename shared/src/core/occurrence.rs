//! What the state machine found, as data: the seam between deciding *when* something
//! happened (here, exactly once, guarded by the rollouts' `Done` flags and the
//! dedup memory) and deciding what it is called and how it reads (the policy).
//!
//! Each occurrence carries every datum its words need, so the policy never looks back
//! into the state; the order of occurrences is the order of the effects they become.

use crate::model::{
    CrashLoopRule, DeploymentId, Millis, ServiceActionKind, ServiceConfig, Timestamp,
};

use super::effects::{AlertName, Transition};
use super::native::HookEnd;
use super::rollout::{RolloutState, RolloutSummary};
use super::stop::StopInfo;

/// The rollout an occurrence belongs to, as its words name it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RolloutRef {
    pub(crate) deployment: DeploymentId,
    pub(crate) is_rollback: bool,
    /// `FAMILY:REVISION`, when a task of it was seen.
    pub(crate) task_definition: Option<String>,
    /// For a rollback: the deployment it rolls back.
    pub(crate) rollback_of: Option<DeploymentId>,
    /// The deployment its IN_PROGRESS reason says it rolls back to.
    pub(crate) rollback_to: Option<DeploymentId>,
}

/// How the tasks of a rollout fared, for the words of its end.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Failures {
    pub(crate) health_checks: u32,
    pub(crate) starts: u32,
    /// New tasks that reached RUNNING and then crashed.
    pub(crate) crashes: u32,
    pub(crate) last: Option<StopInfo>,
}

/// A lifecycle hook run, as its words name it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HookRef {
    /// `hookId`.
    pub(crate) id: String,
    /// `PAUSE`, or a Lambda hook's type.
    pub(crate) hook_type: String,
    pub(crate) stage: Option<String>,
    pub(crate) expires_at: Option<Timestamp>,
    /// CONTINUE or ROLLBACK (ROLLBACK when not known: ECS's default).
    pub(crate) timeout_action: String,
    /// The service deployment it holds.
    pub(crate) service_deployment: String,
}

/// One thing that happened, once.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Occurrence {
    /// A rollout moved to another state.
    Transition(Transition),
    /// A rollout started.
    RolloutStarted { rollout: RolloutRef, at: Timestamp },
    /// The rollout's first task ran, `after` its start.
    FirstTaskRunning {
        deployment: DeploymentId,
        at: Timestamp,
        after: Millis,
    },
    /// The rollout started with settings the zero-downtime rules call unsafe.
    UnsafeConfig {
        rollout: RolloutRef,
        at: Timestamp,
        config: ServiceConfig,
    },
    /// SERVICE_DEPLOYMENT_FAILED.
    RolloutFailed {
        rollout: RolloutRef,
        at: Timestamp,
        reason: Option<String>,
        last_failure: Option<StopInfo>,
        /// New tasks of it that reached RUNNING and then crashed.
        crashes: u32,
    },
    /// SERVICE_DEPLOYMENT_COMPLETED.
    RolloutCompleted {
        rollout: RolloutRef,
        at: Timestamp,
        duration_s: Option<f64>,
        /// `None` when the rollout's start was never seen: the watcher cannot know.
        downtime_s: Option<f64>,
        health_check_failures: u32,
    },
    /// A rollback of the rollout began (`by`).
    RolledBack {
        rollout: RolloutRef,
        at: Timestamp,
        by: DeploymentId,
        failures: Failures,
    },
    /// The rollout passed its deadline, `after` its start.
    Stalled {
        rollout: RolloutRef,
        at: Timestamp,
        after: Millis,
        failures: Failures,
    },
    /// A stalled rollout ended after all, in `state`.
    StallEnded {
        rollout: RolloutRef,
        at: Timestamp,
        state: RolloutState,
    },
    /// A task stopped failing its health checks or before it ran; `breaker`: during
    /// its deployment's rollout, the failures so far and the circuit breaker's
    /// threshold (`None` when no rollout of it is open: nothing counts then).
    TaskFailed {
        stop: StopInfo,
        deployment: Option<DeploymentId>,
        task_definition: Option<String>,
        breaker: Option<(u32, u32)>,
        at: Timestamp,
    },
    /// A serving task stopped on its own (`started`: when it reached RUNNING);
    /// `breaker` as for [`Occurrence::TaskFailed`], for a new task of a rollout.
    TaskCrashed {
        stop: StopInfo,
        deployment: Option<DeploymentId>,
        task_definition: Option<String>,
        started: Option<Timestamp>,
        breaker: Option<(u32, u32)>,
        at: Timestamp,
    },
    /// `crashes` crashes since `start` make a loop under `rule` (`at`: the crash that
    /// made it one).
    CrashLoop {
        start: Timestamp,
        at: Timestamp,
        crashes: u32,
        rule: CrashLoopRule,
    },
    /// A whole window passed without a crash: the loop that began at `start` is over.
    CrashLoopResolved {
        start: Timestamp,
        end: Timestamp,
        crashes: u32,
        rule: CrashLoopRule,
    },
    /// ECS reported a service action; `occurrence` is the key the dedup memory holds.
    ServiceAction {
        alert: AlertName,
        kind: ServiceActionKind,
        deployment: Option<DeploymentId>,
        occurrence: String,
        reason: Option<String>,
        at: Timestamp,
    },
    /// No task served for the grace period since `start` (`at`: the service's time);
    /// `desired`: the desired count, when ECS told it.
    ZeroFired {
        start: Timestamp,
        at: Timestamp,
        deployment: Option<DeploymentId>,
        last_stop: Option<StopInfo>,
        desired: Option<u32>,
    },
    /// A zero window closed, leaving downtime from `start` to `end`.
    Downtime { start: Timestamp, end: Timestamp },
    /// A zero window that had fired closed: a task serves again (`wanted`) or none is
    /// wanted any more. `end` is when it closed: the first serving task, or when
    /// the desired count of 0 was seen (such a window counts no downtime).
    ZeroResolved {
        start: Timestamp,
        end: Timestamp,
        fired: Timestamp,
        deployment: Option<DeploymentId>,
        wanted: bool,
    },
    /// The number of serving tasks changed (or was first known).
    Serving { count: u32, at: Timestamp },
    /// A lifecycle stage became known (`deployment`: the rollout, once joined).
    Stage {
        deployment: Option<DeploymentId>,
        stage: String,
        at: Timestamp,
    },
    /// A PAUSE hook waits for `ContinueServiceDeployment`.
    Paused {
        deployment: Option<DeploymentId>,
        hook: HookRef,
        at: Timestamp,
    },
    /// The pause ended after `paused`: its hook ended (`end`), or the rollout did
    /// (`end` `None`).
    PauseEnded {
        deployment: Option<DeploymentId>,
        hook: HookRef,
        end: Option<HookEnd>,
        paused: Millis,
        at: Timestamp,
    },
    /// A hook FAILED, or TIMED_OUT into ROLLBACK: ECS rolls the deployment back.
    HookFailed {
        deployment: Option<DeploymentId>,
        hook: HookRef,
        end: HookEnd,
        at: Timestamp,
    },
    /// ECS began rolling an ECS-native deployment back in place (`hook`: the hook whose
    /// end made it, `reason`: the API's reason).
    NativeRolledBack {
        rollout: RolloutRef,
        at: Timestamp,
        hook: Option<HookRef>,
        reason: Option<String>,
        failures: Failures,
    },
}

/// Everything one call into the state machine found.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Occurrences {
    /// In order.
    pub(crate) items: Vec<Occurrence>,
    /// Rollouts whose state changed, as they stand after the change.
    pub(crate) rollouts: Vec<RolloutSummary>,
    /// The input changed nothing (a duplicate or an older version).
    pub(crate) duplicate: bool,
    /// The input came too late to be applied (see [`crate::core::LATE_LIMIT`]).
    pub(crate) late: bool,
}

impl Occurrences {
    pub(crate) fn push(&mut self, o: Occurrence) {
        self.items.push(o);
    }

    /// Records a rollout's summary, replacing an earlier one of the same call.
    pub(crate) fn summary(&mut self, summary: RolloutSummary) {
        self.rollouts
            .retain(|r| r.deployment_id != summary.deployment_id);
        self.rollouts.push(summary);
    }
}
