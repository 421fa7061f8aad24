//! Several services' state written in one call (`StateStore::save_many`, DynamoDB's
//! PartiQL `BatchExecuteStatement`), with the real SDK client, through the fault
//! proxy (to count the calls) to the emulator. moto cannot run these statements
//! itself; the tests' launcher (`tests/support/moto_server.py`) answers them on
//! moto's own table, as DynamoDB documents them (`scripts/moto-partiql.py` checks
//! it rule by rule).
//!
//! What must hold: each service's write keeps its own condition (a new item must
//! not exist, an existing one must still be at the expected revision), one failing
//! condition leaves the others written, a conflict returns the stored item, and an
//! item written in a batch is exactly the item a single `PutItem` would leave, down
//! to the attributes it no longer has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use integration_tests::fault_proxy::{FaultProxy, Plan};
use integration_tests::moto::Moto;
use integration_tests::scenario::SERVICE;
use integration_tests::stack::{self, TABLE};
use rollout_watcher::adapters::dynamodb::{DynamoStore, Item, LIVE_SK, live_item};
use rollout_watcher::core::RolloutSummary;
use rollout_watcher::delivery::WatcherConfig;
use rollout_watcher::model::{EcsEvent, Interpreted, ServiceArn, Timestamp};
use rollout_watcher::ports::{SaveRequest, StateStore, StoreError};
use rollout_watcher::record::ServiceRecord;
use rollout_watcher_cli::simulate::{Params, Scenario};

use integration_tests::scenario::stream;

/// A service of the prod cluster.
fn arn(name: &str) -> ServiceArn {
    ServiceArn::parse(&format!(
        "arn:aws:ecs:eu-west-1:123456789012:service/prod/{name}"
    ))
    .unwrap()
}

/// The record a simulated rollout of `desired` tasks leaves, at its largest (most
/// tasks held) and at its end (the rollout finished).
fn rolled(desired: u32) -> (ServiceRecord, ServiceRecord) {
    let params = Params {
        desired,
        ..Params::defaults(Scenario::Success)
    };
    let settings = WatcherConfig::default().settings;
    let mut rec = ServiceRecord::new(ServiceArn::parse(SERVICE).unwrap());
    let mut peak = rec.clone();
    for e in &stream(&params) {
        let Ok(Interpreted::Use(input)) = EcsEvent::from_value(e).and_then(|e| e.interpret())
        else {
            continue;
        };
        let effects = rec.state.apply(&input, &settings);
        let _ = rec.outbox.record(&effects, |_| true);
        if rec.state.task_count() > peak.state.task_count() {
            peak = rec.clone();
        }
    }
    (peak, rec)
}

/// `rec` as the record of another service.
fn moved(rec: &ServiceRecord, to: &ServiceArn) -> ServiceRecord {
    let json = serde_json::to_string(rec).unwrap();
    serde_json::from_str(&json.replace(SERVICE, to.as_str())).unwrap()
}

/// `rec` signed by `owner` for a write at `expected`.
fn signed(mut rec: ServiceRecord, expected: u64, owner: &str) -> ServiceRecord {
    rec.sign(expected, owner);
    rec
}

fn request<'a>(
    record: &'a ServiceRecord,
    expected: u64,
    due_at: Option<Timestamp>,
    finished: &'a [RolloutSummary],
) -> SaveRequest<'a> {
    SaveRequest {
        record,
        expected,
        due_at,
        finished,
    }
}

