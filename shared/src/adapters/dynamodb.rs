//! The DynamoDB state store.
//!
//! # Items (keys `pk` (S) / `sk` (S), fixed: the Terraform module and users rely on them)
//! - Live item, one per service: `pk` = service ARN, `sk` = `service`; `rev` (N) the
//!   revision every write is conditional on; `state` (S) the state machine as JSON;
//!   `outbox` (S) the undelivered effects as JSON (absent when empty); `due_pk` (S,
//!   always `due`) and `due_at` (N, epoch seconds) only while the sweeper has something
//!   to do, so the sparse GSI `due-index` holds exactly the services due, and the
//!   sweeper queries it instead of scanning the table.
//! - History item, one per finished rollout: `pk` = service ARN, `sk` =
//!   `rollout#<deployment id>`; `summary` (S) the rollout summary as JSON, plus
//!   `deployment_id`, `state`, `started_at`, `finished_at`, `duration_s`, `downtime_s`
//!   for people reading the table, and `expires_at` (N, epoch seconds) for TTL.
//!   `history_month` (S, `YYYY-MM`) and `history_at` (N, epoch ms) of its end key the
//!   sparse GSI `history-index` that `rollout-watcher history` queries by month.
//!   `writes` (S) the last few revisions with the invocation that wrote each, as
//!   JSON, so a writer whose reply was lost can tell whether its write landed.
//!   `gone_at` (N, epoch ms) once the sweeper found the service deleted.
//! - A state or outbox document over 8 KiB is stored deflated as `state_z` /
//!   `outbox_z` (B) instead (see `dynamodb_ext`).
//!
//! Why JSON strings rather than nested maps: the state is read and written whole,
//! never queried inside, and a string is the most compact encoding DynamoDB bills
//! (a 500-task service stays far below the 400 KB item limit, see the tests).
//! Why a transaction only when a rollout finishes: a plain conditional PutItem costs
//! half as much, and most events finish nothing. Several services written at once
//! (a queued batch) share one PartiQL `BatchExecuteStatement` (see `dynamodb_batch`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::core::RolloutSummary;
use crate::model::{Millis, ServiceArn, Timestamp};
use crate::ports::{HistoryRead, SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

pub use super::dynamodb_ext::{
    COMPRESS_OVER, DUE_PK, HISTORY_PREFIX, Item, LIVE_SK, item_size, live_item, record_from_item,
};
use super::dynamodb_ext::{history_item, n, s, summary_from_item};
use super::sdk_ext::epoch_secs;

/// The sparse index the sweeper queries.
pub const DUE_INDEX: &str = "due-index";

/// DynamoDB through aws-sdk-dynamodb.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    history_ttl: Millis,
}

impl DynamoStore {
    /// A store on `table`; finished rollouts are kept 90 days.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            history_ttl: Millis::from_secs(90 * 24 * 3600),
        }
    }

    /// Keeps finished rollouts for `ttl` instead.
    pub fn with_history_ttl(mut self, ttl: Millis) -> Self {
        self.history_ttl = ttl;
        self
    }

    fn backend(
        operation: &'static str,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> StoreError {
        move |source| StoreError::Backend { operation, source }
    }

    fn history_put(&self, r: &RolloutSummary) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(history_item(r, self.history_ttl)?))
            .build()
            .map_err(|e| Self::backend("TransactWriteItems")(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl DynamoStore {
    /// One conditional write: a `PutItem`, or a transaction with the history items
    /// of the rollouts it finishes.
    pub(super) async fn save_single(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        let service = request.record.state.service();
        let conflict = |winner: Option<&Item>| StoreError::Conflict {
            service: service.to_string(),
            expected: request.expected,
            current: winner
                .and_then(|i| record_from_item(service, i).ok())
                .map(Box::new),
        };
        let item = live_item(&request)?;
        let (condition, values) = if request.expected == 0 {
            ("attribute_not_exists(pk)", None)
        } else {
            (
                "rev = :rev",
                Some(HashMap::from([(":rev".to_owned(), n(request.expected))])),
            )
        };
        if request.finished.is_empty() {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match result {
                Ok(_) => Ok(()),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(c)) => {
                        Err(conflict(c.item()))
                    }
                    _ => Err(Self::backend("PutItem")(Box::new(e))),
                },
            };
        }
        let live = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| Self::backend("TransactWriteItems")(Box::new(e)))?;
        let mut items = vec![TransactWriteItem::builder().put(live).build()];
        for r in request.finished.iter().take(99) {
            items.push(self.history_put(r)?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(lost_race) => {
                Err(conflict(winner_of(e.as_service_error())))
            }
            Err(e) => Err(Self::backend("TransactWriteItems")(Box::new(e))),
        }
    }
}

