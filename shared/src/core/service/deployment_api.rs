//! What the functions ask of a service before they call the Service Deployments API
//! (ECS-native strategies): whether a hook event's service deployment is joined yet,
//! which service deployments the open rollouts have, and which open native rollouts
//! have none known. Read-only: the answers decide only whether to call.

use crate::model::{DeploymentId, DeploymentStrategy, Timestamp};

use super::super::rollout::{Rollout, StrategyKind};
use super::ServiceState;

impl ServiceState {
    /// Whether the service deployment `arn` is joined to a rollout (then a reading
    /// of it tells the join nothing new).
    pub fn is_joined(&self, arn: &str) -> bool {
        self.rollouts
            .values()
            .any(|r| r.native().is_some_and(|n| n.arn == arn))
    }

    /// The service deployments of the open rollouts, and those waiting unjoined.
    pub fn open_service_deployments(&self) -> Vec<String> {
        let joined = self
            .open()
            .filter_map(|r| r.native().map(|n| n.arn.clone()));
        let mut v: Vec<String> = joined.chain(self.unjoined.keys().cloned()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The open rollouts followed the ECS-native way (blue/green, linear, canary, or
    /// with lifecycle hooks) whose service deployment is not known yet, with their
    /// start: only ListServiceDeployments can name it.
    pub fn native_without_service_deployment(&self) -> Vec<(DeploymentId, Timestamp)> {
        let by_config = self.config.as_ref().is_some_and(|c| {
            c.strategy.is_some_and(|s| s != DeploymentStrategy::Rolling)
                || !c.lifecycle_hooks.is_empty()
        });
        self.open()
            .filter(|r| r.native().is_none() && !r.is_rollback)
            .filter(|r| by_config || r.strategy != StrategyKind::Rolling)
            .map(|r| (r.deployment.clone(), r.start()))
            .collect()
    }

    fn open(&self) -> impl Iterator<Item = &Rollout> {
        self.rollouts
            .values()
            .map(Box::as_ref)
            .filter(|r| r.state.is_none_or(|s| !s.is_terminal()))
    }
}
