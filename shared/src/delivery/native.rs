//! The Service Deployments API where events cannot tell (ECS-native strategies).
//!
//! Why ask at all: a hook event names its service deployment by an opaque ARN, never
//! by the `ecs-svc/<digits>` id of the rollout it belongs to, and no event carries a
//! deployment's stage, circuit-breaker count, triggered alarms or in-place rollback.
//! One DescribeServiceDeployments reading names both keys (its target service
//! revision ends in the rollout's digits) and says all of that.
//!
//! Bounded on purpose: the handler asks once per hook event, and only while the
//! event's service deployment is not joined to a rollout (a retry or a duplicate
//! finds it joined and asks nothing); the sweeper asks at most two calls per service
//! and tick (one ListServiceDeployments page, only for a rollout whose service
//! deployment it does not know, then one DescribeServiceDeployments of up to 20 ARNs).
//! A failed look-up is logged and the watcher goes on from events, as it does when
//! DescribeServices fails.

use crate::error_chain;
use crate::model::{ServiceArn, ServiceDeploymentView, Timestamp};
use crate::ports::{DESCRIBE_DEPLOYMENTS_BATCH, Ports, ServiceInspector};
use crate::record::ServiceRecord;

use super::Watcher;

/// How long before a rollout's first event its service deployment may have been
/// created (ECS creates it, then reports the deployment; clocks differ a little).
const CREATED_BEFORE_MS: i64 = 15 * 60 * 1000;

impl<P: Ports> Watcher<P> {
    /// The handler's one DescribeServiceDeployments for a hook event's service
    /// deployment; `None` when ECS does not know it or the call failed (logged).
    pub(super) async fn describe_service_deployment(
        &self,
        service: &ServiceArn,
        arn: &str,
    ) -> Option<ServiceDeploymentView> {
        let arns = [arn.to_owned()];
        match self
            .inspector
            .describe_service_deployments(service, &arns)
            .await
        {
            Ok(views) => views.into_iter().find(|v| v.arn == arn),
            Err(e) => {
                tracing::warn!(service = %service, service_deployment = arn, error = %error_chain(&e), "DescribeServiceDeployments failed; joining by the in-progress rollout");
                None
            }
        }
    }

    /// The sweeper's readings for one service: its open ECS-native rollouts and the
    /// service deployments waiting unjoined. Empty when it has none, or when the API
    /// failed (logged: the tick goes on from state and DescribeServices).
    pub(super) async fn service_deployment_readings(
        &self,
        rec: &ServiceRecord,
    ) -> Vec<ServiceDeploymentView> {
        let service = rec.state.service();
        let mut arns = rec.state.open_service_deployments();
        let unknown = rec.state.native_without_service_deployment();
        if let Some(since) = unknown.iter().map(|(_, start)| *start).min() {
            let since = Timestamp::from_millis(since.as_millis().saturating_sub(CREATED_BEFORE_MS));
            match self
                .inspector
                .list_service_deployments(service, Some(since))
                .await
            {
                Ok(briefs) => arns.extend(
                    briefs
                        .into_iter()
                        .filter(|b| {
                            b.deployment_id()
                                .is_some_and(|id| unknown.iter().any(|(d, _)| *d == id))
                        })
                        .map(|b| b.arn),
                ),
                Err(e) => {
                    tracing::warn!(service = %service, error = %error_chain(&e), "ListServiceDeployments failed; sweeping without it");
                }
            }
        }
        arns.sort();
        arns.dedup();
        arns.truncate(DESCRIBE_DEPLOYMENTS_BATCH);
        if arns.is_empty() {
            return Vec::new();
        }
        match self
            .inspector
            .describe_service_deployments(service, &arns)
            .await
        {
            Ok(views) => views,
            Err(e) => {
                tracing::warn!(service = %service, error = %error_chain(&e), "DescribeServiceDeployments failed; sweeping without it");
                Vec::new()
            }
        }
    }
}
