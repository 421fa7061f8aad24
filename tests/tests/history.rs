//! `rollout-watcher history` over what the real handler wrote: simulated rollouts
//! of three services go through the watcher (DynamoDB, SNS and ECS in the
//! emulator), then the CLI's history reads the table back through its real
//! DynamoDB adapter: finished rollouts by month through `history-index`, one
//! service by its key, the open rollout from the live state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use integration_tests::moto::Moto;
use integration_tests::stack::{self, TABLE};
use rollout_watcher::adapters::dynamodb_history::DynamoHistory;
use rollout_watcher::adapters::recording::ManualClock;
use rollout_watcher::core::RolloutState;
use rollout_watcher::model::Timestamp;
use rollout_watcher_cli::history::{self, Format, Query};
use rollout_watcher_cli::simulate::{Params, Scenario};
use serde_json::Value;

use integration_tests::scenario::{drive, emf, stream, time_of};

fn params(scenario: Scenario, service: &str) -> Params {
    Params {
        service: service.to_owned(),
        ..Params::defaults(scenario)
    }
}

async fn create_service(sdk: &aws_config::SdkConfig, name: &str) {
    aws_sdk_ecs::Client::new(sdk)
        .create_service()
        .cluster("demo-cluster")
        .service_name(name)
        .task_definition("web")
        .desired_count(1)
        .send()
        .await
        .unwrap();
}

fn query(cluster: Option<&str>, service: Option<&str>, since: Timestamp, now: Timestamp) -> Query {
    Query {
        cluster: cluster.map(str::to_owned),
        service: service.map(str::to_owned),
        since,
        now,
    }
}

/// What the stories start from: web's rollout completed, api's rolled back and
/// worker's half way through, written by the real handler, and the window that
/// holds them.
struct Written {
    stack: stack::Stack,
    since: Timestamp,
    now: Timestamp,
}

async fn three_services_written(moto: &Moto) -> Written {
    let stack = stack::create(moto, true).await.unwrap();
    create_service(&stack.sdk, "api").await;
    create_service(&stack.sdk, "worker").await;
    let web = stream(&params(Scenario::Success, "web"));
    let api = stream(&params(Scenario::HealthCheckRollback, "api"));
    let worker = stream(&params(Scenario::Success, "worker"));
    let half = &worker[..worker.len() / 2];
    let (metrics, _lines) = emf();
    for events in [&web[..], &api[..], half] {
        let clock: Arc<ManualClock> = integration_tests::scenario::clock_for(events);
        let w = stack.watcher(Arc::clone(&metrics), clock);
        for r in drive(&w, events).await {
            r.unwrap();
        }
    }
    let first = web.iter().chain(&api).map(time_of).min().unwrap();
    let last = web
        .iter()
        .chain(&api)
        .chain(half)
        .map(time_of)
        .max()
        .unwrap();
    Written {
        stack,
        since: Timestamp::from_millis(first.as_millis() - 3_600_000),
        now: Timestamp::from_millis(last.as_millis() + 60_000),
    }
}

/// A completed rollout (web), a rollback (api) and one still in progress (worker):
/// the rows, the per-service and overall figures, in text and JSON Lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_reads_back_what_the_handler_wrote() {
    // given: three services and their streams through the real handler
    let moto = Moto::start().await.unwrap();
    let Written { stack, since, now } = three_services_written(&moto).await;
    let reader = DynamoHistory::new(aws_sdk_dynamodb::Client::new(&stack.sdk), TABLE);

    // when: every service of the cluster (Queries of the history index)
    let h = history::collect(&reader, &query(Some("demo-cluster"), None, since, now))
        .await
        .unwrap();

    // then
    let rows: Vec<(&str, RolloutState, bool)> = h
        .rollouts
        .iter()
        .map(|r| (r.service.name(), r.state, r.open))
        .collect();
    assert!(
        rows.contains(&("web", RolloutState::Completed, false)),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("api", RolloutState::RolledBack, false)),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|(s, _, open)| *s == "worker" && *open),
        "{rows:?}"
    );
    let web_row = h
        .rollouts
        .iter()
        .find(|r| r.service.name() == "web")
        .unwrap();
    assert!(web_row.duration_s.unwrap() > 0.0);
    assert!(web_row.task_definition.is_some());
    let api_row = h
        .rollouts
        .iter()
        .find(|r| r.service.name() == "api" && r.rollback_of.is_none())
        .unwrap();
    assert!(api_row.failures >= 1, "{api_row:?}");
    assert_eq!(h.all.completed, 1);
    assert_eq!(h.all.rolled_back, 1);
    assert_eq!(h.all.open, 1);
    assert_eq!(h.all.success_rate, Some(0.5));
    assert_eq!(h.all.rollback_rate, Some(0.5));
    assert_eq!(h.services.len(), 3);

    // and: one service by ARN is a Query on its key, with the same rows
    let arn = web_row.service.to_string();
    let one = history::collect(&reader, &query(None, Some(&arn), since, now))
        .await
        .unwrap();
    assert!(one.rollouts.iter().all(|r| r.service.name() == "web"));
    assert_eq!(one.all.completed, 1);

    // and: a window that ends before the rollouts lists none
    let before = Timestamp::from_millis(since.as_millis() - 1);
    let none = history::collect(
        &reader,
        &query(None, None, Timestamp::from_millis(0), before),
    )
    .await
    .unwrap();
    assert!(
        none.rollouts.iter().all(|r| r.open),
        "only the open rollout: {:?}",
        none.rollouts
    );

    // and: both renderings
    let mut text = Vec::new();
    history::write(&mut text, &h, Format::Text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("web (demo-cluster): 1 rollouts: 1 completed"),
        "{text}"
    );
    assert!(text.contains("all services: 3 rollouts"), "{text}");
    let mut json = Vec::new();
    history::write(&mut json, &h, Format::Json).unwrap();
    let lines: Vec<Value> = String::from_utf8(json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.last().unwrap()["type"], "all_stats");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["type"] == "service_stats")
            .count(),
        3
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "history_rollout" && l["state"] == "rolled_back")
    );
    // and: the page, an article per rollout the JSON lists, no script
    let mut html = Vec::new();
    history::write(&mut html, &h, Format::Html).unwrap();
    let html = String::from_utf8(html).unwrap();
    let rollouts = lines
        .iter()
        .filter(|l| l["type"] == "history_rollout")
        .count();
    assert_eq!(html.matches("<article").count(), rollouts, "{html}");
    assert!(html.contains("web (demo-cluster)") && !html.contains("<script"));
}

