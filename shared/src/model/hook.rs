//! `ECS Hook State Change`, read into what the state machine consumes.
//!
//! Why its own file: a hook event names its deployment differently from every other
//! event (a service-deployment ARN, never `ecs-svc/<digits>`), and its service only
//! in `detail.serviceArn` (`resources` holds the service deployment in one AWS page's
//! example and is absent in another's). The join to a rollout is the core's business;
//! this file only reads what the event says.

use super::error::{ModelError, clip};
use super::event::HookDetail;
use super::ids::{MAX_ARN, ServiceArn};
use super::timestamp::Timestamp;

/// The longest hook id or stage name kept (AWS's hook ids run to about 60 characters).
const MAX_ID: usize = 255;

/// One lifecycle hook's change of state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookChange {
    /// `hookId`: what `aws ecs continue-service-deployment --hook-id` takes. Linear and
    /// canary deployments raise a new one at every step.
    pub hook_id: String,
    /// `hookType`: `PAUSE`, or a Lambda hook's type.
    pub hook_type: String,
    /// Its new phase.
    pub phase: HookPhase,
    /// `lifecycleStage`, when given (an open set).
    pub stage: Option<String>,
    /// `expiresAt`: when ECS takes the hook's timeout action.
    pub expires_at: Option<Timestamp>,
    /// `serviceDeploymentArn` (else `resources[0]`).
    pub service_deployment: String,
    /// `updatedAt`, else the envelope time.
    pub at: Timestamp,
    /// The timeout action, when known (the Service Deployments API says it; the event
    /// does not).
    pub timeout_action: Option<String>,
}

impl HookChange {
    /// A PAUSE hook waits for `ContinueServiceDeployment`.
    pub fn is_pause(&self) -> bool {
        self.hook_type == "PAUSE"
    }
}

/// The phases ECS reports for a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HookPhase {
    /// HOOK_IN_PROGRESS (a Lambda hook runs).
    InProgress,
    /// HOOK_AWAITING_ACTION (a PAUSE hook waits for someone).
    AwaitingAction,
    /// HOOK_SUCCEEDED (for a pause: continued).
    Succeeded,
    /// HOOK_FAILED (for a pause: ROLLBACK chosen).
    Failed,
    /// HOOK_TIMED_OUT: ECS takes the timeout action.
    TimedOut,
}

impl HookPhase {
    /// The phase an event name or an API status names (`HOOK_` prefix optional).
    pub fn parse(text: &str) -> Option<Self> {
        match text.strip_prefix("HOOK_").unwrap_or(text) {
            "IN_PROGRESS" => Some(Self::InProgress),
            "AWAITING_ACTION" => Some(Self::AwaitingAction),
            "SUCCEEDED" => Some(Self::Succeeded),
            "FAILED" => Some(Self::Failed),
            "TIMED_OUT" => Some(Self::TimedOut),
            _ => None,
        }
    }

    /// The hook has ended.
    pub const fn is_end(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::TimedOut)
    }
}

/// What a hook event says: its service and change, or the name of an event the
/// watcher does not act on.
pub(super) enum Read {
    Use(ServiceArn, HookChange),
    Ignore(String),
}

/// Reads a hook event's detail (`resource`: the envelope's `resources[0]`, `time`:
/// the envelope time).
pub(super) fn read(
    d: HookDetail,
    resource: Option<String>,
    time: Option<Timestamp>,
) -> Result<Read, ModelError> {
    let name = d
        .event_name
        .as_deref()
        .ok_or(ModelError::Missing("detail.eventName"))?;
    let Some(phase) = name.strip_prefix("HOOK_").and_then(HookPhase::parse) else {
        return Ok(Read::Ignore(name.to_owned()));
    };
    let hook_id = d.hook_id.ok_or(ModelError::Missing("detail.hookId"))?;
    if hook_id.trim().is_empty() || hook_id.len() > MAX_ID {
        return Err(ModelError::invalid(
            "detail.hookId",
            "empty or too long",
            &hook_id,
        ));
    }
    let (field, sd) = match (d.service_deployment_arn, resource) {
        (Some(a), _) => ("detail.serviceDeploymentArn", a),
        (None, Some(r)) => ("resources[0]", r),
        (None, None) => return Err(ModelError::Missing("detail.serviceDeploymentArn")),
    };
    if !sd.contains(":service-deployment/") || sd.len() > MAX_ARN {
        return Err(ModelError::invalid(
            field,
            "not an ECS service-deployment ARN",
            &sd,
        ));
    }
    let service = match d.service_arn.as_deref() {
        // A service created before 2021 may keep the short ARN (no cluster); the
        // service deployment's ARN always names the cluster.
        Some(arn) => ServiceArn::parse(arn)
            .or_else(|| {
                ServiceArn::is_short_form(arn)
                    .then(|| service_of_deployment(&sd))
                    .flatten()
            })
            .ok_or_else(|| {
                ModelError::invalid("detail.serviceArn", "not an ECS service ARN", arn)
            })?,
        None => service_of_deployment(&sd)
            .ok_or_else(|| ModelError::invalid(field, "names no service", &sd))?,
    };
    let at = d
        .updated_at
        .or(time)
        .ok_or(ModelError::Missing("detail.updatedAt"))?;
    Ok(Read::Use(
        service,
        HookChange {
            hook_id,
            hook_type: d
                .hook_type
                .map_or_else(|| "AWS_LAMBDA".to_owned(), |t| clip(&t, MAX_ID)),
            phase,
            stage: d.lifecycle_stage.map(|s| clip(&s, MAX_ID)),
            expires_at: d.expires_at,
            service_deployment: sd,
            at,
            timeout_action: None,
        },
    ))
}

/// The service of `...:service-deployment/CLUSTER/SERVICE/<id>`.
pub fn service_of_deployment(arn: &str) -> Option<ServiceArn> {
    let (head, rest) = arn.split_once(":service-deployment/")?;
    let (path, _id) = rest.rsplit_once('/')?;
    ServiceArn::parse(&format!("{head}:service/{path}"))
}
