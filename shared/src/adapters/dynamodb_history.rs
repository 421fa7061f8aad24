//! [`HistoryReader`] on the state table: the `rollout#...` history items, the sparse
//! `history-index` (hash `history_month` "YYYY-MM" of the rollout's end, range
//! `history_at`, its epoch milliseconds; the history item's `summary` projected), and
//! the sweeper's `due-index` for the services with open work.
//!
//! Why a month partition: a history of "the last 30 days" of every service is then
//! one or two Queries, never a Scan of a table that holds every service's live
//! state; and a month of finished rollouts is a small partition (a busy account
//! finishes a few thousand). Items written before the index existed lack the two
//! attributes: they stay readable per service (`service_history`), not by month.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::core::{RolloutSummary, ServiceState};
use crate::model::{ServiceArn, Timestamp};
use crate::ports::{HistoryRead, HistoryReader, StoreError};

use super::dynamodb::{DUE_INDEX, Item, history_of};
use super::dynamodb_ext::{DUE_PK, LIVE_SK, n, record_from_item, s, summary_from_item};

/// The sparse index of finished rollouts by month.
pub const HISTORY_INDEX: &str = "history-index";

// Written with every history item by the item encoding, read back here.
pub use super::dynamodb_ext::history_month;

/// The months from `since` to `until`, oldest first.
fn months(since: Timestamp, until: Timestamp) -> Vec<String> {
    let parse = |m: &str| -> Option<(i32, u8)> {
        let (y, mo) = m.split_once('-')?;
        Some((y.parse().ok()?, mo.parse().ok()?))
    };
    let (Some(mut at), Some(end)) = (parse(&history_month(since)), parse(&history_month(until)))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while at <= end && out.len() < 1200 {
        out.push(format!("{:04}-{:02}", at.0, at.1));
        at = if at.1 == 12 {
            (at.0 + 1, 1)
        } else {
            (at.0, at.1 + 1)
        };
    }
    out
}

/// The state table, read only.
#[derive(Clone, Debug)]
pub struct DynamoHistory {
    client: Client,
    table: String,
}

impl DynamoHistory {
    /// Reads `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn backend(
    operation: &'static str,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    move |source| StoreError::Backend { operation, source }
}

fn pk_of(item: &Item) -> Option<ServiceArn> {
    match item.get("pk") {
        Some(AttributeValue::S(pk)) => ServiceArn::parse(pk),
        _ => None,
    }
}

fn ended(r: &RolloutSummary) -> Option<Timestamp> {
    r.finished_at.or(r.started_at)
}

#[async_trait]
impl HistoryReader for DynamoHistory {
    async fn service_history(
        &self,
        service: &ServiceArn,
        since: Timestamp,
    ) -> Result<HistoryRead, StoreError> {
        let mut out = history_of(&self.client, &self.table, service).await?;
        out.rollouts
            .retain(|r| ended(r).is_some_and(|e| e >= since));
        Ok(out)
    }

    async fn history_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        filter: Option<&str>,
    ) -> Result<HistoryRead, StoreError> {
        let mut out = HistoryRead::default();
        for month in months(since, until) {
            let mut start: Option<Item> = None;
            loop {
                let mut q = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(HISTORY_INDEX)
                    .key_condition_expression("history_month = :m AND history_at BETWEEN :a AND :b")
                    .expression_attribute_values(":m", s(month.as_str()))
                    .expression_attribute_values(":a", n(since.as_millis()))
                    .expression_attribute_values(":b", n(until.as_millis()))
                    .set_exclusive_start_key(start.take());
                if let Some(f) = filter {
                    q = q
                        .filter_expression("contains(pk, :f)")
                        .expression_attribute_values(":f", s(f));
                }
                let page = q.send().await.map_err(|e| backend("Query")(Box::new(e)))?;
                for item in page.items() {
                    let Some(service) = pk_of(item) else { continue };
                    match summary_from_item(&service, item) {
                        Ok(r) => out.rollouts.push(r),
                        Err(e) => out.unreadable.push(e),
                    }
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn open_services(&self) -> Result<Vec<ServiceArn>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("due_pk = :d")
                .expression_attribute_values(":d", s(DUE_PK))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("Query")(Box::new(e)))?;
            out.extend(page.items().iter().filter_map(pk_of));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    async fn live(&self, service: &ServiceArn) -> Result<Option<ServiceState>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(service.as_str()))
            .key("sk", s(LIVE_SK))
            .send()
            .await
            .map_err(|e| backend("GetItem")(Box::new(e)))?;
        Ok(out
            .item()
            .map(|i| record_from_item(service, i))
            .transpose()?
            .map(|r| r.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_span_the_window_across_a_year_end() {
        let t = |s: &str| Timestamp::parse(s).unwrap_or_default();
        assert_eq!(
            months(t("2026-11-20T00:00:00Z"), t("2027-01-02T00:00:00Z")),
            ["2026-11", "2026-12", "2027-01"]
        );
        assert_eq!(history_month(t("2026-12-31T23:59:59Z")), "2026-12");
    }
}
