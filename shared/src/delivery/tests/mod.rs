//! Delivery scenarios on the in-memory store and recording doubles: what reaches
//! SNS and CloudWatch when writes conflict, SNS fails, or events repeat.//!
//! The world they share is here: a store that can conflict or lose replies, the
//! recording doubles, and the events. The scenarios, by family:
//! - [`delivered`]: what a rollout publishes and counts, once, in order;
//! - [`failing`]: SNS down, conflicting writes, lost replies, long outages;
//! - [`refused`]: events that are malformed, unfollowed, or from the future;
//! - [`native`]: ECS-native rollouts read through the Service Deployments API;
//! - [`batch`]: queued events in batches, one write per service;
//! - [`deadline`]: a batch against slow or failing AWS calls and its deadline;
//! - [`config`]: when the service's configuration is read from ECS;
//! - [`corrupt`]: a batch with a service whose stored item cannot be read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::adapters::memory::MemoryStore;
use crate::adapters::recording::{
    ManualClock, RecordingMetrics, RecordingNotifier, StaticInspector,
};
use crate::core::{Alert, AlertName, MetricName, RolloutSummary, ServiceConfig};
use crate::model::{ServiceArn, Timestamp};
use crate::ports::{SaveRequest, ServiceView, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::{Watcher, WatcherConfig};
mod batch;
mod config;
mod corrupt;
mod deadline;
mod delivered;
mod failing;
mod native;
mod refused;

const SVC: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
const API: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api";
const JOBS: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/jobs";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";

type World = Watcher<(
    Arc<ConflictingStore>,
    Arc<RecordingNotifier>,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

/// A memory store that reports a conflict on the next `n` saves, after letting a
/// "concurrent" writer bump the revision (as a real race would).
///
/// With `lost_replies`, the next saves land but answer as if they had not: with a
/// timeout, or (`lost_as_conflict`) with the conditional-check failure that the
/// SDK's own retry of a landed write receives.
///
/// With `races`, another writer (the sweeper) writes the item first on the next
/// saves, so they meet the real conditional failure with its winner; with `broken`,
/// every save of that service fails; with `failing_saves`, the next saves fail
/// before reaching the table (throttled past the SDK's retries); with `corrupt`,
/// that service's item cannot be decoded when read.
#[derive(Default)]
struct ConflictingStore {
    inner: MemoryStore,
    conflicts: AtomicUsize,
    lost_replies: AtomicUsize,
    lost_as_conflict: AtomicBool,
    races: AtomicUsize,
    broken: Mutex<Option<ServiceArn>>,
    failing_saves: AtomicUsize,
    corrupt: Mutex<Option<ServiceArn>>,
    corrupt_reads: AtomicUsize,
}

#[async_trait]
impl StateStore for ConflictingStore {
    async fn load(&self, s: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        if self.corrupt.lock().unwrap().as_ref() == Some(s) {
            self.corrupt_reads.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Corrupt {
                service: s.to_string(),
                field: "state",
                source: "missing field `tasks`".into(),
            });
        }
        self.inner.load(s).await
    }
    async fn save(&self, r: SaveRequest<'_>) -> Result<(), StoreError> {
        let service = r.record.state.service();
        if self.broken.lock().unwrap().as_ref() == Some(service) {
            return Err(StoreError::Backend {
                operation: "PutItem",
                source: "injected failure".into(),
            });
        }
        if self.failing_saves.load(Ordering::SeqCst) > 0 {
            self.failing_saves.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Backend {
                operation: "PutItem",
                source: "throttled".into(),
            });
        }
        if self.races.load(Ordering::SeqCst) > 0 {
            self.races.fetch_sub(1, Ordering::SeqCst);
            let mut theirs = self
                .inner
                .load(service)
                .await?
                .unwrap_or_else(|| ServiceRecord::new(service.clone()));
            let expected = theirs.revision;
            theirs.sign(expected, "sweeper");
            self.inner
                .save(SaveRequest {
                    record: &theirs,
                    expected,
                    due_at: None,
                    finished: &[],
                })
                .await?;
        }
        if self.conflicts.load(Ordering::SeqCst) > 0 {
            self.conflicts.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Conflict {
                service: SVC.into(),
                expected: r.expected,
                current: None,
            });
        }
        let expected = r.expected;
        self.inner.save(r).await?;
        if self.lost_replies.load(Ordering::SeqCst) > 0 {
            self.lost_replies.fetch_sub(1, Ordering::SeqCst);
            if self.lost_as_conflict.load(Ordering::SeqCst) {
                return Err(StoreError::Conflict {
                    service: SVC.into(),
                    expected,
                    current: None,
                });
            }
            return Err(StoreError::Backend {
                operation: "PutItem",
                source: "timed out waiting for the reply".into(),
            });
        }
        Ok(())
    }
    async fn history(&self, s: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        self.inner.history(s).await
    }
    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        self.inner.due(until, limit).await
    }
}

