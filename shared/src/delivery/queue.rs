//! The ecs-event-handler's one entry point: what Lambda hands the bootstrap, either one
//! EventBridge event (the rule invokes the function) or an SQS event of queued
//! EventBridge events (the rules feed a FIFO queue whose event source mapping invokes
//! the function in batches), and what it answers to each.
//!
//! The two are told apart by the payload: an SQS event is `{"Records":[...]}`, each
//! record's `body` the EventBridge event's JSON text. Its answer is the partial-batch
//! response (`ReportBatchItemFailures`): the message ids to hand back to the queue.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::model::{ModelError, Timestamp};
use crate::ports::Ports;

use super::batch::{BatchOutcome, QueuedEvent};
use super::{HandlerError, Outcome, Watcher};

/// What the function answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// One EventBridge event: what it did.
    Event(Outcome),
    /// An SQS batch: the partial-batch response.
    Batch(BatchResponse),
}

/// The partial-batch response Lambda reads when the event source mapping has
/// `ReportBatchItemFailures`: the messages to hand back (none: all are deleted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchResponse {
    /// The messages to hand back, in batch order.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One message to hand back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    /// Its SQS message id.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl From<BatchOutcome> for BatchResponse {
    fn from(out: BatchOutcome) -> Self {
        Self {
            batch_item_failures: out
                .failed
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }
}

/// An SQS event as Lambda delivers it; only the fields the handler reads. Other
/// payloads have no `Records` and decode to `None`.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<Vec<SqsRecord<'a>>>,
}

/// One SQS message. The body is a JSON string holding the event: borrowed from the
/// payload when it has no escapes, unescaped once otherwise, never parsed here.
#[derive(Debug, Deserialize)]
struct SqsRecord<'a> {
    #[serde(rename = "messageId", borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow)]
    body: Cow<'a, str>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Cow<'a, str>,
}

/// The `eventSource` of an SQS record.
const SQS_SOURCE: &str = "aws:sqs";

/// The messages of an SQS event, or `None` when the payload is not one (one
/// EventBridge event). Errors name the field (`Records[2].body: invalid type: ...`,
/// `Records[0].eventSource: ...`).
fn queued(payload: &str) -> Result<Option<Vec<SqsRecord<'_>>>, ModelError> {
    // An EventBridge event holds no `"Records"` key; the text search spares the
    // direct road a second pass over every event. Where the text appears (say, as a
    // container's name), the decoder below decides.
    if !payload.contains("\"Records\"") {
        return Ok(None);
    }
    let envelope: Envelope<'_> = match serde_json::from_str(payload) {
        Ok(e) => e,
        // Decoded again, on the error path only, for the path to the field at fault.
        Err(plain) => {
            let de = &mut serde_json::Deserializer::from_str(payload);
            return Err(
                match serde_path_to_error::deserialize::<_, Envelope<'_>>(de) {
                    Err(e) => ModelError::from_path_error("", e),
                    Ok(_) => ModelError::Json {
                        path: String::new(),
                        message: plain.to_string(),
                    },
                },
            );
        }
    };
    let Some(records) = envelope.records else {
        return Ok(None);
    };
    if let Some((i, r)) = records
        .iter()
        .enumerate()
        .find(|(_, r)| r.event_source != SQS_SOURCE)
    {
        return Err(ModelError::Json {
            path: format!("Records[{i}].eventSource"),
            message: format!("expected \"{SQS_SOURCE}\", found {:?}", r.event_source),
        });
    }
    Ok(Some(records))
}

impl<P: Ports> Watcher<P> {
    /// Handles what Lambda invoked the function with: one EventBridge event as
    /// [`Self::handle_json`] does (an error fails the invocation), or an SQS event as
    /// [`Self::handle_batch`] does (a message's failure is in the response; the
    /// invocation fails only when the payload is not a well-formed SQS event, and then
    /// the whole batch goes back to the queue).
    pub async fn handle_invocation(
        &self,
        payload: &str,
        invocation: &str,
    ) -> Result<Response, HandlerError> {
        self.handle_invocation_within(payload, invocation, Timestamp::from_millis(i64::MAX))
            .await
    }

