//! Where the traffic is, read from a service deployment's stages and hooks: shifting
//! to the new revision, baking on it, or the old revision being cleaned up; and how
//! long the bakes the facts show lasted (the deadline's stand-in for a bake time the
//! watcher was not told).

use crate::model::{Millis, Timestamp};

use super::{HookEnd, NativeFacts};

/// Stages during which traffic moves to the new revision.
const SHIFT_STAGES: [&str; 4] = [
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
];
/// Stages once all production traffic moved: ECS keeps the old revision for the bake.
const BAKE_STAGES: [&str; 2] = ["POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"];
/// The stage in which ECS stops the old revision.
const CLEAN_UP: &str = "CLEAN_UP";

impl NativeFacts {
    /// The moves of traffic, in time order: `(at, true)` when traffic starts moving
    /// (a shift stage, a hook at one), `(at, false)` when all production traffic has
    /// moved and the bake begins (a bake stage, or a hook at PRODUCTION_TRAFFIC_SHIFT
    /// that succeeded: the step is done).
    fn moves(&self) -> Vec<(Timestamp, bool)> {
        let mut v: Vec<(Timestamp, bool)> = Vec::new();
        for s in &self.stages {
            if SHIFT_STAGES.contains(&s.name.as_str()) {
                v.push((s.at, true));
            } else if BAKE_STAGES.contains(&s.name.as_str()) {
                v.push((s.at, false));
            }
        }
        for h in &self.hooks {
            let stage = h.stage.as_deref().unwrap_or_default();
            if let Some(at) = h.began_at.filter(|_| SHIFT_STAGES.contains(&stage)) {
                v.push((at, true));
            }
            if stage == "PRODUCTION_TRAFFIC_SHIFT"
                && let Some((HookEnd::Succeeded, at)) = h.ended
            {
                v.push((at, false));
            }
        }
        v.sort();
        v
    }

    /// Traffic moving: when it began, unless a bake followed.
    pub(crate) fn shifting(&self) -> Option<Timestamp> {
        let moves = self.moves();
        let last_bake = moves.iter().rev().find(|m| !m.1).map(|m| m.0);
        moves
            .iter()
            .find(|m| m.1 && last_bake.is_none_or(|b| m.0 > b))
            .map(|m| m.0)
    }

    /// Baking: since when, when the latest move was a bake's start.
    pub(crate) fn baking(&self) -> Option<Timestamp> {
        let moves = self.moves();
        match moves.last() {
            Some((at, false)) => {
                let since = moves.iter().rev().take_while(|m| !m.1).last();
                Some(since.map_or(*at, |m| m.0))
            }
            _ => None,
        }
    }

    /// When the old revision began to be stopped (CLEAN_UP).
    pub(crate) fn clean_up(&self) -> Option<Timestamp> {
        self.stages
            .iter()
            .find(|s| s.name == CLEAN_UP)
            .map(|s| s.at)
    }

    /// Time spent baking as the facts show it: each bake from its start to the next
    /// shift or the clean-up (`end`: when the rollout's bake otherwise ended); `None`
    /// while a bake is open.
    pub(crate) fn baked(&self, end: Option<Timestamp>) -> Option<Millis> {
        let moves = self.moves();
        let close = self.clean_up().or(end);
        let mut total = 0;
        let mut bake_start: Option<Timestamp> = None;
        for (at, shift) in moves {
            match (shift, bake_start) {
                (true, Some(s)) => {
                    total += at.since(s).0;
                    bake_start = None;
                }
                (false, None) => bake_start = Some(at),
                _ => {}
            }
        }
        match (bake_start, close) {
            (Some(s), Some(c)) => Some(Millis(total + c.since(s).0)),
            (Some(_), None) => None,
            (None, _) => Some(Millis(total)),
        }
    }
}
