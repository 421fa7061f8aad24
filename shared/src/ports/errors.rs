//! One error enum per port. Each keeps the SDK error as its `source` (never a
//! stringified copy), so the log line and the Lambda error message can walk the chain
//! down to the AWS error code.

use thiserror::Error;

/// A boxed lower-level error (an SDK error, an I/O error).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The state store failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The item's revision is no longer the one read: another invocation wrote first.
    #[error("state item of {service}: revision {expected} was overtaken by a concurrent write")]
    Conflict {
        /// The service.
        service: String,
        /// The revision the write expected.
        expected: u64,
        /// The item that won, when the store returns it with the failure (DynamoDB's
        /// `ReturnValuesOnConditionCheckFailure`): the retry needs no read.
        current: Option<Box<crate::record::ServiceRecord>>,
    },
    /// The stored item cannot be decoded (a field names what is wrong).
    #[error("state item of {service}: {field}: cannot be decoded")]
    Corrupt {
        /// The service (the item's `pk`).
        service: String,
        /// The attribute at fault.
        field: &'static str,
        /// Why.
        #[source]
        source: Source,
    },
    /// The backend call failed (throttling, network, permissions).
    #[error("state table: {operation} failed")]
    Backend {
        /// The API operation (`GetItem`, `PutItem`, …).
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Source,
    },
}

/// Publishing an alert failed.
#[derive(Debug, Error)]
#[error("alert {dedup_key}: publish failed")]
pub struct NotifyError {
    /// The alert's dedup key.
    pub dedup_key: String,
    /// The SDK error.
    #[source]
    pub source: Source,
}

/// Sending metric data failed.
#[derive(Debug, Error)]
#[error("metrics: {operation} failed ({count} data points)")]
pub struct MetricsError {
    /// `PutMetricData` or `write` (EMF).
    pub operation: &'static str,
    /// Data points in the failed batch.
    pub count: usize,
    /// The SDK or I/O error.
    #[source]
    pub source: Source,
}

/// An ECS look-up failed.
#[derive(Debug, Error)]
#[error("ecs {operation} for {service} failed")]
pub struct InspectError {
    /// `DescribeServices`, `ListTasks`, `DescribeTasks`, `ListServiceDeployments`,
    /// `DescribeServiceDeployments`.
    pub operation: &'static str,
    /// The service.
    pub service: String,
    /// The SDK error.
    #[source]
    pub source: Source,
}
