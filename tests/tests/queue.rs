//! The built `ecs-event-handler` binary fed as the queue's event source mapping feeds
//! it: SQS events of up to ten queued EventBridge events, through a local Runtime API,
//! against the emulator. The same rollout sent one event per invocation (as the
//! EventBridge rule sends it) is the reference: the batches must answer an empty
//! partial-batch response and leave the same alerts, rollout state and metrics.
//!
//! The binary is built in the dev profile the tests use (`cargo build --workspace
//! --bins`; a no-op when it is fresh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use integration_tests::binaries::as_lambda;
use integration_tests::expect::parse_emf;
use integration_tests::moto::Moto;
use integration_tests::runtime_api::{Posted, RuntimeApi};
use integration_tests::scenario::{SERVICE, stream};
use integration_tests::stack::{self, Stack, TABLE};
use rollout_watcher::adapters::dynamodb::record_from_item;
use rollout_watcher::core::RolloutSummary;
use rollout_watcher::model::ServiceArn;
use rollout_watcher_cli::simulate::{Params, Scenario};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::Child;

/// The event source mapping's batch size in the module.
const BATCH: usize = 10;

/// A function with its own emulator, stack and Runtime API.
struct Function {
    api: RuntimeApi,
    stack: Stack,
    child: Child,
    _moto: Moto,
}

impl Function {
    async fn start() -> Self {
        let moto = Moto::start().await.unwrap();
        let stack = stack::create(&moto, true).await.unwrap();
        let api = RuntimeApi::start().await.unwrap();
        let mut cmd = as_lambda("ecs-event-handler", &api, &moto);
        cmd.env("STATE_TABLE", TABLE)
            .env("ALERT_TOPIC_ARN", &stack.topic_arn)
            .env("ENVIRONMENT", "test")
            .env("EVENT_DELIVERY", "queue")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("starting the bootstrap binary");
        Self {
            api,
            stack,
            child,
            _moto: moto,
        }
    }

    /// Sends the invocations in order; returns what the function posted back.
    async fn run(&self, invocations: Vec<Value>) -> Vec<Posted> {
        let n = invocations.len();
        for (i, payload) in invocations.into_iter().enumerate() {
            self.api.invoke(&format!("req-{i}"), payload).await;
        }
        self.api
            .wait_posted(n, Duration::from_secs(120))
            .await
            .unwrap()
    }

    /// The alerts that reached the topic's queue (name and dedup id), the rollouts of
    /// the live item, and the service metrics written to the log; stops the function.
    async fn outcome(
        mut self,
    ) -> (
        Vec<(String, String)>,
        Vec<RolloutSummary>,
        Vec<String>,
        Vec<Value>,
    ) {
        let alerts = self
            .stack
            .messages()
            .await
            .unwrap()
            .iter()
            .map(|m| (m.alert().to_owned(), m.id().to_owned()))
            .collect();
        let item = self.stack.live_item(SERVICE).await.unwrap();
        let record = record_from_item(&ServiceArn::parse(SERVICE).unwrap(), &item).unwrap();
        let _ = self.child.kill().await;
        let mut text = String::new();
        let mut out = self.child.stdout.take().unwrap();
        out.read_to_string(&mut text).await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        // Service metrics only (dimensioned): the watcher's own counts carry the
        // wall clock and are per invocation.
        let mut metrics: Vec<String> = text
            .lines()
            .filter(|l| l.contains("\"_aws\""))
            .flat_map(|l| parse_emf(l).unwrap())
            .filter(|p| !p.dimensions.is_empty())
            .map(|p| format!("{} {:.3} {}", p.name, p.value, p.timestamp))
            .collect();
        metrics.sort();
        (alerts, record.state.rollouts(), metrics, lines)
    }
}

/// A rollout of four tasks, long enough for several batches.
fn rollout() -> Vec<Value> {
    stream(&Params {
        desired: 4,
        ..Params::defaults(Scenario::Success)
    })
}