/// The live item as the table holds it.
async fn stored(client: &aws_sdk_dynamodb::Client, service: &ServiceArn) -> Option<Item> {
    client
        .get_item()
        .table_name(TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(service.to_string()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(LIVE_SK.into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item()
        .cloned()
}

/// The state table in a fresh emulator, and the store on it through the proxy
/// that counts the calls (the emulator lives as long as its handle).
async fn store_behind_proxy() -> (Moto, FaultProxy, aws_sdk_dynamodb::Client, DynamoStore) {
    let moto = Moto::start().await.unwrap();
    stack::create(&moto, false).await.unwrap();
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default())
        .await
        .unwrap();
    let sdk = proxy
        .sdk_config(Duration::from_secs(5), Duration::from_millis(20))
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(client.clone(), TABLE);
    (moto, proxy, client, store)
}

/// Calls of `operation` to DynamoDB so far.
fn calls(proxy: &FaultProxy, operation: &str) -> usize {
    proxy
        .counts()
        .get(&("dynamodb".to_owned(), operation.to_owned()))
        .copied()
        .unwrap_or(0)
}

/// Three new services in one call, one of them a 500-task service whose state is
/// stored deflated; then, in one call again: the big one shrunk to a small state
/// and no longer due (its deflated state and due attributes must go), a stale
/// writer of a new item, a writer at an old revision, and a write finishing a
/// rollout (a transaction of its own, with its history item). Each ends as its
/// own condition says, and every written item is exactly the single write's.
#[tokio::test]
async fn one_call_writes_each_service_on_its_own_condition() {
    let (_moto, proxy, client, store) = store_behind_proxy().await;

    let (peak, finished_rec) = rolled(500);
    let big = signed(peak, 0, "req-1");
    let mut gone = signed(ServiceRecord::new(arn("api")), 0, "req-1");
    gone.let_go(Timestamp::from_millis(1_700_000_000_000));
    let jobs = signed(ServiceRecord::new(arn("jobs")), 0, "req-1");
    let due = Some(Timestamp::from_millis(1_700_000_060_000));
    let first = [
        request(&big, 0, due, &[]),
        request(&gone, 0, None, &[]),
        request(&jobs, 0, due, &[]),
    ];
    let results = store.save_many(&first).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(calls(&proxy, "BatchExecuteStatement"), 1);
    assert_eq!(calls(&proxy, "PutItem"), 0);
    for r in &first {
        let service = r.record.state.service();
        let item = stored(&client, service).await.unwrap();
        assert_eq!(item, live_item(r).unwrap(), "{service}");
    }
    assert!(
        stored(&client, big.state.service())
            .await
            .unwrap()
            .contains_key("state_z"),
        "the 500-task state is stored deflated"
    );
    assert_eq!(store.load(big.state.service()).await.unwrap().unwrap(), big);

    let small = signed(ServiceRecord::new(big.state.service().clone()), 1, "req-2");
    let stale_new = signed(ServiceRecord::new(arn("api")), 0, "req-2");
    let stale_rev = signed(ServiceRecord::new(arn("jobs")), 7, "req-2");
    let web = signed(moved(&finished_rec, &arn("web")), 0, "req-2");
    let summaries: Vec<RolloutSummary> = web
        .state
        .rollouts()
        .into_iter()
        .filter(|r| r.state.is_terminal())
        .collect();
    assert!(!summaries.is_empty(), "the simulated rollout finished");
    let second = [
        request(&small, 1, None, &[]),
        request(&stale_new, 0, None, &[]),
        request(&stale_rev, 7, None, &[]),
        request(&web, 0, None, &summaries),
    ];
    let results = store.save_many(&second).await;
    assert_eq!(calls(&proxy, "BatchExecuteStatement"), 2);
    assert_eq!(calls(&proxy, "TransactWriteItems"), 1);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    let item = stored(&client, small.state.service()).await.unwrap();
    assert_eq!(item, live_item(&second[0]).unwrap());
    for gone_attr in ["state_z", "due_pk", "due_at"] {
        assert!(!item.contains_key(gone_attr), "{gone_attr} left behind");
    }
    assert!(
        matches!(&results[1], Err(StoreError::Conflict { current: None, .. })),
        "a new item over an existing one: {:?}",
        results[1]
    );
    match &results[2] {
        Err(StoreError::Conflict {
            current: Some(winner),
            ..
        }) => assert_eq!(**winner, jobs),
        other => panic!("a write at an old revision: {other:?}"),
    }
    assert_eq!(
        store.load(&arn("api")).await.unwrap().unwrap(),
        gone,
        "the refused writes left their items as they were"
    );
    assert!(results[3].is_ok(), "{:?}", results[3]);
    assert_eq!(store.history(&arn("web")).await.unwrap(), summaries);
}

/// A batch DynamoDB refuses whole (here: two writes of one item, which it rejects
/// as duplicate keys; in AWS also a role without the PartiQL actions) is written
/// one service at a time instead, each write still conditional: the first lands,
/// the second meets the first's item.
#[tokio::test]
async fn a_refused_batch_is_written_one_service_at_a_time() {
    let (_moto, proxy, _, store) = store_behind_proxy().await;
    let first = signed(ServiceRecord::new(arn("web")), 0, "req-1");
    let second = signed(ServiceRecord::new(arn("web")), 0, "req-2");
    let results = store
        .save_many(&[
            request(&first, 0, None, &[]),
            request(&second, 0, None, &[]),
        ])
        .await;
    assert_eq!(calls(&proxy, "BatchExecuteStatement"), 1);
    assert_eq!(calls(&proxy, "PutItem"), 2);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    match &results[1] {
        Err(StoreError::Conflict {
            current: Some(winner),
            ..
        }) => assert_eq!(**winner, first),
        other => panic!("the second write of the item: {other:?}"),
    }
}
