//! What the Service Deployments API (`ListServiceDeployments`,
//! `DescribeServiceDeployments`) says of a deployment, as plain values.
//!
//! Why in the model: `wait` polls these, the handler asks for one on a rollout's first
//! hook event and the sweeper for every in-progress ECS-native rollout; the state
//! machine reads them the same way from all three. The SDK adapter
//! (`adapters::ecs_deployments`) fills them field by field and decides nothing.
//!
//! Identity: a service deployment is named by an opaque ARN
//! (`...:service-deployment/CLUSTER/SERVICE/<id>`); the join to the `ecs-svc/<digits>`
//! id the deployment events carry is the target service revision, whose last segment
//! is those digits (what the Terraform AWS provider relies on; undocumented by AWS).

use super::ids::DeploymentId;
use super::timestamp::Timestamp;

/// The `ecs-svc/<digits>` deployment a service revision ARN
/// (`...:service-revision/CLUSTER/SERVICE/<digits>`) belongs to.
pub fn deployment_of_revision(revision_arn: &str) -> Option<DeploymentId> {
    let digits = revision_arn.rsplit('/').next()?;
    if !revision_arn.contains(":service-revision/")
        || digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    DeploymentId::parse(&format!("ecs-svc/{digits}"))
}

/// A `ListServiceDeployments` brief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BriefView {
    /// `serviceDeploymentArn`.
    pub arn: String,
    /// `targetServiceRevisionArn`: its last segment is the `ecs-svc/` digits.
    pub target_revision: Option<String>,
    /// `createdAt`.
    pub created_at: Option<Timestamp>,
}

/// What `DescribeServiceDeployments` says of one service deployment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceDeploymentView {
    /// `serviceDeploymentArn`.
    pub arn: String,
    /// `targetServiceRevision.arn`: its last segment is the `ecs-svc/` digits.
    pub target_revision: Option<String>,
    /// `status`: PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED,
    /// ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED.
    pub status: String,
    /// `statusReason`.
    pub status_reason: Option<String>,
    /// `lifecycleStage` (an open set).
    pub stage: Option<String>,
    /// `updatedAt`.
    pub updated_at: Option<Timestamp>,
    /// `finishedAt`.
    pub finished_at: Option<Timestamp>,
    /// `rollback.startedAt`, when a rollback began.
    pub rollback_started_at: Option<Timestamp>,
    /// `rollback.reason`.
    pub rollback_reason: Option<String>,
    /// `deploymentCircuitBreaker.status`.
    pub breaker_status: Option<String>,
    /// `deploymentCircuitBreaker.failureCount`.
    pub breaker_failures: Option<u32>,
    /// `deploymentCircuitBreaker.threshold`.
    pub breaker_threshold: Option<u32>,
    /// `alarms.status`.
    pub alarms_status: Option<String>,
    /// `alarms.triggeredAlarmNames`.
    pub triggered_alarms: Vec<String>,
    /// `lifecycleHookDetails[]`.
    pub hooks: Vec<HookView>,
}

/// One of `lifecycleHookDetails[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookView {
    /// `hookId` (what `continue-service-deployment --hook-id` takes).
    pub hook_id: String,
    /// `targetType`: `PAUSE` or `AWS_LAMBDA`.
    pub target_type: Option<String>,
    /// `status`: AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT.
    pub status: String,
    /// `expiresAt`.
    pub expires_at: Option<Timestamp>,
    /// `timeoutAction`: CONTINUE or ROLLBACK.
    pub timeout_action: Option<String>,
}

impl BriefView {
    /// The `ecs-svc/` deployment it targets.
    pub fn deployment_id(&self) -> Option<DeploymentId> {
        self.target_revision
            .as_deref()
            .and_then(deployment_of_revision)
    }
}

impl ServiceDeploymentView {
    /// The `ecs-svc/` deployment it targets.
    pub fn deployment_id(&self) -> Option<DeploymentId> {
        self.target_revision
            .as_deref()
            .and_then(deployment_of_revision)
    }

    /// PAUSE hooks waiting for `ContinueServiceDeployment`.
    pub fn awaiting_hooks(&self) -> impl Iterator<Item = &HookView> {
        self.hooks.iter().filter(|h| h.status == "AWAITING_ACTION")
    }
}

#[cfg(test)]
mod tests {
    use super::deployment_of_revision;

    #[test]
    fn a_revision_names_the_deployment_with_the_same_digits() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/1485800978477494678";
        assert_eq!(
            deployment_of_revision(arn).map(|d| d.as_str().to_owned()),
            Some("ecs-svc/1485800978477494678".to_owned())
        );
        assert_eq!(
            deployment_of_revision("arn:aws:ecs:us-east-1:1:service/c/s"),
            None
        );
        assert_eq!(
            deployment_of_revision("arn:aws:ecs:us-east-1:1:service-revision/c/s/abc"),
            None
        );
    }
}