/// A damaged item (written by a newer version, or edited by hand): one history item
/// whose summary is not JSON, and the live item of the service with an open rollout
/// whose state is not JSON. The history still lists every other rollout, and names
/// each damaged item (service and attribute) instead of failing as a whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_item_is_named_and_the_rest_still_listed() {
    use aws_sdk_dynamodb::types::AttributeValue;

    // given: web completed, api rolled back, worker in progress, through the handler
    let moto = Moto::start().await.unwrap();
    let Written { stack, since, now } = three_services_written(&moto).await;
    // and: api's history item copied under another key with a summary cut short,
    // and worker's live state replaced by text that is not JSON
    let ddb = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let items = ddb.scan().table_name(TABLE).send().await.unwrap();
    let mut api_history = items
        .items()
        .iter()
        .find(|i| {
            let text = |k: &str| match i.get(k) {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => String::new(),
            };
            text("pk").ends_with("/api") && text("sk").starts_with("rollout#")
        })
        .unwrap()
        .clone();
    let sk = match &api_history["sk"] {
        AttributeValue::S(s) => format!("{s}-copy"),
        _ => unreachable!(),
    };
    api_history.insert("sk".into(), AttributeValue::S(sk));
    api_history.insert(
        "summary".into(),
        AttributeValue::S("{\"deployment_id\":".into()),
    );
    ddb.put_item()
        .table_name(TABLE)
        .set_item(Some(api_history))
        .send()
        .await
        .unwrap();
    let worker_arn = "arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/worker";
    ddb.update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(worker_arn.into()))
        .key("sk", AttributeValue::S("service".into()))
        .update_expression("SET #s = :bad REMOVE #z")
        .expression_attribute_names("#s", "state")
        .expression_attribute_names("#z", "state_z")
        .expression_attribute_values(":bad", AttributeValue::S("not json".into()))
        .send()
        .await
        .unwrap();
    let reader = DynamoHistory::new(ddb, TABLE);

    // when
    let h = history::collect(&reader, &query(Some("demo-cluster"), None, since, now))
        .await
        .unwrap();

    // then: web's and api's rollouts listed, worker's open one left out
    let rows: Vec<(&str, RolloutState)> = h
        .rollouts
        .iter()
        .map(|r| (r.service.name(), r.state))
        .collect();
    assert!(rows.contains(&("web", RolloutState::Completed)), "{rows:?}");
    assert!(
        rows.contains(&("api", RolloutState::RolledBack)),
        "{rows:?}"
    );
    assert!(rows.iter().all(|(s, _)| *s != "worker"), "{rows:?}");
    // and: both damaged items named, by service and attribute
    assert_eq!(h.unreadable.len(), 2, "{:?}", h.unreadable);
    assert!(
        h.unreadable
            .iter()
            .any(|e| e.contains("/api") && e.contains("summary")),
        "{:?}",
        h.unreadable
    );
    assert!(
        h.unreadable
            .iter()
            .any(|e| e.contains("/worker") && e.contains("state")),
        "{:?}",
        h.unreadable
    );
}
