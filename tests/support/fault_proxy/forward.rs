//! The proxy's shared state ([`Shared`]: the upstream client and the [`Book`] of
//! requests, ordinals and armed faults) and the path of one request through it:
//! decide, inject or forward, record.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::ResetConnection;
use super::deployments;
use super::plan::{Call, Fault, Outcome, Plan};
use super::wire::{
    alert_id, credential_service, error_response, is_hop_by_hop, mix, operation, stub_response,
};

#[derive(Default)]
pub(super) struct Book {
    pub(super) plan: Plan,
    pub(super) calls: Vec<Call>,
    ordinals: BTreeMap<(String, String), usize>,
    per_service: BTreeMap<String, usize>,
    publishes_ok: usize,
    armed_writes: usize,
    rule_hits: BTreeMap<usize, usize>,
    /// What the proxy's Service Deployments API knows (see `deployments`).
    pub(super) service_deployments: Vec<serde_json::Value>,
}

pub(super) struct Shared {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    book: Mutex<Book>,
    dynamodb: tokio::sync::Mutex<()>,
}

/// What to do with a request.
enum Action {
    Forward,
    Inject(Fault),
    Stub,
    /// Answered from the Service Deployments script (moto lacks the API).
    Answer,
}

impl Shared {
    /// Forwards to `upstream` (moto's endpoint), injecting what `plan` says.
    pub(super) fn new(upstream: &str, plan: Plan) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
            book: Mutex::new(Book {
                plan,
                ..Book::default()
            }),
            dynamodb: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) async fn handle(
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
        let (seq, action, slow) = match self.decide(&service, &operation) {
            // What moto lacks is answered here, unless a fault was chosen for it.
            (seq, Action::Forward, slow) if deployments::answers(&service, &operation) => {
                (seq, Action::Answer, slow)
            }
            decided => decided,
        };
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
            Action::Answer => {
                let script = self.book().service_deployments.clone();
                self.record((seq, &service, &operation, arrived), Outcome::Stubbed, None);
                return Ok(deployments::answer(&script, &operation, &body));
            }
            Action::Forward => {}
        };
        // In a task of its own: a client that times out drops this future, but the
        // request still reaches moto and must still be recorded (a late call).
        let me = self.clone();
        let statement_bytes = statement_bytes(&operation, &body);
        let call = Call {
            seq,
            service,
            operation,
            outcome: Outcome::Forwarded(0),
            alert_id,
            elapsed: Duration::ZERO,
            request_bytes: body.len(),
            statement_bytes,
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
            statement_bytes: Vec::new(),
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

/// Each statement's size in a `BatchExecuteStatement` body (empty for any other
/// operation, or a body that is not JSON).
fn statement_bytes(operation: &str, body: &[u8]) -> Vec<usize> {
    if operation != "BatchExecuteStatement" {
        return Vec::new();
    }
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    request["Statements"]
        .as_array()
        .map(|all| all.iter().map(|s| s.to_string().len()).collect())
        .unwrap_or_default()
}
