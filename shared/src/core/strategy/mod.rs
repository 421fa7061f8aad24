//! Deployment strategies: how a rollout's facts become its state, and when it is
//! overdue.
//!
//! Why a seam here: ECS runs rolling, blue/green, linear and canary deployments, and
//! they differ exactly in these answers. Blue/green and its kin add states between
//! `tasks_running` and `completed` (shifting traffic, baking, paused on a hook), and
//! their stall deadline must not count bake time or time paused. Everything else (the
//! facts, the links between rollouts, the effects each state implies exactly once) is
//! common, so a new strategy is a new file here plus one arm in [`of`].

mod native;
mod rolling;

use crate::model::Timestamp;

use super::rollout::{Rollout, RolloutState, StrategyKind};

/// The rules one deployment strategy applies to a rollout's facts.
pub(crate) trait Strategy {
    /// The state the facts imply (`first_running`: when a task of the deployment first
    /// ran, kept apart from the rollout because task events often come first).
    fn derive(&self, r: &Rollout, first_running: Option<Timestamp>) -> RolloutState;

    /// When the rollout entered `state`, from the same facts.
    fn entered_at(
        &self,
        r: &Rollout,
        state: RolloutState,
        first_running: Option<Timestamp>,
    ) -> Timestamp;

    /// When the rollout becomes overdue (`stalled`) if still in progress.
    fn deadline(&self, r: &Rollout) -> Timestamp;
}

/// The strategy a rollout follows.
pub(crate) fn of(r: &Rollout) -> &'static dyn Strategy {
    match r.strategy {
        StrategyKind::Rolling if r.native.is_none() => &rolling::Rolling,
        // Rolling with lifecycle hooks reads its pauses the native way too.
        StrategyKind::Rolling
        | StrategyKind::BlueGreen
        | StrategyKind::Linear
        | StrategyKind::Canary => &native::Native,
    }
}
