//! What a wait is asked (`Plan`, from the flags) and how it ends (`Verdict`, the
//! contract's exit codes; `WaitError`, exit 1).

use rollout_watcher::core::{RolloutSummary, Settings};
use rollout_watcher::model::{DeploymentId, Millis};
use thiserror::Error;

use super::source::{HookView, SourceError};

/// What to wait for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Until {
    /// The rollout ends (the default).
    Completed,
    /// The deployment reaches this lifecycle stage (or a later one).
    Stage(String),
}

impl Until {
    /// Parses `completed` or a stage name (any case).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("completed") {
            return Some(Self::Completed);
        }
        let upper = t.to_ascii_uppercase();
        let ok = !upper.is_empty() && upper.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
        ok.then_some(Self::Stage(upper))
    }
}

/// What to do when a PAUSE hook awaits action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnPause {
    /// Print how to continue or roll back, and keep waiting.
    Wait,
    /// Print it and exit 5.
    Exit,
}

/// The wait asked for.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `--cluster`.
    pub cluster: String,
    /// `--service`.
    pub service: String,
    /// `--deployment` (default: the PRIMARY one at the start).
    pub deployment: Option<DeploymentId>,
    /// `--until`.
    pub until: Until,
    /// `--timeout`.
    pub timeout: Millis,
    /// `--interval`.
    pub interval: Millis,
    /// `--on-pause`.
    pub on_pause: OnPause,
    /// The state machine's settings (the functions' defaults).
    pub settings: Settings,
}

/// How the wait ended: the contract's exit codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rollout completed: 0.
    Completed,
    /// The `--until` stage was reached: 0.
    StageReached(String),
    /// The rollout failed: 2.
    Failed,
    /// The rollout was rolled back: 2.
    RolledBack,
    /// Still in progress at `--timeout` (stalled or not): 3.
    InProgress {
        /// The state machine marked it stalled.
        stalled: bool,
    },
    /// A newer deployment took over: 4.
    Superseded,
    /// A PAUSE hook awaits action and `--on-pause exit`: 5.
    Paused(Box<Pause>),
}

impl Verdict {
    /// The exit code (DESIGN.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Completed | Self::StageReached(_) => 0,
            Self::Failed | Self::RolledBack => 2,
            Self::InProgress { .. } => 3,
            Self::Superseded => 4,
            Self::Paused(_) => 5,
        }
    }

    /// The verdict's name in the JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::StageReached(_) => "stage_reached",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
            Self::InProgress { .. } => "in_progress",
            Self::Superseded => "superseded",
            Self::Paused(_) => "paused",
        }
    }
}

/// The end of a wait.
#[derive(Clone, Debug)]
pub struct Ending {
    /// The verdict.
    pub verdict: Verdict,
    /// The followed rollout as the state machine sums it up, once it saw it.
    pub summary: Option<RolloutSummary>,
}

/// Why the wait could not run (exit 1).
#[derive(Debug, Error)]
pub enum WaitError {
    /// An ECS read failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// `--deployment` names no deployment of the service.
    #[error("--deployment: service {service} has no deployment {id} (it has: {known})")]
    NoDeployment {
        /// The service.
        service: String,
        /// The id asked for.
        id: DeploymentId,
        /// The ids DescribeServices lists.
        known: String,
    },
    /// `--deployment` is not in DescribeServices, and the Service Deployments API,
    /// where a finished one would be, could not be read: say why, rather than
    /// claiming the deployment does not exist.
    #[error(
        "--deployment: service {service} lists no deployment {id} (it has: {known}), and looking for it among finished deployments failed"
    )]
    Unresolved {
        /// The service.
        service: String,
        /// The id asked for.
        id: DeploymentId,
        /// The ids DescribeServices lists.
        known: String,
        /// Why the Service Deployments API failed (boxed: the variant stays small).
        #[source]
        source: Box<SourceError>,
    },
    /// The service has no PRIMARY deployment to follow.
    #[error("--service: service {0} has no PRIMARY deployment to follow")]
    NoPrimary(String),
    /// `--until STAGE` cannot be answered without the Service Deployments API.
    #[error("--until {stage}: stages come from the Service Deployments API, which failed")]
    NoStages {
        /// The stage asked for.
        stage: String,
        /// Why the API failed.
        #[source]
        source: SourceError,
    },
    /// The output could not be written.
    #[error("writing the output")]
    Output(#[from] std::io::Error),
}

/// A PAUSE hook awaiting action, and how to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// The hook.
    pub hook: HookView,
    /// The lifecycle stage it holds.
    pub stage: Option<String>,
    /// The service deployment it belongs to.
    pub service_deployment_arn: String,
}

impl Pause {
    /// The command that acts on the hook (`CONTINUE` or `ROLLBACK`).
    pub fn command(&self, action: &str) -> String {
        format!(
            "aws ecs continue-service-deployment --service-deployment-arn {} --hook-id {} --action {action}",
            self.service_deployment_arn, self.hook.hook_id
        )
    }
}
