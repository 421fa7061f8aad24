//! The port `rollout-watcher history` reads the watcher's table through.
//!
//! Why its own trait (not [`StateStore`](super::StateStore)): the functions never
//! read across services, and the history's reads (by month through the history
//! index, the services with open work through the sweeper's index) need read
//! permissions only, so a person or a dashboard can hold this and nothing else.

use async_trait::async_trait;

use crate::core::{RolloutSummary, ServiceState};
use crate::model::{ServiceArn, Timestamp};

use super::StoreError;

/// What a history read gives: the rollouts it could decode, and the items it could
/// not. One damaged item (written by a newer version, or edited by hand) must not
/// hide every other rollout of the window: the reader keeps reading and names it.
#[derive(Debug, Default)]
pub struct HistoryRead {
    /// The finished rollouts read.
    pub rollouts: Vec<RolloutSummary>,
    /// The items that could not be decoded ([`StoreError::Corrupt`], naming the
    /// service and the attribute).
    pub unreadable: Vec<StoreError>,
}

/// Reads finished rollouts and live states back.
#[async_trait]
pub trait HistoryReader: Send + Sync {
    /// Finished rollouts of one service that ended at or after `since` (a Query on
    /// the table's key).
    async fn service_history(
        &self,
        service: &ServiceArn,
        since: Timestamp,
    ) -> Result<HistoryRead, StoreError>;

    /// Finished rollouts of every service that ended in `[since, until]` (Queries
    /// of the history index, one per calendar month), optionally only those whose
    /// service ARN contains `filter` (cluster and service, `/C/S`).
    async fn history_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        filter: Option<&str>,
    ) -> Result<HistoryRead, StoreError>;

    /// Services with something open (a rollout in progress, a zero window): the
    /// sweeper's due index.
    async fn open_services(&self) -> Result<Vec<ServiceArn>, StoreError>;

    /// The live state of one service, if the watcher has seen it.
    async fn live(&self, service: &ServiceArn) -> Result<Option<ServiceState>, StoreError>;
}
