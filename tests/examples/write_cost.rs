//! What one state write costs the function's CPU, and what writing a batch's
//! services in one call saves (issue #16: the bootstrap's CPU per event on
//! interleaved traffic, where a batch of 10 queued events holds about nine services,
//! which cost nine conditional PutItems before the handler wrote them in one call).
//!
//! A child process (this example again) makes DynamoDB writes through the
//! functions' own SDK set-up (`load_sdk_config`: the shared hyper client, the
//! timeouts) against moto on loopback, in rounds of nine items of about 2.8 KB
//! (the handler's mean PutItem on the benchmark's stream is 2,730 bytes), three ways:
//!
//! - `put`: nine conditional PutItems (`rev = :rev`), one per service, what the
//!   handler did before and still does for a write alone;
//! - `partiql`: one PartiQL `BatchExecuteStatement` of nine conditional statements
//!   (`UPDATE ... WHERE "pk" = ? AND "sk" = ? AND "rev" = ?`, `INSERT` for a new
//!   item), the statements `adapters/dynamodb_batch.rs` sends for a batch (moto
//!   cannot run them; the tests' launcher answers them, see
//!   `tests/support/moto_server.py`);
//! - `transact`: one TransactWriteItems of the same nine conditional puts
//!   (DynamoDB bills it double, and one conflict cancels all nine);
//! - `batch`: one BatchWriteItem of the nine puts, unconditional (no use to the
//!   handler, whose writes must be conditional: the lower bound of one call).
//!
//! The ways take turns (three passes of each), and the child's own CPU (utime +
//! stime of `/proc/self/stat`) is summed per way. Build it as the bootstraps are
//! packaged: `cargo run --profile lambda-release -p integration-tests --example
//! write-cost` (`WRITE_COST_ROUNDS` rounds per pass, 100 by default). Prints one
//! JSON document.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::process::Stdio;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementRequest, Put, PutRequest, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, WriteRequest,
};
use integration_tests::moto::Moto;
use integration_tests::proc_stat::{cpu_ticks, ticks_per_second};
use integration_tests::stack::{self, TABLE};
use serde_json::json;

/// Items per round: the services of a batch of 10 interleaved events.
const ITEMS: usize = 9;
const WAYS: [&str; 4] = ["put", "partiql", "transact", "batch"];
const PASSES: usize = 3;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if std::env::args().nth(1).as_deref() == Some("child") {
        return rt.block_on(child());
    }
    rt.block_on(parent())
}

/// Starts moto and the table, then the measuring child with moto in its environment.
async fn parent() -> anyhow::Result<()> {
    let moto = Moto::start().await?;
    stack::create(&moto, false).await?;
    let me = std::env::current_exe()?;
    let rounds = std::env::var("WRITE_COST_ROUNDS").unwrap_or_else(|_| "100".to_owned());
    let out = tokio::process::Command::new(me)
        .arg("child")
        .env_clear()
        .envs(moto.env())
        .env("WRITE_COST_ROUNDS", rounds)
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("running the measuring child")?;
    if !out.status.success() {
        bail!("the measuring child failed: {}", out.status);
    }
    print!("{}", String::from_utf8(out.stdout)?);
    Ok(())
}

async fn child() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("WRITE_COST_ROUNDS")?.parse()?;
    let sdk = rollout_watcher::adapters::sdk::load_sdk_config()
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let client = Client::new(&sdk);
    let tick_ms = 1000.0 / ticks_per_second();
    let mut rev = vec![0_u64; WAYS.len()];
    // Warm-up: the connection, the identity cache, the allocator's arenas.
    for (w, way) in WAYS.iter().enumerate() {
        for _ in 0..5 {
            write(&client, way, &mut rev[w]).await?;
        }
    }
    let mut ticks = vec![0_u64; WAYS.len()];
    for _ in 0..PASSES {
        for (w, way) in WAYS.iter().enumerate() {
            let before = own_cpu_ticks()?;
            for _ in 0..rounds {
                write(&client, way, &mut rev[w]).await?;
            }
            ticks[w] += own_cpu_ticks()? - before;
        }
    }
    let rounds_total = (rounds * PASSES) as f64;
    let per_way: serde_json::Map<String, serde_json::Value> = WAYS
        .iter()
        .zip(&ticks)
        .map(|(way, t)| {
            let ms = *t as f64 * tick_ms;
            let calls = if *way == "put" { ITEMS } else { 1 } as f64;
            (
                (*way).to_owned(),
                json!({
                    "cpu_ms_per_round": ms / rounds_total,
                    "cpu_ms_per_item": ms / rounds_total / ITEMS as f64,
                    "cpu_ms_per_call": ms / rounds_total / calls,
                }),
            )
        })
        .collect();
    let doc = json!({
        "items_per_round": ITEMS,
        "rounds": rounds_total,
        "item_bytes": item_bytes(&item("put", 0, 1)),
        "ways": per_way,
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

/// One round of `way`: the nine items written at the next revision.
async fn write(client: &Client, way: &str, rev: &mut u64) -> anyhow::Result<()> {
    let expected = *rev;
    let next = expected + 1;
    let (condition, values) = condition(expected);
    match way {
        "put" => {
            for i in 0..ITEMS {
                client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(item(way, i, next)))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values.clone())
                    .send()
                    .await
                    .context("PutItem")?;
            }
        }
        "partiql" => {
            let mut statements = Vec::with_capacity(ITEMS);
            for i in 0..ITEMS {
                statements.push(statement(item(way, i, next), expected)?);
            }
            let out = client
                .batch_execute_statement()
                .set_statements(Some(statements))
                .send()
                .await
                .context("BatchExecuteStatement")?;
            if let Some(e) = out.responses().iter().find_map(|r| r.error()) {
                bail!("a statement failed: {e:?}");
            }
        }
        "transact" => {
            let mut items = Vec::with_capacity(ITEMS);
            for i in 0..ITEMS {
                let put = Put::builder()
                    .table_name(TABLE)
                    .set_item(Some(item(way, i, next)))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values.clone())
                    .build()?;
                items.push(TransactWriteItem::builder().put(put).build());
            }
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .context("TransactWriteItems")?;
        }
        _ => {
            let mut requests = Vec::with_capacity(ITEMS);
            for i in 0..ITEMS {
                let put = PutRequest::builder()
                    .set_item(Some(item(way, i, next)))
                    .build()?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            let out = client
                .batch_write_item()
                .request_items(TABLE, requests)
                .send()
                .await
                .context("BatchWriteItem")?;
            if out.unprocessed_items().is_some_and(|u| !u.is_empty()) {
                bail!("BatchWriteItem left items unprocessed");
            }
        }
    }
    *rev = next;
    Ok(())
}

