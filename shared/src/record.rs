//! A service's live item: what the [`StateStore`](crate::ports::StateStore) keeps
//! and the delivery layer reads, changes and writes back conditionally.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::core::ServiceState;
use crate::model::{ServiceArn, Timestamp};
use crate::outbox::Outbox;

/// Everything kept about one service in its live item: the state machine, the
/// outbox of effects not yet delivered, and the revision the next write is
/// conditional on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    /// The state machine.
    pub state: ServiceState,
    /// Effects recorded but not yet delivered.
    pub outbox: Outbox,
    /// Incremented by every write; 0 means "never written".
    pub revision: u64,
    /// The last few writes: revision and writer (the invocation's id). When a
    /// write's reply is lost (a timeout, a reset, or the SDK's own retry of a write
    /// that had landed failing its condition), reading the item back tells whether
    /// the write was ours, even if another writer has built on it since, so the
    /// effects it recorded are delivered once instead of lost or repeated.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub writes: VecDeque<(u64, String)>,
    /// When the sweeper found that ECS no longer knows the service (deleted:
    /// MISSING, DRAINING or INACTIVE), by the wall clock. A rollout left open by a
    /// deleted service never ends by any event, so without this it would page
    /// `deployment_stalled` and keep the sweeper looking every minute for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<Timestamp>,
}

/// Writes remembered in [`ServiceRecord::writes`].
const WRITES_KEPT: usize = 8;

impl ServiceRecord {
    /// Prepares the next write by `owner`: the next revision, signed.
    pub fn sign(&mut self, expected: u64, owner: &str) {
        self.revision = expected + 1;
        self.writes.push_back((self.revision, owner.to_owned()));
        while self.writes.len() > WRITES_KEPT {
            self.writes.pop_front();
        }
    }

    /// Marks the service gone at `now`; whether it was not marked yet.
    pub fn let_go(&mut self, now: Timestamp) -> bool {
        let newly = self.gone_at.is_none();
        self.gone_at.get_or_insert(now);
        newly
    }

    /// Whether the service was found deleted and no event has come since (an event
    /// dated after that look is a service of that name created again).
    pub fn is_gone(&self) -> bool {
        self.gone_at
            .is_some_and(|gone| self.state.clock().is_none_or(|c| c <= gone))
    }

    /// Whether `owner` wrote `revision` of this record.
    pub fn written_by(&self, revision: u64, owner: &str) -> bool {
        self.writes
            .iter()
            .any(|(r, w)| *r == revision && w == owner)
    }
}

impl ServiceRecord {
    /// The record of a service never seen before.
    pub fn new(service: ServiceArn) -> Self {
        Self {
            state: ServiceState::new(service),
            outbox: Outbox::default(),
            revision: 0,
            writes: VecDeque::new(),
            gone_at: None,
        }
    }
}
