//! Who rolled back whom, who superseded whom.
//!
//! Recomputed from the facts on every event, so that a late event re-links correctly
//! instead of freezing an early guess. The links are worked out over borrowed ids and
//! only the rollouts whose links changed are written, which keeps the common case
//! (nothing changed) free of allocations.

use crate::model::{DeploymentId, Timestamp};

use super::super::rollout::{RollbackFact, Rollout, Rollouts};

/// The links of one rollout, as [`Rollout`] holds them.
#[derive(Clone, Copy, Default, PartialEq)]
struct Links<'a> {
    rolled_back: Option<(&'a DeploymentId, Timestamp)>,
    rollback_of: Option<&'a DeploymentId>,
    superseded: Option<(&'a DeploymentId, Timestamp)>,
}

impl Links<'_> {
    fn held_by(&self, r: &Rollout) -> bool {
        *self
            == Links {
                rolled_back: r.rolled_back.as_ref().map(|(d, t)| (d, *t)),
                rollback_of: r.rollback_of.as_ref(),
                superseded: r.superseded.as_ref().map(|(d, t)| (d, *t)),
            }
    }
}

/// The links as owned values, for the rollouts whose links changed.
type Update = (
    Option<(DeploymentId, Timestamp)>,
    Option<DeploymentId>,
    Option<(DeploymentId, Timestamp)>,
);

/// Sets `rolled_back`, `rollback_of` and `superseded` of every rollout from the
/// rollback facts and the start times.
pub(crate) fn link(rollouts: &mut Rollouts, rollbacks: &[RollbackFact]) {
    let updates: Vec<(usize, Update)> = {
        let links = compute(rollouts, rollbacks);
        rollouts
            .values()
            .zip(&links)
            .enumerate()
            .filter(|(_, (r, l))| !l.held_by(r))
            .map(|(i, (_, l))| {
                let owned = |o: Option<(&DeploymentId, Timestamp)>| o.map(|(d, t)| (d.clone(), t));
                (
                    i,
                    (
                        owned(l.rolled_back),
                        l.rollback_of.cloned(),
                        owned(l.superseded),
                    ),
                )
            })
            .collect()
    };
    let mut updates = updates.into_iter().peekable();
    for (i, r) in rollouts.values_mut().enumerate() {
        if let Some((_, (rolled_back, rollback_of, superseded))) =
            updates.next_if(|(at, _)| *at == i)
        {
            r.rolled_back = rolled_back;
            r.rollback_of = rollback_of;
            r.superseded = superseded;
        }
    }
}

/// The links of each rollout, in the map's order.
fn compute<'a>(rollouts: &'a Rollouts, rollbacks: &'a [RollbackFact]) -> Vec<Links<'a>> {
    let ids: Vec<&DeploymentId> = rollouts.keys().collect();
    let position = |d: &DeploymentId| ids.binary_search(&d).ok();
    let mut links = vec![Links::default(); ids.len()];

    // Each fact "`by` rolls back (to `to`) at `at`" names as victim the newest rollout
    // that had started by then and had not completed, other than the target; `by`
    // itself only when it is a normal deployment (ECS reuses its id for the rollback).
    // The oldest fact decides whom a rollout was rolled back by.
    let mut facts: Vec<&RollbackFact> = rollbacks.iter().collect();
    facts.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
    for f in facts {
        let by_is_normal = rollouts.get(&f.by).is_some_and(|r| !r.is_rollback);
        let victim = rollouts
            .values()
            .filter(|v| Some(&v.deployment) != f.to.as_ref())
            .filter(|v| {
                if v.deployment == f.by {
                    by_is_normal
                } else {
                    !v.is_rollback
                }
            })
            .filter(|v| v.start() <= f.at && v.completed_at.is_none_or(|c| c > f.at))
            .max_by_key(|v| (v.start(), &v.deployment));
        let Some(v) = victim else { continue };
        if let Some(l) = position(&v.deployment).map(|i| &mut links[i])
            && l.rolled_back.is_none()
        {
            l.rolled_back = Some((&f.by, f.at));
        }
        if v.deployment != f.by
            && let Some(i) = position(&f.by)
        {
            links[i].rollback_of = Some(&v.deployment);
        }
    }

    // A rollout is superseded by the next one to start after it.
    let mut starts: Vec<(Timestamp, &DeploymentId)> = rollouts
        .values()
        .filter(|r| r.started_at.is_some())
        .map(|r| (r.start(), &r.deployment))
        .collect();
    starts.sort_unstable();
    for (l, r) in links.iter_mut().zip(rollouts.values()) {
        let next = starts.partition_point(|(s, _)| *s <= r.start());
        l.superseded = starts.get(next).map(|(s, d)| (*d, *s));
    }
    links
}