/// The statement the handler's store sends for one service of a batch.
fn statement(
    item: HashMap<String, AttributeValue>,
    expected: u64,
) -> anyhow::Result<BatchStatementRequest> {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    let (text, parameters) = if expected == 0 {
        let fields: Vec<String> = names.iter().map(|k| format!("'{k}': ?")).collect();
        let text = format!("INSERT INTO \"{TABLE}\" VALUE {{{}}}", fields.join(", "));
        (text, names.iter().map(|k| item[*k].clone()).collect())
    } else {
        let set: Vec<&&String> = names
            .iter()
            .filter(|k| !matches!(k.as_str(), "pk" | "sk"))
            .collect();
        let mut text = format!("UPDATE \"{TABLE}\"");
        for k in &set {
            text.push_str(&format!(" SET \"{k}\" = ?"));
        }
        text.push_str(" REMOVE \"outbox\" WHERE \"pk\" = ? AND \"sk\" = ? AND \"rev\" = ?");
        let mut parameters: Vec<AttributeValue> = set.iter().map(|k| item[**k].clone()).collect();
        parameters.push(item["pk"].clone());
        parameters.push(item["sk"].clone());
        parameters.push(AttributeValue::N(expected.to_string()));
        (text, parameters)
    };
    Ok(BatchStatementRequest::builder()
        .statement(text)
        .set_parameters(Some(parameters))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()?)
}

fn condition(expected: u64) -> (&'static str, Option<HashMap<String, AttributeValue>>) {
    if expected == 0 {
        ("attribute_not_exists(pk)", None)
    } else {
        (
            "rev = :rev",
            Some(HashMap::from([(
                ":rev".to_owned(),
                AttributeValue::N(expected.to_string()),
            )])),
        )
    }
}

/// A live item shaped like the handler's: the state as JSON text (quotes to
/// escape, as the real one has), the due index's keys, the last writers.
fn item(way: &str, i: usize, rev: u64) -> HashMap<String, AttributeValue> {
    let service = format!("arn:aws:ecs:eu-west-1:123456789012:service/bench/{way}-{i:02}");
    let task = r#"{"task":"arn:aws:ecs:eu-west-1:123456789012:task/bench/0123456789abcdef0123456789abcdef","deployment":"ecs-svc/1234567890123456789","last":"RUNNING","health":"HEALTHY","at":1733565600000},"#;
    let mut state = String::from(r#"{"v":3,"service":""#);
    state.push_str(&service);
    state.push_str(r#"","tasks":["#);
    while state.len() < 2_500 {
        state.push_str(task);
    }
    state.push_str("{}]}");
    let s = |v: String| AttributeValue::S(v);
    HashMap::from([
        ("pk".to_owned(), s(service)),
        ("sk".to_owned(), s("service".to_owned())),
        ("rev".to_owned(), AttributeValue::N(rev.to_string())),
        ("state".to_owned(), s(state)),
        ("due_pk".to_owned(), s("due".to_owned())),
        (
            "due_at".to_owned(),
            AttributeValue::N("1733565660".to_owned()),
        ),
        (
            "writes".to_owned(),
            s(format!(
                r#"[{{"rev":{rev},"by":"3f9a8c2e-1b7d-4e5f-9a0b-c1d2e3f4a5b6"}}]"#
            )),
        ),
    ])
}

/// The item's size as DynamoDB counts it: names and values.
fn item_bytes(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    _ => 0,
                }
        })
        .sum()
}

/// This process's CPU so far (utime + stime), in clock ticks.
fn own_cpu_ticks() -> anyhow::Result<u64> {
    let (user, system) = cpu_ticks(std::process::id())?;
    Ok(user + system)
}
