//! What each alert kind is besides its summary: how loud it is (the severity
//! DESIGN.md gives it), a headline of a few words (the Slack message's header) and
//! the next steps for the person it wakes (the SNS message's). One file, so a new
//! alert kind's loudness and words are written in one place of the policy, beside
//! the function in `alerts/` that words its summary.

use crate::core::{Alert, AlertName, AlertStatus, Severity};

impl Alert {
    /// `CRITICAL`, `WARNING`, `INFO` or `RESOLVED`: the word in brackets that opens
    /// the title and the subject, so a resolution never reads as a new page.
    pub const fn label(&self) -> &'static str {
        label(self.status, self.severity)
    }

    /// What happened, in a few words: the kind's headline, except for a zero-running
    /// page closed by a desired count of 0, where nothing serves "again".
    pub fn headline(&self) -> &'static str {
        let resolved = self.status == AlertStatus::Resolved;
        if resolved
            && self.alert == AlertName::ZeroRunningTasks
            && self.details.desired_count == Some(0)
        {
            return "desired count 0: nothing to serve";
        }
        self.alert.headline(resolved)
    }
}

/// See [`Alert::label`].
pub(crate) const fn label(status: AlertStatus, severity: Severity) -> &'static str {
    match (status, severity) {
        (AlertStatus::Resolved, _) => "RESOLVED",
        (_, Severity::Critical) => "CRITICAL",
        (_, Severity::Warning) => "WARNING",
        (_, Severity::Info) => "INFO",
    }
}

impl AlertName {
    /// The severity DESIGN.md gives it.
    pub const fn severity(self) -> Severity {
        match self {
            Self::DeploymentStarted | Self::DeploymentCompleted => Severity::Info,
            Self::HealthCheckFailed
            | Self::TaskFailedToStart
            | Self::DeploymentStalled
            | Self::UnsafeDeploymentConfig
            | Self::DeploymentPaused
            | Self::TaskCrashed => Severity::Warning,
            Self::DeploymentFailed
            | Self::DeploymentRolledBack
            | Self::TaskStartImpaired
            | Self::TaskPlacementFailed
            | Self::ZeroRunningTasks
            | Self::LifecycleHookFailed
            | Self::CrashLoop => Severity::Critical,
        }
    }

    /// What happened, in a few words (`resolved`: the condition ended).
    pub const fn headline(self, resolved: bool) -> &'static str {
        match self {
            Self::DeploymentStarted => "deployment started",
            Self::DeploymentCompleted => "deployment completed",
            Self::DeploymentFailed => "deployment failed",
            Self::DeploymentRolledBack => "deployment rolled back",
            Self::HealthCheckFailed => "a task failed its health checks",
            Self::TaskFailedToStart => "a task failed to start",
            Self::TaskStartImpaired => "tasks cannot start",
            Self::TaskPlacementFailed => "tasks cannot be placed",
            Self::ZeroRunningTasks if resolved => "serving again",
            Self::ZeroRunningTasks => "zero running tasks",
            Self::DeploymentStalled if resolved => "stalled deployment ended",
            Self::DeploymentStalled => "deployment stalled",
            Self::UnsafeDeploymentConfig => "unsafe deployment settings",
            Self::TaskCrashed => "a serving task crashed",
            Self::CrashLoop if resolved => "crash loop over",
            Self::CrashLoop => "crash loop",
            Self::DeploymentPaused if resolved => "deployment no longer paused",
            Self::DeploymentPaused => "deployment paused: awaiting action",
            Self::LifecycleHookFailed => "lifecycle hook failed",
        }
    }

    /// What to do about a firing alert of this kind, most useful first.
    pub fn next_steps(self) -> Vec<&'static str> {
        match self {
            Self::DeploymentStarted | Self::DeploymentCompleted => vec![],
            Self::HealthCheckFailed => vec![
                "Check the target group's health check path, port and timeouts against the new version",
                "Read the new task's logs around the time it was stopped",
            ],
            Self::TaskFailedToStart => vec![
                "Check the image tag exists and the execution role can pull it and read its secrets",
                "Read the stopped reason in the ECS console",
            ],
            Self::DeploymentFailed | Self::DeploymentRolledBack => vec![
                "The previous version keeps (or takes back) the traffic; find why the new tasks failed before redeploying",
            ],
            Self::ZeroRunningTasks => vec![
                "The service is down: check the ECS console's Events tab and the last task's stopped reason",
                "Consider forcing a new deployment of the last good task definition",
            ],
            Self::DeploymentStalled => vec![
                "Check the service's Events tab: placement, capacity or minimum/maximum percent may block progress",
            ],
            Self::TaskStartImpaired | Self::TaskPlacementFailed => vec![
                "Check cluster capacity, subnets and the task definition's CPU/memory against what is available",
            ],
            Self::TaskCrashed => vec![
                "Read the crashed container's logs just before it stopped; an exit code names the failure, an out-of-memory kill asks for more memory or a fix to the leak",
                "If the replacement tasks crash too, watch for crash_loop",
            ],
            Self::CrashLoop => vec![
                "Tasks keep dying and ECS keeps replacing them: read the task_crashed alerts for the container, its exit code and reason",
                "Roll back to the last good task definition if a change started it",
            ],
            Self::UnsafeDeploymentConfig => vec![
                "Set minimumHealthyPercent to 100 and maximumPercent to 200 for single-task services",
            ],
            Self::DeploymentPaused => vec![
                "Check the new revision (test traffic, dashboards), then run the continue or the roll-back command the alert gives before the pause expires",
            ],
            Self::LifecycleHookFailed => vec![
                "Read the hook's Lambda logs (or ask who answered the pause) for why it rolled the deployment back",
            ],
        }
    }
}
