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
//!
//! How much to remember depends on who else writes ([`CacheLimits`]): with one event
//! per invocation, many sandboxes write the same services and an old copy is likely
//! stale (a failed write costs as much as a read); behind the FIFO queue one batch
//! runs at a time, so a copy is almost always current and every service kept saves
//! a read per batch that touches it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::core::RolloutSummary;
use crate::model::{ServiceArn, Timestamp};
use crate::ports::{SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

/// Records remembered by default: a few dozen services keep a sandbox's memory
/// small (a record is a few KB; a 500-task service mid-rollout a few hundred).
pub const DEFAULT_CAPACITY: usize = 32;

/// What a record is taken to weigh in memory, in bytes: a base plus so much per task
/// it holds. Measured on the busy-month replay: 11 KB per service state holding 14
/// tasks on average (3.1 KB of them the tasks), the rest the rollouts, the deployments'
/// figures and the recent event ids. An estimate, so the bound is counted without
/// serialising anything.
const BASE_WEIGHT: usize = 8 * 1024;
const TASK_WEIGHT: usize = 256;

/// How much a sandbox remembers: at most `records` records and `bytes` of their
/// estimated weight, the least recently used going first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    /// Records.
    pub records: usize,
    /// Estimated bytes.
    pub bytes: usize,
}

impl CacheLimits {
    /// One event per invocation: many sandboxes write, so only a few recent
    /// services are worth keeping ([`DEFAULT_CAPACITY`]).
    pub const DIRECT: Self = Self {
        records: DEFAULT_CAPACITY,
        bytes: 64 * 1024 * 1024,
    };

    /// Behind the FIFO queue: one writer at a time, so every active service of the
    /// account is worth keeping, within 32 MiB (an eighth of the handler's default
    /// 256 MB; about 4,000 small services, or a hundred 500-task ones).
    pub const QUEUE: Self = Self {
        records: 8192,
        bytes: 32 * 1024 * 1024,
    };
}

fn weight(record: &ServiceRecord) -> usize {
    BASE_WEIGHT + TASK_WEIGHT * record.state.task_count()
}

/// The remembered records and their order of use.
#[derive(Debug, Default)]
struct Memory {
    records: HashMap<ServiceArn, Kept>,
    /// By last use, oldest first: the use's number, the service.
    by_use: BTreeMap<u64, ServiceArn>,
    uses: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Kept {
    record: ServiceRecord,
    used: u64,
    weight: usize,
}

impl Memory {
    fn touch(&mut self, service: &ServiceArn) -> Option<&ServiceRecord> {
        self.uses += 1;
        let kept = self.records.get_mut(service)?;
        self.by_use.remove(&kept.used);
        kept.used = self.uses;
        self.by_use.insert(kept.used, service.clone());
        Some(&kept.record)
    }

    fn put(&mut self, record: ServiceRecord, limits: CacheLimits) {
        let service = record.state.service().clone();
        self.forget(&service);
        self.uses += 1;
        let kept = Kept {
            weight: weight(&record),
            record,
            used: self.uses,
        };
        self.bytes += kept.weight;
        self.by_use.insert(kept.used, service.clone());
        self.records.insert(service, kept);
        while self.records.len() > limits.records || self.bytes > limits.bytes {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some(gone) = self.records.remove(&oldest) {
                self.bytes -= gone.weight;
            }
        }
    }

    fn forget(&mut self, service: &ServiceArn) {
        if let Some(gone) = self.records.remove(service) {
            self.by_use.remove(&gone.used);
            self.bytes -= gone.weight;
        }
    }
}

/// A [`StateStore`] in front of another, remembering recent records.
#[derive(Debug)]
pub struct CachedStore<S> {
    inner: S,
    memory: Mutex<Memory>,
    limits: CacheLimits,
}

impl<S> CachedStore<S> {
    /// Remembers as [`CacheLimits::DIRECT`] in front of `inner`.
    pub fn new(inner: S) -> Self {
        Self::with_limits(inner, CacheLimits::DIRECT)
    }