    /// [`Self::handle_invocation`] for an invocation that Lambda stops at `deadline`
    /// (its context's, epoch milliseconds): a batch hands back the services it has
    /// no time left to start (see [`Self::handle_batch_within`]).
    pub async fn handle_invocation_within(
        &self,
        payload: &str,
        invocation: &str,
        deadline: Timestamp,
    ) -> Result<Response, HandlerError> {
        let Some(records) = queued(payload)? else {
            return self
                .handle_json(payload, invocation)
                .await
                .map(Response::Event);
        };
        let batch: Vec<QueuedEvent<'_>> = records
            .iter()
            .map(|r| QueuedEvent {
                message_id: &r.message_id,
                body: &r.body,
            })
            .collect();
        let out = self.handle_batch_within(&batch, invocation, deadline).await;
        Ok(Response::Batch(out.into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn record(id: &str, body: &str) -> String {
        format!(
            r#"{{"messageId":"{id}","receiptHandle":"AQEB","body":{},"attributes":{{"ApproximateReceiveCount":"1","MessageGroupId":"ecs-events"}},"messageAttributes":{{}},"md5OfBody":"x","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:ecs-events.fifo","awsRegion":"eu-west-1"}}"#,
            serde_json::to_string(body).unwrap()
        )
    }

    #[test]
    fn an_sqs_event_yields_its_messages_in_order_with_their_bodies() {
        let event = r#"{"version":"0","id":"e-1","detail-type":"ECS Task State Change"}"#;
        let payload = format!(
            r#"{{"Records":[{},{}]}}"#,
            record("m-1", event),
            record("m-2", "not json")
        );
        let records = queued(&payload).unwrap().unwrap();
        let got: Vec<(&str, &str)> = records.iter().map(|r| (&*r.message_id, &*r.body)).collect();
        assert_eq!(got, [("m-1", event), ("m-2", "not json")]);
        assert!(matches!(records[0].message_id, Cow::Borrowed(_)));
    }

    #[test]
    fn an_eventbridge_event_is_not_a_batch() {
        let event = r#"{"version":"0","detail-type":"ECS Task State Change","detail":{"containers":[{"name":"Records"}]}}"#;
        assert!(queued(event).unwrap().is_none());
        assert!(queued(r#"{"id":"x"}"#).unwrap().is_none());
    }

    #[test]
    fn a_malformed_sqs_event_names_the_field() {
        let ok = record("m-1", "{}");
        let no_id = ok.replace(r#""messageId":"m-1","#, "");
        let err = queued(&format!(r#"{{"Records":[{ok},{no_id}]}}"#)).unwrap_err();
        assert_eq!(err.to_string(), "Records[1]: missing field `messageId`");
        let object_body = ok.replace(r#""body":"{}""#, r#""body":{}"#);
        let err = queued(&format!(r#"{{"Records":[{object_body}]}}"#)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Records[0].body: invalid type: map"),
            "{err}"
        );
        let kinesis = ok.replace("aws:sqs", "aws:kinesis");
        let err = queued(&format!(r#"{{"Records":[{ok},{kinesis}]}}"#)).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"Records[1].eventSource: expected "aws:sqs", found "aws:kinesis""#
        );
    }

    #[test]
    fn responses_serialise_as_lambda_reads_them() {
        let out = BatchOutcome {
            failed: vec!["m-2".into(), "m-3".into()],
            applied: 1,
            ..BatchOutcome::default()
        };
        let json = serde_json::to_string(&Response::Batch(out.into())).unwrap();
        assert_eq!(
            json,
            r#"{"batchItemFailures":[{"itemIdentifier":"m-2"},{"itemIdentifier":"m-3"}]}"#
        );
        let none = serde_json::to_string(&Response::Batch(BatchResponse::default())).unwrap();
        assert_eq!(none, r#"{"batchItemFailures":[]}"#);
        let one = Outcome {
            status: "applied",
            ..Outcome::default()
        };
        assert_eq!(
            serde_json::to_value(Response::Event(one.clone())).unwrap(),
            serde_json::to_value(one).unwrap()
        );
    }
}
