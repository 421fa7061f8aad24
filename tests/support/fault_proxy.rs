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
//! success) so PutMetricData calls can be counted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::moto::REGION;

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
    /// Answered by the proxy itself (CloudWatch).
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

#[derive(Default)]
struct Book {
    plan: Plan,
    calls: Vec<Call>,
    ordinals: BTreeMap<(String, String), usize>,
    per_service: BTreeMap<String, usize>,
    publishes_ok: usize,
    armed_writes: usize,
    rule_hits: BTreeMap<usize, usize>,
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    book: Mutex<Book>,
    dynamodb: tokio::sync::Mutex<()>,
}

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
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
            book: Mutex::new(Book {
                plan,
                ..Book::default()
            }),
            dynamodb: tokio::sync::Mutex::new(()),
        });
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

/// What to do with a request.
enum Action {
    Forward,
    Inject(Fault),
    Stub,
}

impl Shared {
    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, ResetConnection> {
        let arrived = tokio::time::Instant::now();
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let service = credential_service(&parts.headers).unwrap_or_else(|| "unknown".into());
        let operation = operation(&parts, &body).unwrap_or_else(|| "unknown".into());
        let alert_id = (service == "sns" && operation == "Publish")
            .then(|| alert_id(&body))
            .flatten();
        let (seq, action, slow) = self.decide(&service, &operation);
        match action {
            Action::Inject(Fault::Reset) => {
                self.record(
                    (seq, &service, &operation, arrived),
                    Outcome::Injected(Fault::Reset),
                    None,
                );
                return Err(ResetConnection);
            }
            Action::Inject(Fault::Slow) => {
                self.record(
                    (seq, &service, &operation, arrived),
                    Outcome::Injected(Fault::Slow),
                    None,
                );
                tokio::time::sleep(slow).await;
                return Ok(error_response(&service, &operation, Fault::ServerError));
            }
            Action::Inject(f) => {
                self.record(
                    (seq, &service, &operation, arrived),
                    Outcome::Injected(f),
                    None,
                );
                return Ok(error_response(&service, &operation, f));
            }
            Action::Stub => {
                self.record((seq, &service, &operation, arrived), Outcome::Stubbed, None);
                return Ok(stub_response());
            }
            Action::Forward => {}
        };
        // In a task of its own: a client that times out drops this future, but the
        // request still reaches moto and must still be recorded (a late call).
        let me = self.clone();
        let call = Call {
            seq,
            service,
            operation,
            outcome: Outcome::Forwarded(0),
            alert_id,
            elapsed: Duration::ZERO,
            request_bytes: body.len(),
            response_bytes: 0,
        };
        tokio::spawn(async move { me.forwarded(call, arrived, parts, body).await })
            .await
            .unwrap_or(Err(ResetConnection))
    }

    async fn forwarded(
        &self,
        mut call: Call,
        arrived: tokio::time::Instant,
        parts: http::request::Parts,
        body: Bytes,
    ) -> Result<Response<Full<Bytes>>, ResetConnection> {
        let result = self.forward(&call.service, parts, body).await;
        call.elapsed = arrived.elapsed();
        let response = match result {
            Ok((r, got)) => {
                call.outcome = Outcome::Forwarded(r.status().as_u16());
                call.response_bytes = got;
                r
            }
            Err(_) => {
                call.outcome = Outcome::Forwarded(502);
                self.book().calls.push(call);
                return Err(ResetConnection);
            }
        };
        let mut book = self.book();
        if call.service == "sns" && call.operation == "Publish" && call.succeeded() {
            book.publishes_ok += 1;
            if let Some((every, writes)) = book.plan.fail_writes_after_publish
                && every > 0
                && book.publishes_ok.is_multiple_of(every)
            {
                book.armed_writes = writes;
            }
        }
        book.calls.push(call);
        Ok(response)
    }

    fn record(
        &self,
        (seq, service, operation, arrived): (usize, &str, &str, tokio::time::Instant),
        outcome: Outcome,
        alert_id: Option<String>,
    ) {
        self.book().calls.push(Call {
            seq,
            service: service.to_owned(),
            operation: operation.to_owned(),
            outcome,
            alert_id,
            elapsed: arrived.elapsed(),
            request_bytes: 0,
            response_bytes: 0,
        });
    }

