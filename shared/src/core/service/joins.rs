//! The join of a service deployment (named by its ARN in hook events and the Service
//! Deployments API) to a rollout (`ecs-svc/<digits>`, named by deployment events).
//!
//! A reading of the API names both: its target service revision ends in the rollout's
//! digits. A hook event names only the ARN: its facts wait, unjoined, until a rollout
//! of the service covers their time (it had started by then and had not ended before),
//! the service's one in-progress rollout when events come in order. Once joined, the
//! facts move onto the rollout and it keeps both keys; facts joined by time alone go
//! back to waiting when a newer rollout turns out to have started before them.

use std::collections::BTreeMap;

use crate::model::{
    DeploymentId, HookChange, Millis, ServiceConfig, ServiceDeploymentView, Timestamp,
};

use super::super::native::NativeFacts;
use super::super::rollout::{Rollouts, StrategyKind};
use super::deployments::new_rollout;

/// The facts of service deployments no rollout was joined to yet, by ARN.
pub(crate) type Unjoined = BTreeMap<String, NativeFacts>;

/// Service deployments kept unjoined at most (the newest): without deployment events
/// nothing ever joins them, and the service's state is one bounded item.
const MAX_UNJOINED: usize = 8;

/// Records a hook event; false when it told nothing new.
pub(super) fn record_hook(
    rollouts: &mut Rollouts,
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
    rollouts: &mut Rollouts,
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
        .or_insert_with(|| Box::new(new_rollout(id, read_at, stall_after, config)));
    let before = r.clone();
    let mut facts = match r.native.take() {
        Some(n) => *n,
        None => NativeFacts::new(&v.arn),
    };
    if let Some(waiting) = unjoined.remove(&v.arn) {
        facts.merge(waiting);
    }
    facts.record_view(v, read_at);
    facts.by_time = false;
    r.native = Some(Box::new(facts));
    if v.status == "SUCCESSFUL" {
        let at = v.finished_at.or(v.updated_at).unwrap_or(read_at);
        r.completed_at = Some(r.completed_at.map_or(at, |c| c.min(at)));
    }
    !existed || *r != before
}

/// The rollout whose time covers facts first seen at `at` (started by then and not
/// ended before): the newest such, never a rollback, nor one holding other facts.
fn target(rollouts: &Rollouts, arn: &str, at: Timestamp) -> Option<DeploymentId> {
    let ended_before = |t: Option<Timestamp>| t.is_some_and(|t| t < at);
    rollouts
        .values()
        .filter(|r| !r.is_rollback && r.native.as_ref().is_none_or(|n| n.arn == arn))
        .filter(|r| r.start() <= at && !ended_before(r.completed_at.or(r.failed_at)))
        .max_by_key(|r| (r.start(), r.deployment.clone()))
        .map(|r| r.deployment.clone())
}

/// Facts joined by time whose rollout a newer one had superseded before they began
/// go back to waiting, to join that newer rollout: its deployment event came after
/// them (EventBridge keeps no order), and they are its hooks, not the old one's.
fn unjoin_misplaced(rollouts: &mut Rollouts, unjoined: &mut Unjoined) {
    let misplaced: Vec<DeploymentId> = rollouts
        .values()
        .filter_map(|r| {
            let n = r.native.as_deref().filter(|n| n.by_time)?;
            let at = n.first_at()?;
            let newer = r.superseded.as_ref().is_some_and(|(_, s)| *s <= at);
            let elsewhere = target(rollouts, &n.arn, at).is_some_and(|d| d != r.deployment);
            (newer && elsewhere).then(|| r.deployment.clone())
        })
        .collect();
    for d in misplaced {
        if let Some(n) = rollouts.get_mut(&d).and_then(|r| r.native.take()) {
            unjoined.insert(n.arn.clone(), *n);
        }
    }
}

/// Joins each waiting service deployment to the rollout that covers its time, and
/// forgets the oldest beyond [`MAX_UNJOINED`].
pub(super) fn join(rollouts: &mut Rollouts, unjoined: &mut Unjoined) {
    unjoin_misplaced(rollouts, unjoined);
    if unjoined.is_empty() {
        return;
    }
    while unjoined.len() > MAX_UNJOINED {
        let oldest = unjoined
            .iter()
            .min_by_key(|(arn, f)| (f.first_at(), (*arn).clone()))
            .map(|(arn, _)| arn.clone());
        match oldest {
            Some(arn) => unjoined.remove(&arn),
            None => break,
        };
    }
    let arns: Vec<String> = unjoined.keys().cloned().collect();
    for arn in arns {
        let Some(at) = unjoined.get(&arn).and_then(NativeFacts::first_at) else {
            continue;
        };
        let Some(r) = target(rollouts, &arn, at).and_then(|d| rollouts.get_mut(&d)) else {
            continue;
        };
        if let Some(mut facts) = unjoined.remove(&arn) {
            match r.native.as_deref_mut() {
                Some(n) => n.merge(facts),
                None => {
                    facts.by_time = true;
                    r.native = Some(Box::new(facts));
                }
            }
        }
    }
}

/// Rollouts that began before the service's configuration was read follow the
/// strategy (and bake time) it names once it is known: the functions read
/// DescribeServices on a service's first events, not before them.
pub(super) fn adopt_config(rollouts: &mut Rollouts, config: Option<&ServiceConfig>) {
    let (kind, bake) = StrategyKind::of_config(config);
    if kind == StrategyKind::Rolling {
        return;
    }
    let unset = rollouts
        .values_mut()
        .filter(|r| r.strategy == StrategyKind::Rolling && r.bake_allowance.is_none());
    for r in unset.filter(|r| r.state.is_none_or(|s| !s.is_terminal())) {
        r.strategy = kind;
        r.bake_allowance = bake;
    }
}