/// A service's finished rollouts, read by key (`rollout#` items under its `pk`), in
/// the table's order: the store's history and `history --service` share this query.
/// An item that cannot be decoded is set aside, not fatal: the caller decides.
pub(super) async fn history_of(
    client: &Client,
    table: &str,
    service: &ServiceArn,
) -> Result<HistoryRead, StoreError> {
    let mut out = HistoryRead::default();
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(service.as_str()))
            .expression_attribute_values(":p", s(HISTORY_PREFIX))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| DynamoStore::backend("Query")(Box::new(e)))?;
        for item in page.items() {
            match summary_from_item(service, item) {
                Ok(r) => out.rollouts.push(r),
                Err(e) => out.unreadable.push(e),
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// A transaction cancelled because the condition failed or another transaction
/// touched the item: both mean "re-read and re-apply".
fn lost_race(e: &TransactWriteItemsError) -> bool {
    match e {
        TransactWriteItemsError::TransactionCanceledException(t) => {
            t.cancellation_reasons().iter().any(|r| {
                matches!(
                    r.code(),
                    Some("ConditionalCheckFailed" | "TransactionConflict")
                )
            })
        }
        _ => false,
    }
}

/// The live item as it stood when the transaction's condition failed (the live
/// item's put is the transaction's first).
fn winner_of(e: Option<&TransactWriteItemsError>) -> Option<&Item> {
    match e {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => t
            .cancellation_reasons()
            .first()
            .filter(|r| r.code() == Some("ConditionalCheckFailed"))
            .and_then(|r| r.item()),
        _ => None,
    }
}

#[async_trait]
impl StateStore for DynamoStore {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(service.as_str()))
            .key("sk", s(LIVE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Self::backend("GetItem")(Box::new(e)))?;
        out.item().map(|i| record_from_item(service, i)).transpose()
    }

    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        self.save_single(request).await
    }

    /// Writes that finish a rollout stay single (their history items go in the same
    /// transaction); the others share `BatchExecuteStatement` calls
    /// (`dynamodb_batch`). One write alone stays a `PutItem`.
    async fn save_many(&self, requests: &[SaveRequest<'_>]) -> Vec<Result<(), StoreError>> {
        self.save_batched(requests).await
    }

    async fn history(&self, service: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        // The functions' own read stays strict: a damaged item is an error to see.
        let read = history_of(&self.client, &self.table, service).await?;
        if let Some(e) = read.unreadable.into_iter().next() {
            return Err(e);
        }
        let mut out = read.rollouts;
        out.sort_by_key(|r| (r.started_at.or(r.finished_at), r.deployment_id.clone()));
        Ok(out)
    }

    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        while out.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("due_pk = :d AND due_at <= :t")
                .expression_attribute_values(":d", s(DUE_PK))
                .expression_attribute_values(":t", n(epoch_secs(until)))
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| Self::backend("Query")(Box::new(e)))?;
            out.extend(page.items().iter().filter_map(|i| match i.get("pk") {
                Some(AttributeValue::S(pk)) => ServiceArn::parse(pk),
                _ => None,
            }));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
