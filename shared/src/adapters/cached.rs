//! A state store that remembers, per Lambda sandbox, the records it last read or
//! wrote, so the usual invocation costs one DynamoDB call (the conditional write)
//! instead of two (a read, then the write).
//!
//! Why this is safe: every write is conditional on the revision it was based on.
//! A record remembered here that another sandbox (or the sweeper) has since
//! overtaken only makes that write fail its condition; the store then returns the
//! winning item with the failure (DynamoDB's `ReturnValuesOnConditionCheckFailure`),
//! it is remembered instead, and the watcher re-applies on it, which is what it does
//! after any conflict. A stale record can also make the watcher skip a write it
//! thinks changes nothing: only for an event the stale record already holds, which
//! the stored one (its successor) holds as well. Outbox entries left by a crashed
//! invocation elsewhere wait for the sweeper or the next write, as they would anyway.
//!
//! Any other failure forgets the service, so a read-back after a lost reply always
//! asks the table.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::core::RolloutSummary;
use crate::model::{ServiceArn, Timestamp};
use crate::ports::{SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

/// Records remembered by default: a few dozen services keep a sandbox's memory
/// small (a record is a few KB; a 500-task service mid-rollout a few hundred).
pub const DEFAULT_CAPACITY: usize = 32;

#[derive(Debug, Default)]
struct Memory {
    records: HashMap<ServiceArn, ServiceRecord>,
    /// Oldest first, for eviction.
    order: VecDeque<ServiceArn>,
}

impl Memory {
    fn put(&mut self, record: ServiceRecord, capacity: usize) {
        let service = record.state.service().clone();
        if self.records.insert(service.clone(), record).is_none() {
            self.order.push_back(service);
        }
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
    }

    fn forget(&mut self, service: &ServiceArn) {
        if self.records.remove(service).is_some() {
            self.order.retain(|s| s != service);
        }
    }
}

/// A [`StateStore`] in front of another, remembering recent records.
#[derive(Debug)]
pub struct CachedStore<S> {
    inner: S,
    memory: Mutex<Memory>,
    capacity: usize,
}

impl<S> CachedStore<S> {
    /// Remembers up to [`DEFAULT_CAPACITY`] records in front of `inner`.
    pub fn new(inner: S) -> Self {
        Self::with_capacity(inner, DEFAULT_CAPACITY)
    }

    /// Remembers up to `capacity` records.
    pub fn with_capacity(inner: S, capacity: usize) -> Self {
        Self {
            inner,
            memory: Mutex::new(Memory::default()),
            capacity,
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A poisoned lock means a panic mid-update of a plain map: still usable.
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl<S: StateStore> StateStore for CachedStore<S> {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        if let Some(rec) = self.memory().records.get(service) {
            return Ok(Some(rec.clone()));
        }
        let loaded = self.inner.load(service).await?;
        if let Some(rec) = &loaded {
            self.memory().put(rec.clone(), self.capacity);
        }
        Ok(loaded)
    }

    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        let service = request.record.state.service().clone();
        match self.inner.save(request).await {
            Ok(()) => {
                self.memory().put(request.record.clone(), self.capacity);
                Ok(())
            }
            Err(StoreError::Conflict {
                service: name,
                expected,
                current: Some(winner),
            }) => {
                self.memory().put((*winner).clone(), self.capacity);
                Err(StoreError::Conflict {
                    service: name,
                    expected,
                    current: Some(winner),
                })
            }
            Err(e) => {
                self.memory().forget(&service);
                Err(e)
            }
        }
    }

    async fn history(&self, service: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        self.inner.history(service).await
    }

    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        self.inner.due(until, limit).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::memory::MemoryStore;

    /// Counts the reads that reach the table.
    #[derive(Default)]
    struct Counting {
        inner: MemoryStore,
        loads: AtomicUsize,
    }

    #[async_trait]
    impl StateStore for Counting {
        async fn load(&self, s: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            self.inner.load(s).await
        }
        async fn save(&self, r: SaveRequest<'_>) -> Result<(), StoreError> {
            self.inner.save(r).await
        }
        async fn history(&self, s: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
            self.inner.history(s).await
        }
        async fn due(&self, t: Timestamp, n: usize) -> Result<Vec<ServiceArn>, StoreError> {
            self.inner.due(t, n).await
        }
    }

    fn arn(n: u32) -> ServiceArn {
        ServiceArn::parse(&format!("arn:aws:ecs:eu-west-1:1:service/c/s{n}")).unwrap()
    }

    async fn write(store: &impl StateStore, rec: &mut ServiceRecord, by: &str) -> bool {
        let expected = rec.revision;
        rec.sign(expected, by);
        let request = SaveRequest {
            record: rec,
            expected,
            due_at: None,
            finished: &[],
        };
        store.save(request).await.is_ok()
    }

    /// Reads after a write of this sandbox cost nothing; a write from elsewhere makes
    /// the next write conflict, and the winner it returns is what the retry reads.
    #[tokio::test]
    async fn a_sandbox_reads_its_own_writes_and_learns_the_winner_from_a_conflict() {
        let shared = std::sync::Arc::new(Counting::default());
        let here = CachedStore::new(shared.clone());
        let mut rec = ServiceRecord::new(arn(1));
        assert!(write(&here, &mut rec, "a").await);
        let mut mine = here.load(&arn(1)).await.unwrap().unwrap();
        assert_eq!(shared.loads.load(Ordering::SeqCst), 0);

        let mut theirs = shared.load(&arn(1)).await.unwrap().unwrap();
        assert!(write(shared.as_ref(), &mut theirs, "elsewhere").await);
        assert!(
            !write(&here, &mut mine, "a2").await,
            "the stale write conflicts"
        );
        let reread = here.load(&arn(1)).await.unwrap().unwrap();
        assert_eq!(reread.revision, 2);
        assert!(reread.written_by(2, "elsewhere"));
        assert_eq!(
            shared.loads.load(Ordering::SeqCst),
            1,
            "only the test's own read"
        );
    }

    /// The memory is bounded, oldest first out.
    #[tokio::test]
    async fn it_remembers_at_most_its_capacity() {
        let shared = std::sync::Arc::new(Counting::default());
        let here = CachedStore::with_capacity(shared.clone(), 2);
        for n in 0..3 {
            assert!(write(&here, &mut ServiceRecord::new(arn(n)), "a").await);
        }
        here.load(&arn(2)).await.unwrap();
        assert_eq!(shared.loads.load(Ordering::SeqCst), 0);
        here.load(&arn(0)).await.unwrap();
        assert_eq!(
            shared.loads.load(Ordering::SeqCst),
            1,
            "the oldest was dropped"
        );
    }
}