    fn decide(&self, service: &str, operation: &str) -> (usize, Action, Duration) {
        let mut book = self.book();
        let seq = book.calls.len();
        let ordinal = {
            let n = book
                .ordinals
                .entry((service.to_owned(), operation.to_owned()))
                .or_insert(0);
            *n += 1;
            *n - 1
        };
        let in_service = {
            let n = book.per_service.entry(service.to_owned()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let plan = &book.plan;
        let slow = plan.slow;
        if service == "monitoring" {
            return (seq, Action::Stub, slow);
        }
        if plan
            .outages
            .iter()
            .any(|o| o.service == service && (o.after..o.after + o.count).contains(&in_service))
        {
            return (seq, Action::Inject(Fault::ServerError), slow);
        }
        let is_write = service == "dynamodb"
            && matches!(operation, "PutItem" | "TransactWriteItems" | "UpdateItem");
        if is_write && book.armed_writes > 0 {
            book.armed_writes -= 1;
            return (seq, Action::Inject(Fault::ServerError), slow);
        }
        let plan = &book.plan;
        let mut chosen = None;
        for (r, rule) in plan.rules.iter().enumerate() {
            let matches =
                rule.service == service && rule.operation.as_deref().is_none_or(|o| o == operation);
            if !matches {
                continue;
            }
            let h = mix(plan.seed, service, operation, ordinal as u64);
            if (h % 1_000_000) as f64 >= rule.share * 1_000_000.0 {
                continue;
            }
            chosen = Some((r, h));
            break;
        }
        let Some((r, h)) = chosen else {
            return (seq, Action::Forward, slow);
        };
        // The first faults of a rule go through its kinds in turn, so each kind is
        // injected even where few requests match; then they are picked by weight.
        let hits = book.rule_hits.entry(r).or_insert(0);
        *hits += 1;
        let nth = *hits - 1;
        let rule = &book.plan.rules[r];
        if let Some((fault, _)) = rule.faults.get(nth) {
            return (seq, Action::Inject(*fault), slow);
        }
        let total: u32 = rule.faults.iter().map(|(_, w)| w).sum();
        let mut pick = ((h >> 32) % u64::from(total.max(1))) as u32;
        for (fault, w) in &rule.faults {
            if pick < *w {
                return (seq, Action::Inject(*fault), slow);
            }
            pick -= w;
        }
        (seq, Action::Forward, slow)
    }

    async fn forward(
        &self,
        service: &str,
        parts: http::request::Parts,
        body: Bytes,
    ) -> anyhow::Result<(Response<Full<Bytes>>, usize)> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let mut builder = Request::builder()
            .method(parts.method)
            .uri(format!("{}{path}", self.upstream));
        for (k, v) in &parts.headers {
            if !is_hop_by_hop(k.as_str()) {
                builder = builder.header(k, v);
            }
        }
        let request = builder.body(Full::new(body))?;
        let _serial = if service == "dynamodb" && self.book().plan.serialize_dynamodb {
            Some(self.dynamodb.lock().await)
        } else {
            None
        };
        let response = self.client.request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        let size = body.len();
        let mut out = Response::builder().status(parts.status);
        for (k, v) in &parts.headers {
            if !is_hop_by_hop(k.as_str()) {
                out = out.header(k, v);
            }
        }
        Ok((out.body(Full::new(body))?, size))
    }
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "transfer-encoding" | "upgrade" | "proxy-connection"
    )
}

/// A well-mixed 64-bit hash of the request's identity (SplitMix64 over FNV-1a).
fn mix(seed: u64, service: &str, operation: &str, ordinal: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in service.bytes().chain([0]).chain(operation.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ ordinal.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `dynamodb` from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/dynamodb/aws4_request, …`.
pub fn credential_service(headers: &http::HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(3).map(str::to_owned)
}

/// The operation: `X-Amz-Target`'s suffix, the `Action=` form field, or the CBOR path.
fn operation(parts: &http::request::Parts, body: &[u8]) -> Option<String> {
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return target.rsplit('.').next().map(str::to_owned);
    }
    if let Some(op) = parts.uri.path().split("/operation/").nth(1) {
        return Some(op.to_owned());
    }
    form_field(body, "Action")
}

/// One field of an `application/x-www-form-urlencoded` body, decoded.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The alert's `id` inside an SNS Publish's `Message`.
fn alert_id(body: &[u8]) -> Option<String> {
    let message = form_field(body, "Message")?;
    let v: serde_json::Value = serde_json::from_str(&message).ok()?;
    v["id"].as_str().map(str::to_owned)
}

fn error_response(service: &str, operation: &str, fault: Fault) -> Response<Full<Bytes>> {
    let throttle = fault == Fault::Throttle;
    let status = if throttle {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let (content_type, body) = match service {
        "dynamodb" => {
            // Both throttling errors DynamoDB answers with, alternately by operation.
            let kind = match (throttle, operation.len() % 2) {
                (true, 0) => "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                (true, _) => {
                    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
                }
                (false, _) => "com.amazon.coral.service#InternalFailure",
            };
            (
                "application/x-amz-json-1.0",
                format!(r#"{{"__type":"{kind}","message":"injected by the fault proxy"}}"#),
            )
        }
        "sns" => {
            let (kind, code) = if throttle {
                ("Sender", "Throttling")
            } else {
                ("Receiver", "InternalError")
            };
            (
                "text/xml",
                format!(
                    r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#
                ),
            )
        }
        _ => {
            let kind = if throttle {
                "ThrottlingException"
            } else {
                "ServerException"
            };
            (
                "application/x-amz-json-1.1",
                format!(r#"{{"__type":"{kind}","message":"injected by the fault proxy"}}"#),
            )
        }
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// PutMetricData's success in the RPC v2 CBOR protocol: an empty map.
fn stub_response() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .body(Full::new(Bytes::from_static(&[0xa0])))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let body = b"Action=Publish&Message=%7B%22id%22%3A%22a+b%22%7D&Version=2010-03-31";
        assert_eq!(form_field(body, "Action").as_deref(), Some("Publish"));
        assert_eq!(alert_id(body).as_deref(), Some("a b"));
    }

    #[test]
    fn the_choice_is_spread() {
        let hits = (0..10_000)
            .filter(|n| mix(7, "sns", "Publish", *n) % 1_000_000 < 200_000)
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
    }
}