fn world(config: ServiceConfig) -> World {
    let inspector = StaticInspector::new();
    inspector.set_view(Some(ServiceView {
        config,
        desired: 1,
        running: 1,
        deployments: vec![],
    }));
    Watcher {
        store: Arc::new(ConflictingStore::default()),
        notifier: Arc::new(RecordingNotifier::new()),
        metrics: Arc::new(RecordingMetrics::new()),
        inspector: Arc::new(inspector),
        clock: Arc::new(ManualClock::at(
            Timestamp::parse("2026-03-02T10:00:00Z").unwrap(),
        )),
        config: WatcherConfig::default(),
    }
}

/// The deployed set-up: metrics go to the invocation's log (EMF).
fn log_world(config: ServiceConfig) -> World {
    Watcher {
        metrics: Arc::new(RecordingMetrics::log()),
        ..world(config)
    }
}

fn safe() -> ServiceConfig {
    ServiceConfig {
        desired_count: Some(1),
        min_healthy_percent: Some(100),
        max_percent: Some(200),
        circuit_breaker: Some(true),
        rollback: Some(true),
        ..ServiceConfig::default()
    }
}

fn deployment(id: &str, name: &str, time: &str) -> Value {
    json!({
        "version": "0", "id": format!("{name}-{id}"), "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "eu-west-1",
        "resources": [SVC],
        "detail": {"eventType": "INFO", "eventName": name, "deploymentId": id, "updatedAt": time, "reason": "test"}
    })
}

fn task(n: u32, deployment: &str, status: &str, version: u64, time: &str) -> Value {
    json!({
        "version": "0", "id": format!("task-{n}-{version}"), "detail-type": "ECS Task State Change",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "eu-west-1",
        "resources": [format!("arn:aws:ecs:eu-west-1:123456789012:task/prod/{n:032x}")],
        "detail": {
            "clusterArn": CLUSTER, "group": "service:web", "startedBy": deployment,
            "taskArn": format!("arn:aws:ecs:eu-west-1:123456789012:task/prod/{n:032x}"),
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42",
            "lastStatus": status, "desiredStatus": "RUNNING", "version": version,
            "createdAt": time, "startedAt": time, "updatedAt": time
        }
    })
}

/// The service's stored record.
async fn record(w: &World) -> ServiceRecord {
    w.store
        .load(&ServiceArn::parse(SVC).unwrap())
        .await
        .unwrap()
        .unwrap()
}

fn names(w: &World) -> Vec<&'static str> {
    w.notifier
        .published()
        .iter()
        .map(|a| a.alert.as_str())
        .collect()
}

/// A one-task rollout: started, its task running, completed.
fn rollout() -> [Value; 3] {
    [
        deployment(
            "ecs-svc/1",
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "2026-03-02T10:00:00Z",
        ),
        task(1, "ecs-svc/1", "RUNNING", 2, "2026-03-02T10:01:00Z"),
        deployment(
            "ecs-svc/1",
            "SERVICE_DEPLOYMENT_COMPLETED",
            "2026-03-02T10:03:00Z",
        ),
    ]
}

/// The keys of the data points the state machine produced (not the watcher's own
/// per-invocation health counts, which carry the wall-clock time).
fn metric_keys(w: &World) -> Vec<String> {
    let mut keys: Vec<String> = w
        .metrics
        .sent()
        .into_iter()
        .map(|m| m.dedup_key)
        .filter(|k| !k.starts_with("health|"))
        .collect();
    keys.sort();
    keys
}

/// Queued messages `m-0`.. each starting a rollout ([`rollout`]'s first event) of
/// one of these services of the cluster, in order.
fn starts(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let start = rollout()[0].to_string();
            let start = start.replace("service/prod/web", &format!("service/prod/{name}"));
            (format!("m-{n}"), start)
        })
        .collect()
}

/// The messages as a batch hands them over.
fn queued(messages: &[(String, String)]) -> Vec<crate::delivery::QueuedEvent<'_>> {
    messages
        .iter()
        .map(|(id, body)| crate::delivery::QueuedEvent {
            message_id: id,
            body,
        })
        .collect()
}
