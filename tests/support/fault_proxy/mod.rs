//! A fault-injecting HTTP proxy on 127.0.0.1, between the real SDK clients and moto.
//!
//! Why a proxy and not mocks: the adapters' error mapping, the SDK's own retry
//! strategy and timeouts, and the handler's retries must all meet the failures the
//! way they meet them in AWS, byte for byte. The proxy tells calls apart as AWS does:
//! the service from the `Authorization` header's credential scope
//! (`Credential=…/eu-west-1/dynamodb/aws4_request`), the operation from
//! `X-Amz-Target` (JSON protocols: DynamoDB, ECS, SQS, Secrets Manager), the
//! `Action=` form field (query protocol: SNS), or the path (CloudWatch's CBOR).
//!
//! What it injects, per service and operation, for a chosen share of requests (the
//! choice is a hash of the seed, the service, the operation and the request's
//! ordinal for that pair, so a sequential run fails the same requests every time;
//! a rule's first faults go through its kinds in turn, then they are picked by
//! weight):
//! - [`Fault::ServerError`]: HTTP 500 in the protocol's shape;
//! - [`Fault::Throttle`]: DynamoDB's `ThrottlingException` or
//!   `ProvisionedThroughputExceededException`, ECS's `ThrottlingException`, SNS's
//!   query-XML `Throttling`;
//! - [`Fault::Reset`]: the connection is reset (RST) without an answer;
//! - [`Fault::Slow`]: the answer is held past the SDK's attempt timeout.
//!
//! None of these reaches moto, so an injected fault never half-happens. Two more
//! rules: an [`Outage`] fails a run of consecutive requests (long enough to outlast
//! the SDK's and Lambda's retries), and [`Plan::fail_writes_after_publish`] fails the
//! DynamoDB write that follows a successful SNS publish: the "crash between publish
//! and mark-sent" window of DESIGN.md "Delivery".
//!
//! Moto's conditional writes are not atomic across its request threads; with
//! [`Plan::serialize_dynamodb`] the proxy forwards DynamoDB requests one at a time,
//! so a race between handlers tests the handler, not moto. CloudWatch's CBOR
//! protocol, which moto does not speak, is answered by the proxy itself (an empty
//! success) so PutMetricData calls can be counted. So are ECS's
//! `ListServiceDeployments` and `DescribeServiceDeployments`, which moto lacks: from
//! a script ([`FaultProxy::set_service_deployments`], see `deployments`), after the
//! outages and rules, so they can fail like any other call.

mod deployments;
mod forward;
mod plan;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::moto::REGION;
use forward::Shared;

pub use plan::{Call, Fault, Outage, Outcome, Plan, Rule};
pub use wire::{credential_service, form_field};

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: the endpoint URL to give the SDK clients.
    pub endpoint: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The connection is to be reset (hyper drops it; zero linger makes that an RST).
#[derive(Debug, thiserror::Error)]
#[error("injected connection reset")]
pub struct ResetConnection;

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (moto's endpoint).
    pub async fn start(upstream: &str, plan: Plan) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the proxy")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::new(upstream, plan));
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let _ = stream.set_zero_linger();
                let shared = serving.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { shared.handle(req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(Self {
            endpoint,
            shared,
            task,
        })
    }

    /// Replaces the plan (the request ordinals carry on).
    pub fn set_plan(&self, plan: Plan) {
        self.shared.book().plan = plan;
    }

    /// What the Service Deployments API answers from now on: one `ServiceDeployment`
    /// object per deployment, as DescribeServiceDeployments returns it on the wire.
    pub fn set_service_deployments(&self, deployments: Vec<serde_json::Value>) {
        self.shared.book().service_deployments = deployments;
    }

    /// Every request so far, in order of arrival.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.book().calls.clone()
    }

    /// Requests seen so far.
    pub fn call_count(&self) -> usize {
        self.shared.book().calls.len()
    }

    /// The requests from the `from`-th on.
    pub fn calls_since(&self, from: usize) -> Vec<Call> {
        self.shared
            .book()
            .calls
            .get(from..)
            .map(<[Call]>::to_vec)
            .unwrap_or_default()
    }

    /// Requests per (service, operation) so far.
    pub fn counts(&self) -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for c in self.shared.book().calls.iter() {
            *out.entry((c.service.clone(), c.operation.clone()))
                .or_insert(0) += 1;
        }
        out
    }

    /// Injected faults per (service, fault) so far.
    pub fn injected(&self) -> BTreeMap<(String, Fault), usize> {
        let mut out = BTreeMap::new();
        for c in self.shared.book().calls.iter() {
            if let Outcome::Injected(f) = c.outcome {
                *out.entry((c.service.clone(), f)).or_insert(0) += 1;
            }
        }
        out
    }

    /// An SDK configuration for clients that go through this proxy: the deployed
    /// retry strategy (standard, 3 attempts) with its backoff shrunk to `backoff` so
    /// a run with many faults takes seconds, and an attempt timeout of
    /// `attempt_timeout` (the deployed clients use 5 s, `adapters::sdk::timeouts`, too
    /// long for a test that holds replies on purpose).
    pub async fn sdk_config(&self, attempt_timeout: Duration, backoff: Duration) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(backoff)
                    .with_max_backoff(backoff * 4),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(attempt_timeout)
                    .connect_timeout(Duration::from_secs(2))
                    .build(),
            )
            .load()
            .await
    }
}
