//! Secrets stay out of the logs: both bootstrap binaries, run as Lambda runs them,
//! against the emulator, with their logs captured whole.
//!
//! The other security checks live next to what they check: the IAM policies in
//! `infra/tests/test_consistency.py` (no wildcard action, every resource named or its
//! `"*"` justified, every policy from a policy document), Slack escaping in
//! `functions/slack-notifier/src/escape.rs` (property tests: no `<`, `>` or control
//! sequence survives, escaping round-trips, cutting stays within bounds).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use integration_tests::binaries::as_lambda;
use integration_tests::moto::Moto;
use integration_tests::runtime_api::{Posted, RuntimeApi};
use integration_tests::stack::{self, SnsMessage, TABLE};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::Child;

/// The webhook's path token: what makes the URL a credential.
const TOKEN: &str = "T0SECRET1/B0SECRET2/xoxbSecretPathToken0123456789";
/// An AWS secret key no log line may carry either.
const AWS_SECRET: &str = "wJalrXUtnFEMIxK7MDENGbPxRfiCYsecretKEY42";

/// A stand-in for Slack's webhook endpoint: answers 500 to the first post (so the
/// retry path logs), 404 `no_service` once `gone` is set (so the failure path
/// logs), 200 `ok` otherwise; records the paths it was asked for.
#[derive(Clone, Default)]
struct Slack {
    paths: Arc<Mutex<Vec<String>>>,
    gone: Arc<std::sync::atomic::AtomicBool>,
}

impl Slack {
    async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/services/{TOKEN}", listener.local_addr().unwrap());
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<_>| {
                        let me = me.clone();
                        async move { me.answer(req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        url
    }

    async fn answer(
        &self,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let path = req.uri().path().to_owned();
        let _ = req.into_body().collect().await?;
        let n = {
            let mut paths = self.paths.lock().unwrap();
            paths.push(path);
            paths.len()
        };
        let (status, body) = if self.gone.load(std::sync::atomic::Ordering::SeqCst) {
            (404, "no_service")
        } else if n == 1 {
            (500, "internal_error")
        } else {
            (200, "ok")
        };
        Ok(Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body)))
            .unwrap())
    }
}

/// A running bootstrap binary whose stdout and stderr are read as it writes them
/// (a full pipe would stall it).
struct Function {
    child: Child,
    readers: Vec<tokio::task::JoinHandle<String>>,
}

/// Starts a bootstrap binary against a Runtime API and the emulator, at DEBUG log
/// level (more than the deployed INFO), with stdout and stderr captured.
fn spawn(name: &str, api: &RuntimeApi, moto: &Moto, env: &[(&str, &str)]) -> Function {
    let mut cmd = as_lambda(name, api, moto);
    cmd.env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("starting a bootstrap binary");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let readers = vec![
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text).await;
            text
        }),
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        }),
    ];
    Function { child, readers }
}

/// Everything the process wrote, stdout and stderr, after it was stopped.
async fn logs_of(mut f: Function) -> String {
    let _ = f.child.kill().await;
    let mut out = String::new();
    for r in f.readers {
        out.push_str(&r.await.unwrap());
        out.push('\n');
    }
    out
}

/// The Lambda event SNS gives a subscribed function for one message.
fn sns_event(m: &SnsMessage, i: usize) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), json!({"Type": "String", "Value": v})))
        .collect();
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts:5f2c",
        "Sns": {
            "Type": "Notification",
            "MessageId": format!("00000000-0000-0000-0000-{i:012}"),
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts",
            "Subject": m.subject,
            "Message": m.body.to_string(),
            "Timestamp": "2026-03-02T10:15:02.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": attributes,
        }
    }]})
}

