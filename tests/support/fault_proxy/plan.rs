//! What the proxy is told to inject ([`Plan`]: shares per service and operation,
//! outages) and what it records of each request ([`Call`]).

use std::time::Duration;

/// A kind of injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// HTTP 500 (`InternalFailure`, `InternalError`, `ServerException`).
    ServerError,
    /// A throttling error in the protocol's shape (HTTP 400).
    Throttle,
    /// The connection is reset without an answer.
    Reset,
    /// No answer until after the SDK's attempt timeout.
    Slow,
}

/// Fail a share of one service's requests (one operation, or all).
#[derive(Clone, Debug)]
pub struct Rule {
    /// The credential-scope service: `dynamodb`, `sns`, `ecs`, …
    pub service: String,
    /// One operation (`PutItem`, `Publish`), or every operation.
    pub operation: Option<String>,
    /// Share of the matching requests to fail, 0.0 to 1.0.
    pub share: f64,
    /// The faults to pick from, with weights.
    pub faults: Vec<(Fault, u32)>,
}

impl Rule {
    /// `share` of every request to `service`, with the usual mix: 500s, throttling
    /// and resets alike, and one slow reply in sixty (each costs
    /// real time: the SDK's timeout is a wall-clock one).
    pub fn service(service: &str, share: f64) -> Self {
        Self {
            service: service.to_owned(),
            operation: None,
            share,
            faults: vec![
                (Fault::ServerError, 19),
                (Fault::Throttle, 19),
                (Fault::Reset, 19),
                (Fault::Slow, 1),
            ],
        }
    }
}

/// Fail `count` consecutive requests to a service, starting with its `after`-th
/// (0-based): an outage that outlasts the retries.
#[derive(Clone, Debug)]
pub struct Outage {
    /// The credential-scope service.
    pub service: String,
    /// Requests let through first.
    pub after: usize,
    /// Requests failed (with HTTP 500).
    pub count: usize,
}

/// What to inject.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Seed of the choice of requests and faults.
    pub seed: u64,
    /// Shares of failures.
    pub rules: Vec<Rule>,
    /// Outages.
    pub outages: Vec<Outage>,
    /// After every `n`-th successful SNS publish, fail the DynamoDB writes that
    /// follow (`PutItem`, `TransactWriteItems`) until `writes` of them have failed.
    pub fail_writes_after_publish: Option<(usize, usize)>,
    /// How long a [`Fault::Slow`] request is held.
    pub slow: Duration,
    /// Forward DynamoDB requests one at a time.
    pub serialize_dynamodb: bool,
}

/// How the proxy answered one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded to moto; its status.
    Forwarded(u16),
    /// Failed by the proxy.
    Injected(Fault),
    /// Answered by the proxy itself (CloudWatch; ECS's Service Deployments API).
    Stubbed,
}

/// One request the proxy saw.
#[derive(Clone, Debug)]
pub struct Call {
    /// Order of arrival.
    pub seq: usize,
    /// The credential-scope service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// What happened to it.
    pub outcome: Outcome,
    /// For an SNS `Publish`: the `id` of the alert in the message body.
    pub alert_id: Option<String>,
    /// From the request's arrival to its answer. A forwarded request answered after
    /// the client's attempt timeout happened in moto though the client saw a
    /// timeout (and retried): as in AWS, where a timed-out call may have succeeded.
    pub elapsed: Duration,
    /// Request body bytes.
    pub request_bytes: usize,
    /// For a DynamoDB `BatchExecuteStatement`: each statement's bytes (its JSON,
    /// parameters included), which DynamoDB bills as an item each.
    pub statement_bytes: Vec<usize>,
    /// Response body bytes (0 when the proxy answered).
    pub response_bytes: usize,
}

impl Call {
    /// Moto answered it with a 2xx (or the proxy stubbed it).
    pub fn succeeded(&self) -> bool {
        match self.outcome {
            Outcome::Forwarded(s) => (200..300).contains(&s),
            Outcome::Stubbed => true,
            Outcome::Injected(_) => false,
        }
    }
}