    /// Remembers up to `capacity` records.
    pub fn with_capacity(inner: S, capacity: usize) -> Self {
        Self::with_limits(
            inner,
            CacheLimits {
                records: capacity,
                ..CacheLimits::DIRECT
            },
        )
    }

    /// Remembers within `limits`.
    pub fn with_limits(inner: S, limits: CacheLimits) -> Self {
        Self {
            inner,
            memory: Mutex::new(Memory::default()),
            limits,
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

impl<S: StateStore> CachedStore<S> {
    /// Remembers what a write left: the record written, or the winner a conflict
    /// returned; forgets the service on any other failure.
    fn remember(
        &self,
        request: &SaveRequest<'_>,
        result: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match result {
            Ok(()) => {
                self.memory().put(request.record.clone(), self.limits);
                Ok(())
            }
            Err(StoreError::Conflict {
                service,
                expected,
                current: Some(winner),
            }) => {
                self.memory().put((*winner).clone(), self.limits);
                Err(StoreError::Conflict {
                    service,
                    expected,
                    current: Some(winner),
                })
            }
            Err(e) => {
                self.memory().forget(request.record.state.service());
                Err(e)
            }
        }
    }
}

#[async_trait]
impl<S: StateStore> StateStore for CachedStore<S> {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        if let Some(rec) = self.memory().touch(service) {
            return Ok(Some(rec.clone()));
        }
        let loaded = self.inner.load(service).await?;
        if let Some(rec) = &loaded {
            self.memory().put(rec.clone(), self.limits);
        }
        Ok(loaded)
    }

    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        let result = self.inner.save(request).await;
        self.remember(&request, result)
    }

    async fn save_many(&self, requests: &[SaveRequest<'_>]) -> Vec<Result<(), StoreError>> {
        let results = self.inner.save_many(requests).await;
        requests
            .iter()
            .zip(results)
            .map(|(request, result)| self.remember(request, result))
            .collect()
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

    /// The memory is bounded: the service least recently read or written goes first,
    /// so a service read on every batch stays however many others pass through.
    #[tokio::test]
    async fn it_forgets_the_least_recently_used_first() {
        let shared = std::sync::Arc::new(Counting::default());
        let here = CachedStore::with_capacity(shared.clone(), 2);
        for n in 0..2 {
            assert!(write(&here, &mut ServiceRecord::new(arn(n)), "a").await);
        }
        here.load(&arn(0)).await.unwrap();
        assert!(write(&here, &mut ServiceRecord::new(arn(2)), "a").await);
        here.load(&arn(0)).await.unwrap();
        here.load(&arn(2)).await.unwrap();
        assert_eq!(
            shared.loads.load(Ordering::SeqCst),
            0,
            "0 was used, 2 is new"
        );
        here.load(&arn(1)).await.unwrap();
        assert_eq!(
            shared.loads.load(Ordering::SeqCst),
            1,
            "1, the least recently used, was dropped"
        );
    }

    /// Behind the queue it keeps many services, but never more than its bytes.
    #[tokio::test]
    async fn it_remembers_within_its_bytes() {
        let shared = std::sync::Arc::new(Counting::default());
        let limits = CacheLimits {
            records: 100,
            bytes: 3 * BASE_WEIGHT,
        };
        let here = CachedStore::with_limits(shared.clone(), limits);
        for n in 0..4 {
            assert!(write(&here, &mut ServiceRecord::new(arn(n)), "a").await);
        }
        for n in 1..4 {
            here.load(&arn(n)).await.unwrap();
        }
        assert_eq!(shared.loads.load(Ordering::SeqCst), 0);
        here.load(&arn(0)).await.unwrap();
        assert_eq!(
            shared.loads.load(Ordering::SeqCst),
            1,
            "three fit, the first went"
        );
        let memory = here.memory();
        assert_eq!(memory.records.len(), 3);
        assert_eq!(memory.by_use.len(), 3);
        assert_eq!(memory.bytes, 3 * BASE_WEIGHT);
    }
}
