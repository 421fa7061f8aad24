//! Why a task stopped, and whether that is a failure.
//!
//! ECS stops tasks for ordinary reasons all the time (a rolling deployment replacing
//! them, AZ rebalancing, a user); paging on those is what makes people mute the
//! channel. Only health-check failures, failures to start and crashed essential
//! containers count as failures. Capacity AWS takes back (Spot interruptions,
//! termination notices, infrastructure maintenance) is never the service's fault.
//!
//! Out of memory is read from the words ECS writes (`OutOfMemoryError`, any case, in a
//! container's reason or the stoppedReason), never from exit 137 alone: a task the
//! scheduler stops is SIGKILLed after its stop timeout and exits 137 too.

use serde::{Deserialize, Serialize};

use crate::model::{ContainerExit, TaskObservation};

/// The kind of stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopClass {
    /// Failed ELB or container health checks.
    HealthCheck,
    /// Never reached RUNNING (image pull, secrets, ENI, …).
    FailedToStart,
    /// An essential container exited after the task ran.
    ContainerExited,
    /// Out of memory (`OutOfMemoryError` in a reason, any case).
    OutOfMemory,
    /// Spot capacity reclaimed (stopCode SpotInterruption or TerminationNotice).
    SpotInterruption,
    /// AWS maintenance of the infrastructure hosting the task.
    Maintenance,
    /// Replaced or scaled in by a deployment: normal.
    Deployment,
    /// AZ rebalancing: normal.
    Rebalancing,
    /// Stopped by a user or an API call: normal.
    User,
    /// Anything else.
    Other,
}

impl StopClass {
    /// Failures count toward the circuit breaker and may alert.
    pub const fn is_failure(self) -> bool {
        matches!(
            self,
            Self::HealthCheck | Self::FailedToStart | Self::ContainerExited | Self::OutOfMemory
        )
    }

    /// A serving task that stopped on its own: an essential container exited or ran
    /// out of memory (health-check stops after serving are crashes only outside a
    /// rollout, which the state machine decides).
    pub const fn is_crash(self) -> bool {
        matches!(self, Self::ContainerExited | Self::OutOfMemory)
    }

    /// How a person would say it.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::HealthCheck => "failed health checks",
            Self::FailedToStart => "failed to start",
            Self::ContainerExited => "essential container exited",
            Self::OutOfMemory => "out of memory",
            Self::SpotInterruption => "Spot interruption",
            Self::Maintenance => "infrastructure maintenance",
            Self::Deployment => "replaced by the deployment",
            Self::Rebalancing => "AZ rebalancing",
            Self::User => "stopped by a user",
            Self::Other => "stopped",
        }
    }
}

/// A stop as recorded: the class and what ECS said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopInfo {
    /// The class.
    pub class: StopClass,
    /// The task.
    pub task_arn: String,
    /// ECS's stoppedReason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// ECS's stopCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Exited containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<ContainerExit>,
    /// A deliberate scale-in: the scheduler stopped the task for the task's own
    /// deployment (`Scaling activity initiated by (deployment X)`, X its `startedBy`)
    /// while no rollout was open. Not an outage, whatever the count becomes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scale_in: bool,
}

const START_FAILURE_PREFIXES: [&str; 8] = [
    "CannotPullContainerError",
    "ResourceInitializationError",
    "CannotStartContainerError",
    "CannotCreateContainerError",
    "CannotInspectContainerError",
    "CannotCreateVolumeError",
    "SecretsManager",
    "ContainerRuntimeError",
];

