//! Mapping between the store's records and DynamoDB items (the layout is documented
//! in [`super::dynamodb`]).
//!
//! Why compress: a 500-task service mid-rollout holds 1,000 task records, which is
//! about 135 KB of JSON, and a write is billed per KB. A document over
//! [`COMPRESS_OVER`] bytes is stored deflated as a Binary attribute with a `_z`
//! suffix (`state_z`, `outbox_z`), which shrinks it several times; small services
//! keep readable JSON strings. Reads accept either form.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::RolloutSummary;
use crate::model::{Millis, ServiceArn, Timestamp};
use crate::ports::{SaveRequest, StoreError};
use crate::record::ServiceRecord;

use super::sdk_ext::epoch_secs;

/// Sort key of the live item.
pub const LIVE_SK: &str = "service";
/// Sort-key prefix of history items.
pub const HISTORY_PREFIX: &str = "rollout#";
/// The one partition of the sparse index.
pub const DUE_PK: &str = "due";
/// JSON documents larger than this are stored deflated.
pub const COMPRESS_OVER: usize = 8 * 1024;
/// A deflated document may not inflate beyond this (a corrupt item must not
/// exhaust the function's memory).
const INFLATE_LIMIT: usize = 8 * 1024 * 1024;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn corrupt(service: &ServiceArn, field: &'static str, source: crate::ports::Source) -> StoreError {
    StoreError::Corrupt {
        service: service.to_string(),
        field,
        source,
    }
}

/// Puts `value` as JSON under `name`, or deflated under `{name}_z` when large.
fn put_doc<T: Serialize>(
    item: &mut Item,
    service: &ServiceArn,
    name: &'static str,
    value: &T,
) -> Result<(), StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| corrupt(service, name, Box::new(e)))?;
    if json.len() > COMPRESS_OVER {
        let z = miniz_oxide::deflate::compress_to_vec(&json, 6);
        item.insert(format!("{name}_z"), AttributeValue::B(Blob::new(z)));
    } else {
        let text = String::from_utf8(json).map_err(|e| corrupt(service, name, Box::new(e)))?;
        item.insert(name.to_owned(), s(text));
    }
    Ok(())
}

/// Reads a document written by [`put_doc`]; `None` when neither form is present.
fn get_doc<T: DeserializeOwned>(
    item: &Item,
    service: &ServiceArn,
    name: &'static str,
) -> Result<Option<T>, StoreError> {
    let parse = |bytes: &[u8]| {
        serde_json::from_slice(bytes).map_err(|e| corrupt(service, name, Box::new(e)))
    };
    if let Some(AttributeValue::S(text)) = item.get(name) {
        return parse(text.as_bytes()).map(Some);
    }
    match item.get(&format!("{name}_z")) {
        Some(AttributeValue::B(blob)) => {
            let json =
                miniz_oxide::inflate::decompress_to_vec_with_limit(blob.as_ref(), INFLATE_LIMIT)
                    .map_err(|e| corrupt(service, name, format!("cannot inflate: {e}").into()))?;
            parse(&json).map(Some)
        }
        _ => Ok(None),
    }
}

/// The live item of a record.
pub fn live_item(request: &SaveRequest<'_>) -> Result<Item, StoreError> {
    let rec = request.record;
    let service = rec.state.service();
    let mut item = Item::new();
    item.insert("pk".into(), s(service.as_str()));
    item.insert("sk".into(), s(LIVE_SK));
    item.insert("rev".into(), n(rec.revision));
    put_doc(&mut item, service, "state", &rec.state)?;
    if !rec.outbox.is_empty() || rec.outbox.dropped() > 0 {
        put_doc(&mut item, service, "outbox", &rec.outbox)?;
    }
    if !rec.writes.is_empty() {
        let writes = serde_json::to_string(&rec.writes)
            .map_err(|e| corrupt(service, "writes", Box::new(e)))?;
        item.insert("writes".into(), s(writes));
    }
    if let Some(gone) = rec.gone_at {
        item.insert("gone_at".into(), n(gone.as_millis()));
    }
    if let Some(due) = request.due_at {
        item.insert("due_pk".into(), s(DUE_PK));
        item.insert("due_at".into(), n(epoch_secs(due)));
    }
    Ok(item)
}

