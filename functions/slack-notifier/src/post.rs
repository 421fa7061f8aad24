//! Posting to the webhook: retries for what Slack asks us to retry, within the
//! invocation's time.
//!
//! Slack answers 429 with `Retry-After` (seconds) when a channel gets more than about
//! one message per second, and 5xx when it is having a bad moment. Both are worth
//! another try here: it is cheaper than failing the invocation and having Lambda
//! retry it a minute later. But a retry must never outlive the function's timeout: a Lambda
//! killed mid-sleep reports nothing useful, and its failure is not counted. So every
//! wait is checked against the deadline first; when the next attempt cannot fit, the
//! post fails now with the last answer, the invocation fails, Lambda retries it
//! (twice, as for any asynchronous invocation) and then sends it to the function's
//! on-failure destination, and `AlertPublishFailures` counts it.
//! Any other 4xx (`invalid_payload`, `no_service`, `channel_is_archived`) is final:
//! repeating the same request cannot change the answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rollout_watcher::adapters::sdk::mozilla_root_store;
use thiserror::Error;
use tokio::time::{Instant, sleep, timeout};

use crate::webhook::{BoxError, WebhookUrl};

/// How hard to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait after the first failure without `Retry-After`; doubled each time.
    pub first_backoff: Duration,
    /// The longest wait without `Retry-After`.
    pub max_backoff: Duration,
    /// One request's time limit (connect, send, read the answer).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, 0.5 s doubling to 4 s, 5 s per request: fits the module's
    /// default 15 s timeout with one `Retry-After: 1` or two quick 5xx to spare.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(4),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

/// What one attempt got back, when it was not a success.
#[derive(Debug, Error)]
pub enum Failure {
    /// Slack answered with an error status (its body is Slack's error code).
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the body (`invalid_payload`, `rate_limited`, …).
        body: String,
    },
    /// The request did not complete (connect, TLS, reset).
    #[error("request failed")]
    Transport(#[source] BoxError),
    /// No answer within the attempt's time limit.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// The post failed for good.
#[derive(Debug, Error)]
pub enum PostError {
    /// A final answer (4xx other than 429): retrying cannot help.
    #[error("Slack rejected the message")]
    Rejected(#[source] Failure),
    /// Retryable failures, every attempt used.
    #[error("gave up after {attempts} attempts")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Failure,
    },
    /// The next attempt would not finish before the invocation's deadline.
    #[error("out of time after {attempts} attempts")]
    OutOfTime {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Failure,
    },
    /// The HTTP client could not be built (rustls refused its configuration).
    #[error("HTTPS client: {0}")]
    Client(#[source] std::io::Error),
}

impl PostError {
    /// Whether Slack refused the message's blocks (`invalid_blocks`,
    /// `invalid_blocks_format`) rather than the message: the same alert as text
    /// can still go through.
    pub fn layout_refused(&self) -> bool {
        matches!(
            self,
            Self::Rejected(Failure::Status { status: 400, body }) if body.trim().starts_with("invalid_blocks")
        )
    }

    /// Whether Slack says the webhook itself is gone (revoked, rotated, channel
    /// deleted): then the cached URL is stale.
    pub fn webhook_gone(&self) -> bool {
        matches!(
            self,
            Self::Rejected(Failure::Status {
                status: 403 | 404 | 410,
                ..
            })
        )
    }
}

/// A delivered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Attempts it took.
    pub attempts: u32,
}

/// The webhook client.
#[derive(Clone, Debug)]
pub struct SlackClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    policy: RetryPolicy,
}

impl SlackClient {
    /// Builds the client over the same compiled-in Mozilla roots as the function's SDK
    /// clients: reading the platform's certificate directory cost milliseconds of
    /// every cold start (a second time, after the SDK's own read).
    pub fn new(policy: RetryPolicy) -> Result<Self, PostError> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| PostError::Client(std::io::Error::other(e)))?
        .with_root_certificates(mozilla_root_store())
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            // Plain http only ever reaches loopback: WebhookUrl refuses it elsewhere.
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new()).build(https);
        Ok(Self { http, policy })
    }

    /// Posts `payload` (JSON), retrying 429 and 5xx until `deadline`.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        payload: Bytes,
        deadline: Instant,
    ) -> Result<Delivered, PostError> {
        let mut attempts = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let limit = self.policy.attempt_timeout.min(remaining);
            attempts += 1;
            let (failure, retry_after) = match self.attempt(url, payload.clone(), limit).await {
                Ok(()) => return Ok(Delivered { attempts }),
                Err(answer) => answer,
            };
            if let Failure::Status { status, .. } = failure {
                let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                if code.is_client_error() && code != StatusCode::TOO_MANY_REQUESTS {
                    return Err(PostError::Rejected(failure));
                }
            }
            if attempts >= self.policy.max_attempts {
                return Err(PostError::GaveUp {
                    attempts,
                    last: failure,
                });
            }
            let wait = retry_after.unwrap_or_else(|| self.backoff(attempts));
            // The next attempt needs its wait plus a little time to be worth making.
            let needed = wait + self.policy.attempt_timeout.min(Duration::from_secs(1));
            if Instant::now() + needed > deadline {
                return Err(PostError::OutOfTime {
                    attempts,
                    last: failure,
                });
            }
            tracing::warn!(attempt = attempts, error = %failure, wait_ms = wait.as_millis() as u64, "Slack did not accept the message; retrying");
            sleep(wait).await;
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.policy
            .first_backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff)
    }

    /// One request: `Ok` on 2xx, else the failure and any `Retry-After`.
    async fn attempt(
        &self,
        url: &WebhookUrl,
        payload: Bytes,
        limit: Duration,
    ) -> Result<(), (Failure, Option<Duration>)> {
        let request = Request::post(url.uri().clone())
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(
                header::USER_AGENT,
                concat!("rollout-watcher-slack-notifier/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(payload))
            .map_err(|e| (Failure::Transport(e.into()), None))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| Failure::Transport(e.into()))?;
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = Limited::new(response.into_body(), 4096).collect().await;
            let body = body.map(|b| b.to_bytes()).unwrap_or_default();
            Ok::<_, Failure>((status, retry_after, body))
        };
        let (status, retry_after, body) = timeout(limit, exchange)
            .await
            .map_err(|_| (Failure::Timeout(limit), None))?
            .map_err(|f| (f, None))?;
        if status.is_success() {
            return Ok(());
        }
        let body: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        Err((
            Failure::Status {
                status: status.as_u16(),
                body,
            },
            retry_after,
        ))
    }
}

/// `Retry-After` in seconds (Slack's form). An HTTP date is ignored: backoff applies.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = SlackClient::new(RetryPolicy::default()).unwrap();
        let waits: Vec<u128> = (1..=5).map(|n| c.backoff(n).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 4000]);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = http::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn a_gone_webhook_is_told_apart() {
        let gone = PostError::Rejected(Failure::Status {
            status: 404,
            body: "no_service".into(),
        });
        assert!(gone.webhook_gone());
        let bad = PostError::Rejected(Failure::Status {
            status: 400,
            body: "invalid_payload".into(),
        });
        assert!(!bad.webhook_gone());
    }
}
