//! A stand-in for Slack's incoming-webhook endpoint on 127.0.0.1: it records every
//! request and answers from a script (then `200 ok`, as Slack does).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// `200 ok`.
    pub fn ok() -> Self {
        Self::status(200, "ok")
    }

    /// Any status with Slack's error code as the body.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_owned(),
        }
    }

    /// `429 rate_limited` with `Retry-After: secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Self {
            status: 429,
            headers: vec![("Retry-After".into(), secs.to_string())],
            body: "rate_limited".into(),
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    after: Option<Reply>,
    received: Vec<Received>,
}

/// The fake webhook.
pub struct FakeSlack {
    /// The webhook URL to give the function.
    pub url: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl FakeSlack {
    /// Answers `script` in order, then `200 ok`.
    pub async fn start(script: Vec<Reply>) -> Self {
        Self::with_default(script, Reply::ok()).await
    }

    /// Answers `script` in order, then `after` forever.
    pub async fn with_default(script: Vec<Reply>, after: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            after: Some(after),
            received: vec![],
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/services/T0TEST/B0TEST/s3cr3tT0k3n"),
            state,
            task,
        }
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let reply = {
        let mut s = state.lock().unwrap();
        s.received.push(Received {
            at: Instant::now(),
            method: request_line.first().copied().unwrap_or("").to_owned(),
            path: request_line.get(1).copied().unwrap_or("").to_owned(),
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        match s.script.pop_front() {
            Some(r) => r,
            None => s.after.clone().unwrap_or_else(Reply::ok),
        }
    };
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
