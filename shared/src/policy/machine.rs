//! The entry points callers use: the state machine's decisions, put into words.
//!
//! [`ServiceState`]'s own methods find occurrences; these three wrap them so that
//! the replay, the Lambda functions and the tests get [`Effects`] from one place and
//! never see an occurrence. They are inherent methods (the crate owns both types) so
//! that callers keep writing `state.apply(..)`.

use crate::core::{Effects, Occurrences, ServiceState, Settings};
use crate::model::{Input, Observation, ServiceArn, Timestamp};

use super::alerts::render;

impl ServiceState {
    /// Applies one event. See [`ServiceState`]'s module docs for the contract.
    pub fn apply(&mut self, input: &Input, settings: &Settings) -> Effects {
        let found = self.on_input(input, settings);
        effects(self.service(), found)
    }

    /// Lets time pass to `now` without an event: deadlines and grace periods fire.
    pub fn tick(&mut self, now: Timestamp, settings: &Settings) -> Effects {
        let found = self.on_time(now, settings);
        effects(self.service(), found)
    }

    /// Feeds what DescribeServices says (the handler's confirmation, the sweeper's
    /// reconciliation), and reconciles the task picture with it:
    ///
    /// - a zero awaiting confirmation fires if ECS confirms no task runs while one is
    ///   wanted, and is stood down otherwise (its events are merely late);
    /// - ECS running none while one is wanted, though the events left tasks serving
    ///   (their STOPPED events never came, or the service was never seen): those tasks
    ///   end now, and the zero window runs from here, paging after the grace;
    /// - ECS running tasks while a zero window is open (a RUNNING event was lost): the
    ///   window closes now, with the downtime measured so far.
    pub fn observe(&mut self, obs: Observation, settings: &Settings) -> Effects {
        let found = self.on_observation(obs, settings);
        effects(self.service(), found)
    }
}

/// The effects of a batch of occurrences, in their order.
fn effects(service: &ServiceArn, found: Occurrences) -> Effects {
    let mut items = Vec::with_capacity(found.items.len() * 2);
    for o in found.items {
        render(service, o, &mut items);
    }
    Effects {
        items,
        rollouts: found.rollouts,
        duplicate: found.duplicate,
        late: found.late,
    }
}
