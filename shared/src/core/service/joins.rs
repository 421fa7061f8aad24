//! The join of a service deployment (named by its ARN in hook events and the Service
//! Deployments API) to a rollout (`ecs-svc/<digits>`, named by deployment events).
//!
//! A reading of the API names both: its target service revision ends in the rollout's
//! digits. A hook event names only the ARN: its facts wait, unjoined, until a rollout
//! of the service covers their time (it had started by then and had not ended before),
//! the service's one in-progress rollout when events come in order. Once joined, the
//! facts move onto the rollout for good and it keeps both keys.

use std::collections::BTreeMap;

use crate::model::{
    DeploymentId, HookChange, Millis, ServiceConfig, ServiceDeploymentView, Timestamp,
};

use super::super::native::NativeFacts;
use super::super::rollout::Rollout;
use super::deployments::new_rollout;

/// The facts of service deployments no rollout was joined to yet, by ARN.
pub(crate) type Unjoined = BTreeMap<String, NativeFacts>;

/// Records a hook event; false when it told nothing new.
pub(super) fn record_hook(
    rollouts: &mut BTreeMap<DeploymentId, Rollout>,
    unjoined: &mut Unjoined,
    h: &HookChange,
    config: Option<&ServiceConfig>,
) -> bool {
    let arn = &h.service_deployment;
    let joined = rollouts
        .values_mut()
        .find_map(|r| r.native.as_deref_mut().filter(|n| n.arn == *arn));
    match joined {
        Some(n) => n.record_hook(h, config),
        None => unjoined
            .entry(arn.clone())
            .or_insert_with(|| NativeFacts::new(arn))
            .record_hook(h, config),
    }
}

/// Records one reading of the Service Deployments API taken at `read_at`; false when
/// it told nothing new.
pub(super) fn record_view(
    rollouts: &mut BTreeMap<DeploymentId, Rollout>,
    unjoined: &mut Unjoined,
    v: &ServiceDeploymentView,
    read_at: Timestamp,
    (stall_after, config): (Millis, Option<&ServiceConfig>),
) -> bool {
    let Some(id) = v.deployment_id() else {
        return unjoined
            .entry(v.arn.clone())
            .or_insert_with(|| NativeFacts::new(&v.arn))
            .record_view(v, read_at);
    };
    let existed = rollouts.contains_key(&id);
    let r = rollouts
        .entry(id.clone())
        .or_insert_with(|| new_rollout(id, read_at, stall_after, config));
    let before = r.clone();
    let mut facts = match r.native.take() {
        Some(n) => *n,
        None => NativeFacts::new(&v.arn),
    };
    if let Some(waiting) = unjoined.remove(&v.arn) {
        facts.merge(waiting);
    }
    facts.record_view(v, read_at);
    r.native = Some(Box::new(facts));
    if v.status == "SUCCESSFUL" {
        let at = v.finished_at.or(v.updated_at).unwrap_or(read_at);
        r.completed_at = Some(r.completed_at.map_or(at, |c| c.min(at)));
    }
    !existed || *r != before
}

/// Joins each waiting service deployment to the rollout that covers its time.
pub(super) fn join(rollouts: &mut BTreeMap<DeploymentId, Rollout>, unjoined: &mut Unjoined) {
    if unjoined.is_empty() {
        return;
    }
    let arns: Vec<String> = unjoined.keys().cloned().collect();
    for arn in arns {
        let Some(at) = unjoined.get(&arn).and_then(NativeFacts::first_at) else {
            continue;
        };
        let ended_before = |t: Option<Timestamp>| t.is_some_and(|t| t < at);
        let target = rollouts
            .values_mut()
            .filter(|r| !r.is_rollback && r.native.as_ref().is_none_or(|n| n.arn == arn))
            .filter(|r| r.start() <= at && !ended_before(r.completed_at.or(r.failed_at)))
            .max_by_key(|r| (r.start(), r.deployment.clone()));
        if let Some(r) = target
            && let Some(facts) = unjoined.remove(&arn)
        {
            match r.native.as_deref_mut() {
                Some(n) => n.merge(facts),
                None => r.native = Some(Box::new(facts)),
            }
        }
    }
}
