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

/// Reads finished rollouts and live states back.
#[async_trait]
pub trait HistoryReader: Send + Sync {
    /// Finished rollouts of one service that ended at or after `since` (a Query on
    /// the table's key).
    async fn service_history(
        &self,
        service: &ServiceArn,
        since: Timestamp,
    ) -> Result<Vec<RolloutSummary>, StoreError>;

    /// Finished rollouts of every service that ended in `[since, until]` (Queries
    /// of the history index, one per calendar month), optionally only those whose
    /// service ARN contains `filter` (cluster and service, `/C/S`).
    async fn history_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        filter: Option<&str>,
    ) -> Result<Vec<RolloutSummary>, StoreError>;

    /// Services with something open (a rollout in progress, a zero window): the
    /// sweeper's due index.
    async fn open_services(&self) -> Result<Vec<ServiceArn>, StoreError>;

    /// The live state of one service, if the watcher has seen it.
    async fn live(&self, service: &ServiceArn) -> Result<Option<ServiceState>, StoreError>;
}
