//! A local Lambda Runtime API, just enough to drive a bootstrap binary as Lambda
//! does: `GET /2018-06-01/runtime/invocation/next` hands out queued events (and
//! holds the request while none is queued, like Lambda), `POST …/{id}/response`,
//! `POST …/{id}/error` and `POST …/init/error` are recorded for the test to read.
//!
//! Plain HTTP/1.1 over tokio with keep-alive and `Content-Length` or chunked
//! bodies: the runtime client (hyper) reuses one connection for every call.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Notify};

/// What the function posted back.
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    /// `/invocation/{id}/response`.
    Response(String, Value),
    /// `/invocation/{id}/error`.
    Error(String, Value),
    /// `/init/error`.
    InitError(Value),
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, Value)>,
    posted: Vec<Posted>,
}

/// The fake Runtime API.
#[derive(Clone)]
pub struct RuntimeApi {
    inner: Arc<Mutex<Inner>>,
    queued: Arc<Notify>,
    posted: Arc<Notify>,
    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = Self {
            inner: Arc::default(),
            queued: Arc::default(),
            posted: Arc::default(),
            address: listener.local_addr()?.to_string(),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = server.clone();
                tokio::spawn(async move { conn.serve(stream).await });
            }
        });
        Ok(api)
    }

    /// Queues an invocation.
    pub async fn invoke(&self, request_id: &str, event: Value) {
        self.inner
            .lock()
            .await
            .queue
            .push_back((request_id.to_owned(), event));
        self.queued.notify_waiters();
    }

    /// Waits until `n` posts were recorded (or `timeout`), returns them all.
    pub async fn wait_posted(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.posted.notified();
            {
                let inner = self.inner.lock().await;
                if inner.posted.len() >= n {
                    return Ok(inner.posted.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let got = self.inner.lock().await.posted.clone();
                bail!("expected {n} posts from the function within {timeout:?}, got {got:?}");
            }
        }
    }

    async fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream);
        while let Ok(Some((method, path, body))) = read_request(&mut reader).await {
            let (status, headers, reply) = self.route(&method, &path, body).await;
            let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", reply.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            // Head and body in one write, as a buffered HTTP server (Go's net/http,
            // which Lambda's runtime interface emulator uses) sends a small reply: the
            // runtime client drops the `{"status":"OK"}` of a posted response unread,
            // and hyper keeps the connection only if that body came with the head
            // (else every invocation opened a new connection, unlike Lambda).
            let mut message = head.into_bytes();
            message.extend_from_slice(&reply);
            if reader.get_mut().write_all(&message).await.is_err() {
                return;
            }
        }
    }

    async fn route(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
        let parsed = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
        let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or(path);
        match (method, rest) {
            ("GET", "invocation/next") => {
                let (id, event) = self.next().await;
                let headers = vec![
                    ("lambda-runtime-aws-request-id".into(), id),
                    ("lambda-runtime-deadline-ms".into(), deadline_ms()),
                    (
                        "lambda-runtime-invoked-function-arn".into(),
                        "arn:aws:lambda:eu-west-1:123456789012:function:ecs-event-handler".into(),
                    ),
                    (
                        "lambda-runtime-trace-id".into(),
                        "Root=1-00000000-000000000000000000000000".into(),
                    ),
                    ("content-type".into(), "application/json".into()),
                ];
                ("200 OK", headers, event.to_string().into_bytes())
            }
            ("POST", "init/error") => self.record(Posted::InitError(parsed())).await,
            ("POST", r) if r.starts_with("invocation/") => {
                let mut parts = r.trim_start_matches("invocation/").splitn(2, '/');
                let id = parts.next().unwrap_or_default().to_owned();
                match parts.next() {
                    Some("response") => self.record(Posted::Response(id, parsed())).await,
                    Some("error") => self.record(Posted::Error(id, parsed())).await,
                    _ => ("404 Not Found", vec![], vec![]),
                }
            }
            _ => ("404 Not Found", vec![], vec![]),
        }
    }

    async fn record(&self, p: Posted) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
        self.inner.lock().await.posted.push(p);
        self.posted.notify_waiters();
        ("202 Accepted", vec![], b"{\"status\":\"OK\"}".to_vec())
    }

    async fn next(&self) -> (String, Value) {
        loop {
            let notified = self.queued.notified();
            if let Some(e) = self.inner.lock().await.queue.pop_front() {
                return e;
            }
            notified.await;
        }
    }
}

fn deadline_ms() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_millis() + 30_000).to_string()
}

/// One request: method, path, body. `None` at a clean end of the connection.
async fn read_request(
    r: &mut BufReader<TcpStream>,
) -> anyhow::Result<Option<(String, String, Vec<u8>)>> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().context("request line")?.to_owned();
    let path = parts.next().context("request path")?.to_owned();
    let (mut length, mut chunked) = (0_usize, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).await?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse()?;
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).await?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        r.read_exact(&mut body).await?;
    }
    Ok(Some((method, path, body)))
}
