//! The built `ecs-event-handler` binary, run as Lambda runs it: a process that talks
//! to a Runtime API (here a local one) and to AWS (here the emulator, through
//! `AWS_ENDPOINT_URL`). This is what proves `main.rs`: configuration, SDK clients,
//! the error mapping, the init error, the JSON log line.
//!
//! The binary is built in the dev profile the tests use (`cargo build --workspace
//! --bins`, what `make test` runs first; a no-op when it is fresh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use integration_tests::binaries::as_lambda;
use integration_tests::moto::Moto;
use integration_tests::runtime_api::{Posted, RuntimeApi};
use integration_tests::stack::{self, TABLE};
use rollout_watcher_cli::simulate::Scenario;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::Child;

use integration_tests::scenario::events;

/// Starts the binary against the Runtime API and the emulator. `env` overrides or
/// removes (empty value) the function's variables.
fn spawn(api: &RuntimeApi, moto: &Moto, topic: &str, env: &[(&str, &str)]) -> Child {
    let mut cmd = as_lambda("ecs-event-handler", api, moto);
    cmd.env("STATE_TABLE", TABLE)
        .env("ALERT_TOPIC_ARN", topic)
        .env("ENVIRONMENT", "test");
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd.spawn().expect("starting the bootstrap binary")
}

/// Everything the process wrote to stdout (after it was stopped).
async fn stdout_of(mut child: Child) -> Vec<Value> {
    let _ = child.kill().await;
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A good event gets a response and its alert reaches the queue; a malformed one
/// gets an `/error` post whose type is `MalformedEvent` and whose message names the
/// field; stdout carries one JSON log line per event and the EMF metrics.
#[tokio::test]
async fn bootstrap_answers_good_and_malformed_events() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let child = spawn(&api, &moto, &stack.topic_arn, &[]);
    let events = events(Scenario::Success);
    let start = events
        .iter()
        .find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS")
        .unwrap()
        .clone();
    api.invoke("req-good", start.clone()).await;
    let mut bad = start.clone();
    bad["resources"] = serde_json::json!([]);
    api.invoke("req-bad", bad).await;

    let posted = api.wait_posted(2, Duration::from_secs(60)).await.unwrap();
    let Posted::Response(id, body) = &posted[0] else {
        panic!("{posted:?}")
    };
    assert_eq!(id, "req-good");
    assert_eq!(
        (body["status"].as_str(), body["alerts_published"].as_u64()),
        (Some("applied"), Some(1))
    );
    let Posted::Error(id, err) = &posted[1] else {
        panic!("{posted:?}")
    };
    assert_eq!(id, "req-bad");
    assert_eq!(err["errorType"], "MalformedEvent");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("resources[0]"),
        "{err}"
    );

    let msgs = stack.messages().await.unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.alert()).collect::<Vec<_>>(),
        ["deployment_started"]
    );
    assert!(
        msgs[0].subject.starts_with("[test] "),
        "{}",
        msgs[0].subject
    );

    let lines = stdout_of(child).await;
    let logs: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "event")
        .collect();
    assert_eq!(logs.len(), 2, "one log line per event: {lines:?}");
    assert_eq!(logs[0]["fields"]["outcome"], "applied");
    assert!(
        logs[0]["fields"]["service"]
            .as_str()
            .unwrap()
            .ends_with("service/demo-cluster/web")
    );
    assert!(
        logs[0]["fields"]["alerts"]
            .as_str()
            .unwrap()
            .contains("deployment_started:firing")
    );
    assert_eq!(logs[1]["fields"]["outcome"], "rejected");
    assert!(
        lines
            .iter()
            .any(|l| l["_aws"]["CloudWatchMetrics"].is_array()),
        "EMF on stdout"
    );
}

/// Without `STATE_TABLE` the function cannot start: it posts `/init/error` naming
/// the variable and exits.
#[tokio::test]
async fn missing_state_table_is_an_init_error() {
    let moto = Moto::start().await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let mut child = spawn(
        &api,
        &moto,
        "arn:aws:sns:eu-west-1:123456789012:t",
        &[("STATE_TABLE", "")],
    );
    let posted = api.wait_posted(1, Duration::from_secs(60)).await.unwrap();
    let Posted::InitError(err) = &posted[0] else {
        panic!("{posted:?}")
    };
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("STATE_TABLE"),
        "{err}"
    );
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
}