/// The SQS event Lambda hands the function for these messages (id, body).
fn sqs_event(messages: &[(String, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("AQEB{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767225600000",
                    "SenderId": "AROAEXAMPLE:events",
                    "ApproximateFirstReceiveTimestamp": "1767225600001",
                    "SequenceNumber": "18849496460467696128",
                    "MessageGroupId": "ecs-events",
                    "MessageDeduplicationId": format!("dedup-{id}")
                },
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo",
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The messages `m-<n>` of these events, in SQS events of [`BATCH`].
fn batches(messages: &[(String, String)]) -> Vec<Value> {
    messages.chunks(BATCH).map(sqs_event).collect()
}

fn numbered(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .enumerate()
        .map(|(n, e)| (format!("m-{n}"), e.to_string()))
        .collect()
}

fn assert_all_acknowledged(posted: &[Posted]) {
    for p in posted {
        let Posted::Response(_, body) = p else {
            panic!("{p:?}")
        };
        assert_eq!(body, &json!({"batchItemFailures": []}));
    }
}

/// A rollout in batches of ten: every batch acknowledged whole, and the alerts
/// (each once, the same ids in the same order), the rollout state and the metrics
/// are those of the same events one per invocation; one log line per event, one per
/// batch.
#[tokio::test]
async fn a_rollout_in_batches_leaves_what_one_event_per_invocation_leaves() {
    let events = rollout();
    assert!(events.len() > 2 * BATCH, "{} events", events.len());
    let (direct, queued) = tokio::join!(Function::start(), Function::start());

    let posted = direct.run(events.clone()).await;
    assert!(
        posted.iter().all(|p| matches!(p, Posted::Response(..))),
        "{posted:?}"
    );
    let invocations = batches(&numbered(&events));
    let n = invocations.len();
    let posted = queued.run(invocations).await;
    assert_eq!(posted.len(), n);
    assert_all_acknowledged(&posted);

    let (want_alerts, want_rollouts, want_metrics, _) = direct.outcome().await;
    let (alerts, rollouts, metrics, lines) = queued.outcome().await;
    assert!(!want_alerts.is_empty());
    assert_eq!(alerts, want_alerts);
    assert_eq!(rollouts, want_rollouts);
    assert!(!want_metrics.is_empty());
    assert_eq!(metrics, want_metrics);

    let message = |m: &str| lines.iter().filter(|l| l["fields"]["message"] == m).count();
    assert_eq!(message("event"), events.len(), "one line per event");
    assert_eq!(message("batch"), n, "one line per batch");
}

/// A batch holding a malformed message and the rollout's first events: the malformed
/// one is acknowledged (logged at ERROR with its id and body, counted), the rest are
/// applied as they would be without it.
#[tokio::test]
async fn a_malformed_message_is_acknowledged_and_the_rest_applied() {
    let events = rollout();
    let first: Vec<Value> = events[..BATCH - 1].to_vec();
    let mut messages = numbered(&first);
    messages.insert(3, ("m-bad".into(), r#"{"detail-type": 7}"#.into()));
    let (reference, queued) = tokio::join!(Function::start(), Function::start());
    reference.run(vec![sqs_event(&numbered(&first))]).await;
    let posted = queued.run(vec![sqs_event(&messages)]).await;
    assert_all_acknowledged(&posted);

    let (want_alerts, want_rollouts, _, _) = reference.outcome().await;
    let (alerts, rollouts, _, lines) = queued.outcome().await;
    assert!(!want_alerts.is_empty());
    assert_eq!(alerts, want_alerts);
    assert_eq!(rollouts, want_rollouts);
    let rejected = lines
        .iter()
        .find(|l| l["fields"]["outcome"] == "rejected")
        .expect("the rejected message's line");
    assert_eq!(rejected["level"], "ERROR");
    assert_eq!(rejected["fields"]["message_id"], "m-bad");
    assert_eq!(rejected["fields"]["body"], r#"{"detail-type": 7}"#);
    assert!(
        rejected["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("detail-type"),
        "{rejected}"
    );
    let counted = lines
        .iter()
        .filter(|l| l.to_string().contains("EventsRejected"))
        .count();
    assert_eq!(counted, 1, "EventsRejected written once");
}