/// Decodes a live item.
pub fn record_from_item(service: &ServiceArn, item: &Item) -> Result<ServiceRecord, StoreError> {
    let revision = match item.get("rev") {
        Some(AttributeValue::N(v)) => v
            .parse::<u64>()
            .map_err(|e| corrupt(service, "rev", Box::new(e)))?,
        _ => 0,
    };
    let state = get_doc(item, service, "state")?
        .ok_or_else(|| corrupt(service, "state", "missing".into()))?;
    let outbox = get_doc(item, service, "outbox")?.unwrap_or_default();
    let writes = get_doc(item, service, "writes")?.unwrap_or_default();
    let gone_at = match item.get("gone_at") {
        Some(AttributeValue::N(v)) => Some(Timestamp::from_millis(
            v.parse::<i64>()
                .map_err(|e| corrupt(service, "gone_at", Box::new(e)))?,
        )),
        _ => None,
    };
    Ok(ServiceRecord {
        state,
        outbox,
        revision,
        writes,
        gone_at,
    })
}

/// The history item of a finished rollout.
pub(crate) fn history_item(r: &RolloutSummary, ttl: Millis) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert("pk".into(), s(r.service.as_str()));
    item.insert(
        "sk".into(),
        s(format!("{HISTORY_PREFIX}{}", r.deployment_id)),
    );
    let summary =
        serde_json::to_string(r).map_err(|e| corrupt(&r.service, "summary", Box::new(e)))?;
    item.insert("summary".into(), s(summary));
    item.insert("deployment_id".into(), s(r.deployment_id.as_str()));
    item.insert("state".into(), s(r.state.as_str()));
    if let Some(t) = r.started_at {
        item.insert("started_at".into(), s(t.to_rfc3339()));
    }
    if let Some(t) = r.finished_at {
        item.insert("finished_at".into(), s(t.to_rfc3339()));
    }
    if let Some(d) = r.duration_s {
        item.insert("duration_s".into(), n(d));
    }
    if let Some(d) = r.downtime() {
        item.insert("downtime_s".into(), n(d));
    }
    let end = r.finished_at.or(r.started_at).unwrap_or_default();
    // The sparse history index's keys (see `dynamodb_history`).
    item.insert("history_month".into(), s(history_month(end)));
    item.insert("history_at".into(), n(end.as_millis()));
    item.insert("expires_at".into(), n(epoch_secs(end.plus(ttl))));
    Ok(item)
}

/// Decodes a history item.
pub(crate) fn summary_from_item(
    service: &ServiceArn,
    item: &Item,
) -> Result<RolloutSummary, StoreError> {
    match item.get("summary") {
        Some(AttributeValue::S(text)) => {
            serde_json::from_str(text).map_err(|e| corrupt(service, "summary", Box::new(e)))
        }
        _ => Err(corrupt(
            service,
            "summary",
            "missing or not a string".into(),
        )),
    }
}

/// Billable size of an item: attribute names plus values (strings and binaries in
/// bytes, numbers at most 21 bytes), as DynamoDB counts it toward the 400 KB limit.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(x) => x.len(),
                    AttributeValue::B(b) => b.as_ref().len(),
                    AttributeValue::N(x) => x.len().div_ceil(2) + 1,
                    _ => 0,
                }
        })
        .sum()
}

/// The `history_month` of an instant: `YYYY-MM` in UTC.
pub fn history_month(t: Timestamp) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t.as_millis().div_euclid(1000)) {
        Ok(d) => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
        Err(_) => "0000-00".to_owned(),
    }
}
