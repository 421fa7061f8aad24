//! The one builder of metric data points, and the one place their dedup keys are
//! formed. Three scopes, three key shapes, on purpose:
//!
//! - a point one event produced: `{service}|{deployment or -}|{Name}|{occurrence}`,
//!   the same key shape as the alerts (the event that made it is the occurrence);
//! - a point the sweeper read from ECS: `sweep|{service}|{Name}|{epoch ms}`: no
//!   deployment or event stands behind it, only the tick's time, and the prefix keeps
//!   it from ever meeting an event's key;
//! - the watcher's own health: `health|{Name}|{epoch ms}`, with no service at all.
//!
//! The keys are persisted in the outbox and asserted by the tests byte for byte.

use crate::core::{Dimensions, Metric, MetricName};
use crate::model::{DeploymentId, ServiceArn, Timestamp};

use super::dedup_key;

/// A per-service data point produced by an event (or a deadline) of a rollout.
pub fn service_metric(
    service: &ServiceArn,
    name: MetricName,
    value: f64,
    at: Timestamp,
    deployment: Option<&DeploymentId>,
    occurrence: &str,
) -> Metric {
    let key = dedup_key(service, deployment, name.as_str(), occurrence);
    point(name, value, at, Some(service), key)
}

/// A per-service data point the sweeper read from ECS at `at` (`RunningTaskCount`).
pub fn sampled_metric(service: &ServiceArn, name: MetricName, value: f64, at: Timestamp) -> Metric {
    let key = format!("sweep|{service}|{}|{}", name.as_str(), at.as_millis());
    point(name, value, at, Some(service), key)
}

/// One of the watcher's own health data points (no dimensions).
pub fn health_metric(name: MetricName, value: f64, at: Timestamp) -> Metric {
    let key = format!("health|{}|{}", name.as_str(), at.as_millis());
    point(name, value, at, None, key)
}

fn point(
    name: MetricName,
    value: f64,
    at: Timestamp,
    service: Option<&ServiceArn>,
    dedup_key: String,
) -> Metric {
    Metric {
        name,
        value,
        unit: name.unit(),
        dimensions: service.map(|s| Dimensions {
            cluster_name: s.cluster().to_owned(),
            service_name: s.name().to_owned(),
        }),
        at,
        dedup_key,
    }
}