/// A health-check rollback and a zero-running rollout go through the
/// ecs-event-handler binary; every alert it published then goes through the
/// slack-notifier binary, whose webhook URL is a Secrets Manager secret in moto.
/// Slack first fails once (a retry), then accepts, and finally says the webhook is
/// gone (a failed invocation, the secret read again). Both run at DEBUG level.
/// Neither process's stdout or stderr holds the webhook URL, its path token, any
/// part of the token, or the AWS secret key, while the posts did reach the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_the_webhook_url_or_a_secret() {
    // given
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let slack = Slack::default();
    let url = slack.start().await;
    let secret = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .create_secret()
        .name("rollout-watcher/slack-webhook")
        .secret_string(&url)
        .send()
        .await
        .unwrap();
    let secret_arn = secret.arn().unwrap().to_owned();
    let mut events = Vec::new();
    for scenario in [Scenario::HealthCheckRollback, Scenario::ZeroRunning] {
        let params = Params {
            desired: 2,
            ..Params::defaults(scenario)
        };
        events.extend(simulate(&params).unwrap().events);
    }

    // when: the stream through the event handler
    let api = RuntimeApi::start().await.unwrap();
    let handler = spawn(
        "ecs-event-handler",
        &api,
        &moto,
        &[
            ("STATE_TABLE", TABLE),
            ("ALERT_TOPIC_ARN", &stack.topic_arn),
        ],
    );
    for (i, e) in events.iter().enumerate() {
        api.invoke(&format!("h-{i}"), e.clone()).await;
    }
    let posted = api
        .wait_posted(events.len(), Duration::from_secs(120))
        .await
        .unwrap();
    assert!(
        posted.iter().all(|p| matches!(p, Posted::Response(..))),
        "{posted:?}"
    );
    let mut logs = logs_of(handler).await;
    let messages = stack.messages().await.unwrap();
    assert!(messages.len() >= 5, "{} alerts", messages.len());

    // when: every alert but the last through the Slack notifier, then the last
    // after the webhook is gone (a new alert: a repeat would not be posted)
    let api = RuntimeApi::start().await.unwrap();
    let notifier = spawn(
        "slack-notifier",
        &api,
        &moto,
        &[
            ("SLACK_WEBHOOK_SECRET_ARN", &secret_arn),
            ("ENVIRONMENT", "test"),
        ],
    );
    let (last, before) = messages.split_last().unwrap();
    for (i, m) in before.iter().enumerate() {
        api.invoke(&format!("s-{i}"), sns_event(m, i)).await;
    }
    let posted = api
        .wait_posted(before.len(), Duration::from_secs(120))
        .await
        .unwrap();
    assert!(
        posted.iter().all(|p| matches!(p, Posted::Response(..))),
        "{posted:?}"
    );
    slack.gone.store(true, std::sync::atomic::Ordering::SeqCst);
    api.invoke("s-gone", sns_event(last, before.len())).await;
    let posted = api
        .wait_posted(messages.len(), Duration::from_secs(120))
        .await
        .unwrap();
    let Some(Posted::Error(_, err)) = posted.last() else {
        panic!("{posted:?}")
    };
    logs.push_str(&logs_of(notifier).await);

    // then: the URL was used, and no log line carries it or the keys
    let paths = slack.paths.lock().unwrap().clone();
    assert!(paths.len() > before.len(), "{} posts", paths.len());
    assert!(paths.iter().all(|p| p.ends_with(TOKEN)));
    let mut secrets = vec![url.clone(), TOKEN.to_owned(), AWS_SECRET.to_owned()];
    secrets.extend(TOKEN.split('/').map(str::to_owned));
    let everything = format!("{logs}\n{err}");
    for s in &secrets {
        let hits: Vec<&str> = everything.lines().filter(|l| l.contains(s)).collect();
        assert!(hits.is_empty(), "{s:?} in the logs: {hits:#?}");
    }
    assert!(everything.lines().count() > 100, "DEBUG logs were captured");
    println!(
        "{} log lines from {} events and {} alerts: no secret",
        everything.lines().count(),
        events.len(),
        messages.len()
    );
}