/// Classifies a stop from the stop code, the reason text and the exits.
pub fn classify(task: &TaskObservation, ever_ran: bool) -> StopClass {
    let reason = task.stopped_reason.as_deref().unwrap_or("");
    let code = task.stop_code.as_deref().unwrap_or("");
    let lower = reason.to_ascii_lowercase();
    let says_oom = |r: &str| r.to_ascii_lowercase().contains("outofmemory");
    let oom = task
        .exits
        .iter()
        .filter_map(|e| e.reason.as_deref())
        .any(says_oom)
        || says_oom(reason);

    if lower.contains("health check") {
        StopClass::HealthCheck
    } else if code == "TaskFailedToStart"
        || START_FAILURE_PREFIXES.iter().any(|p| reason.starts_with(p))
        || task
            .exits
            .iter()
            .filter_map(|e| e.reason.as_deref())
            .any(|r| START_FAILURE_PREFIXES.iter().any(|p| r.starts_with(p)))
    {
        StopClass::FailedToStart
    } else if code == "SpotInterruption" || code == "TerminationNotice" || lower.contains("spot") {
        StopClass::SpotInterruption
    } else if lower.contains("performing maintenance") {
        StopClass::Maintenance
    } else if lower.starts_with("scaling activity initiated by") {
        StopClass::Deployment
    } else if lower.contains("rebalancing") {
        StopClass::Rebalancing
    } else if code == "UserInitiated" || lower.starts_with("task stopped by user") {
        StopClass::User
    } else if oom {
        if ever_ran {
            StopClass::OutOfMemory
        } else {
            StopClass::FailedToStart
        }
    } else if code == "EssentialContainerExited" || lower.contains("essential container") {
        if ever_ran {
            StopClass::ContainerExited
        } else {
            StopClass::FailedToStart
        }
    } else {
        StopClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(code: &str, reason: &str) -> TaskObservation {
        TaskObservation {
            stop_code: Some(code.to_owned()),
            stopped_reason: Some(reason.to_owned()),
            ..TaskObservation::default()
        }
    }

    #[test]
    fn failures_are_told_apart_from_normal_stops() {
        let cases = [
            (
                "ServiceSchedulerInitiated",
                "Task failed ELB health checks in (target-group arn:x)",
                StopClass::HealthCheck,
            ),
            (
                "EssentialContainerExited",
                "Task failed container health checks",
                StopClass::HealthCheck,
            ),
            (
                "TaskFailedToStart",
                "CannotPullContainerError: pull image manifest has been retried",
                StopClass::FailedToStart,
            ),
            (
                "",
                "ResourceInitializationError: unable to pull secrets",
                StopClass::FailedToStart,
            ),
            (
                "EssentialContainerExited",
                "Essential container in task exited",
                StopClass::ContainerExited,
            ),
            (
                "SpotInterruption",
                "Your Spot Task was interrupted.",
                StopClass::SpotInterruption,
            ),
            (
                "ServiceSchedulerInitiated",
                "Scaling activity initiated by (deployment ecs-svc/1)",
                StopClass::Deployment,
            ),
            (
                "",
                "Availability-zone rebalancing initiated by (deployment ecs-svc/1)",
                StopClass::Rebalancing,
            ),
            ("UserInitiated", "Task stopped by user", StopClass::User),
            (
                "TerminationNotice",
                "Your Spot Task was interrupted.",
                StopClass::SpotInterruption,
            ),
            (
                "ServiceSchedulerInitiated",
                "Service web: ECS is performing maintenance on the underlying infrastructure hosting the task",
                StopClass::Maintenance,
            ),
        ];
        for (code, reason, want) in cases {
            assert_eq!(classify(&stopped(code, reason), true), want, "{reason}");
        }
        assert!(!StopClass::Deployment.is_failure() && !StopClass::User.is_failure());
        assert!(StopClass::HealthCheck.is_failure() && StopClass::OutOfMemory.is_failure());
    }

    #[test]
    fn an_exit_before_running_is_a_failure_to_start_and_oom_is_named() {
        let crash = stopped(
            "EssentialContainerExited",
            "Essential container in task exited",
        );
        assert_eq!(classify(&crash, false), StopClass::FailedToStart);
        let mut oom = crash;
        oom.exits.push(ContainerExit {
            name: "web".into(),
            exit_code: Some(137),
            reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
        });
        assert_eq!(classify(&oom, true), StopClass::OutOfMemory);
    }

    #[test]
    fn exit_137_alone_is_not_oom_and_the_oom_words_match_in_any_case() {
        let mut killed = stopped(
            "EssentialContainerExited",
            "Essential container in task exited",
        );
        killed.exits.push(ContainerExit {
            name: "app".into(),
            exit_code: Some(137),
            reason: None,
        });
        assert_eq!(classify(&killed, true), StopClass::ContainerExited);
        let mut ec2 = killed.clone();
        ec2.exits[0].exit_code = Some(1);
        ec2.exits[0].reason = Some("OutOfMemory: container killed due to memory usage".into());
        assert_eq!(classify(&ec2, true), StopClass::OutOfMemory);
        let mut task_level = killed;
        task_level.stopped_reason = Some("outofmemoryerror: container killed".into());
        assert_eq!(classify(&task_level, true), StopClass::OutOfMemory);
    }
}
