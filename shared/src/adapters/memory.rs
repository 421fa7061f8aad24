//! An in-memory state store with DynamoDB's semantics: a write conditional on the
//! revision, finished rollouts kept apart, a due list.
//!
//! Records are kept serialised (JSON), exactly as the DynamoDB adapter stores them,
//! so a test through this store also proves the record survives the round trip.
//! A `std::sync::Mutex` is enough: no lock is held across an `.await`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::core::RolloutSummary;
use crate::model::{DeploymentId, ServiceArn, Timestamp};
use crate::ports::{SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

#[derive(Debug, Default)]
struct Tables {
    live: BTreeMap<ServiceArn, (String, Option<Timestamp>, u64)>,
    history: BTreeMap<(ServiceArn, DeploymentId), RolloutSummary>,
    writes: u64,
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A poisoned lock only means a test panicked mid-write; the data is still
        // whatever the last completed write left.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Successful writes so far.
    pub fn writes(&self) -> u64 {
        self.lock().writes
    }

    /// The serialised live record of a service (to measure its size).
    pub fn raw(&self, service: &ServiceArn) -> Option<String> {
        self.lock().live.get(service).map(|(s, _, _)| s.clone())
    }

    /// The due time recorded for a service.
    pub fn due_at(&self, service: &ServiceArn) -> Option<Timestamp> {
        self.lock().live.get(service).and_then(|(_, d, _)| *d)
    }
}

fn corrupt(service: &ServiceArn, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        service: service.to_string(),
        field: "record",
        source: Box::new(e),
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        let raw = self.lock().live.get(service).map(|(s, _, _)| s.clone());
        raw.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(service, e)))
            .transpose()
    }

    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        let service = request.record.state.service().clone();
        let json = serde_json::to_string(request.record).map_err(|e| corrupt(&service, e))?;
        let mut t = self.lock();
        let current = t.live.get(&service).map_or(0, |(_, _, rev)| *rev);
        if current != request.expected {
            // Like DynamoDB with `ReturnValuesOnConditionCheckFailure = ALL_OLD`.
            let winner = t
                .live
                .get(&service)
                .and_then(|(s, _, _)| serde_json::from_str(s).ok())
                .map(Box::new);
            return Err(StoreError::Conflict {
                service: service.to_string(),
                expected: request.expected,
                current: winner,
            });
        }
        t.live
            .insert(service, (json, request.due_at, request.record.revision));
        for r in request.finished {
            t.history
                .insert((r.service.clone(), r.deployment_id.clone()), r.clone());
        }
        t.writes += 1;
        Ok(())
    }

    async fn history(&self, service: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        let mut v: Vec<RolloutSummary> = self
            .lock()
            .history
            .values()
            .filter(|r| &r.service == service)
            .cloned()
            .collect();
        v.sort_by_key(|r| (r.started_at.or(r.finished_at), r.deployment_id.clone()));
        Ok(v)
    }

    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        let t = self.lock();
        let mut v: Vec<(Timestamp, ServiceArn)> = t
            .live
            .iter()
            .filter_map(|(s, (_, d, _))| d.filter(|d| *d <= until).map(|d| (d, s.clone())))
            .collect();
        v.sort();
        Ok(v.into_iter().take(limit).map(|(_, s)| s).collect())
    }
}
