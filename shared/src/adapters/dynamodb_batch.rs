//! Several services' live items written in one DynamoDB call: PartiQL's
//! `BatchExecuteStatement`, one conditional statement per service.
//!
//! Why this call: a queued batch writes up to ten services, and what a write costs
//! the function is mostly the call (signing, the request, the reply: about 0.25 ms
//! of CPU), not the item (about 0.03 ms more); one call for the batch instead of
//! one per service is what keeps the handler under its CPU budget on interleaved
//! traffic (`tests/examples/write_cost.rs` measures it). The two other calls that
//! carry several items do not fit: `BatchWriteItem` has no conditions, and
//! `TransactWriteItems` bills twice the write units and lets one service's conflict
//! cancel every other's.
//!
//! Each statement keeps the single write's guarantee:
//! - a new service's item is an `INSERT`, which DynamoDB refuses with
//!   `DuplicateItem` when the item exists (the single write's
//!   `attribute_not_exists(pk)`);
//! - an existing one is an `UPDATE ... WHERE "pk" = ? AND "sk" = ? AND "rev" = ?`
//!   that sets every attribute of the new item and removes the live item's others,
//!   so the stored item is exactly what the single write's `PutItem` would leave;
//!   DynamoDB answers `ConditionalCheckFailed` (with the stored item, asked
//!   `ALL_OLD`) when the revision moved, as the single write's condition does.
//!
//! A statement DynamoDB rejects as invalid or not allowed (a policy granting only
//! `PutItem`), and a whole call refused the same way, fall back to the single
//! write for the services concerned, so the watcher keeps working, one call per
//! service, and says so in its log. Writes that finish a rollout also write its
//! history item in the same transaction: they stay single writes.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, BatchStatementResponse,
    ReturnValuesOnConditionCheckFailure,
};

use crate::ports::{SaveRequest, StoreError};

use super::dynamodb::DynamoStore;
use super::dynamodb_ext::{Item, live_item, n, record_from_item};

/// The most statements DynamoDB takes in one `BatchExecuteStatement`.
const STATEMENTS_PER_CALL: usize = 25;

/// The live item's attributes besides its key: an `UPDATE` removes those the new
/// item lacks (a document moved between `state` and `state_z`, an emptied outbox,
/// a service no longer due), as the single write's whole-item `PutItem` does.
const LIVE_ATTRIBUTES: [&str; 9] = [
    "rev", "state", "state_z", "outbox", "outbox_z", "writes", "gone_at", "due_pk", "due_at",
];

/// What became of one statement.
enum Answer {
    Written,
    /// Another write came first (the stored item when DynamoDB returned it).
    Lost(Option<Item>),
    /// DynamoDB will not run the statement: write this service on its own.
    Single,
    /// Failed for a reason a retry can mend (throttled, a 5xx).
    Failed(String),
}

/// One service's statement: `INSERT` of a new item, `UPDATE` of an existing one.
pub(super) fn statement(
    table: &str,
    expected: u64,
    item: Item,
) -> Result<BatchStatementRequest, StoreError> {
    let mut names: Vec<&String> = item.keys().collect();
    // A stable order keeps the statement's text (and its parameters) reproducible.
    names.sort();
    let (text, parameters) = if expected == 0 {
        let fields: Vec<String> = names.iter().map(|k| format!("'{k}': ?")).collect();
        let text = format!("INSERT INTO \"{table}\" VALUE {{{}}}", fields.join(", "));
        let parameters = names.iter().map(|k| item[*k].clone()).collect();
        (text, parameters)
    } else {
        let set: Vec<&&String> = names
            .iter()
            .filter(|k| k.as_str() != "pk" && k.as_str() != "sk")
            .collect();
        let mut text = format!("UPDATE \"{table}\"");
        for k in &set {
            text.push_str(&format!(" SET \"{k}\" = ?"));
        }
        for k in LIVE_ATTRIBUTES.iter().filter(|k| !item.contains_key(**k)) {
            text.push_str(&format!(" REMOVE \"{k}\""));
        }
        text.push_str(" WHERE \"pk\" = ? AND \"sk\" = ? AND \"rev\" = ?");
        let mut parameters: Vec<AttributeValue> = set.iter().map(|k| item[**k].clone()).collect();
        for key in ["pk", "sk"] {
            let value = item.get(key).cloned().ok_or_else(|| StoreError::Backend {
                operation: "BatchExecuteStatement",
                source: format!("the live item has no `{key}`").into(),
            })?;
            parameters.push(value);
        }
        parameters.push(n(expected));
        (text, parameters)
    };
    BatchStatementRequest::builder()
        .statement(text)
        .set_parameters(Some(parameters))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(|e| StoreError::Backend {
            operation: "BatchExecuteStatement",
            source: Box::new(e),
        })
}

/// What DynamoDB answered for one statement.
fn answer(response: Option<&BatchStatementResponse>) -> Answer {
    let Some(response) = response else {
        return Answer::Failed("DynamoDB answered fewer statements than it was sent".into());
    };
    let Some(error) = response.error() else {
        return Answer::Written;
    };
    let message = error.message().unwrap_or_default();
    match error.code() {
        Some(BatchStatementErrorCodeEnum::ConditionalCheckFailed) => {
            Answer::Lost(error.item().cloned())
        }
        // The item exists (INSERT), or a transaction (the sweeper's, finishing a
        // rollout) held it: re-read and re-apply, as after a failed condition.
        Some(
            BatchStatementErrorCodeEnum::DuplicateItem
            | BatchStatementErrorCodeEnum::TransactionConflict,
        ) => Answer::Lost(None),
        Some(
            BatchStatementErrorCodeEnum::ValidationError
            | BatchStatementErrorCodeEnum::AccessDenied,
        ) => {
            tracing::warn!(code = ?error.code(), message, "DynamoDB refused a batched write; writing that service on its own");
            Answer::Single
        }
        code => Answer::Failed(format!("{code:?}: {message}")),
    }
}

impl DynamoStore {
    /// Writes that finish a rollout stay single (their history items go in the
    /// same transaction), and so does a write alone (a `PutItem`); the others go in
    /// `BatchExecuteStatement` calls of at most [`STATEMENTS_PER_CALL`]. The
    /// results in the requests' order.
    pub(super) async fn save_batched(
        &self,
        requests: &[SaveRequest<'_>],
    ) -> Vec<Result<(), StoreError>> {
        let together: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].finished.is_empty())
            .collect();
        let mut out: Vec<Option<Result<(), StoreError>>> =
            (0..requests.len()).map(|_| None).collect();
        if together.len() > 1 {
            for chunk in together.chunks(STATEMENTS_PER_CALL) {
                let sent: Vec<SaveRequest<'_>> = chunk.iter().map(|&i| requests[i]).collect();
                for (&i, result) in chunk.iter().zip(self.save_chunk(&sent).await) {
                    out[i] = Some(result);
                }
            }
        }
        for (request, slot) in requests.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                *slot = Some(self.save_single(*request).await);
            }
        }
        out.into_iter().flatten().collect()
    }

    async fn save_chunk(&self, chunk: &[SaveRequest<'_>]) -> Vec<Result<(), StoreError>> {
        let mut unbuilt = Vec::with_capacity(chunk.len());
        let mut statements = Vec::with_capacity(chunk.len());
        for request in chunk {
            match live_item(request).and_then(|item| statement(&self.table, request.expected, item))
            {
                Ok(s) => {
                    statements.push(s);
                    unbuilt.push(None);
                }
                Err(e) => unbuilt.push(Some(e)),
            }
        }
        let mut answers = self.execute(statements).await.into_iter();
        let mut out = Vec::with_capacity(chunk.len());
        for (request, unbuilt) in chunk.iter().zip(unbuilt) {
            let service = request.record.state.service();
            let answer = match unbuilt {
                Some(e) => {
                    out.push(Err(e));
                    continue;
                }
                None => answers.next(),
            };
            out.push(match answer {
                Some(Answer::Written) => Ok(()),
                Some(Answer::Lost(winner)) => Err(StoreError::Conflict {
                    service: service.to_string(),
                    expected: request.expected,
                    current: winner
                        .and_then(|item| record_from_item(service, &item).ok())
                        .map(Box::new),
                }),
                Some(Answer::Single) => self.save_single(*request).await,
                Some(Answer::Failed(message)) => Err(batch_failed(message)),
                None => Err(batch_failed("no answer for the statement".into())),
            });
        }
        out
    }

    /// One `BatchExecuteStatement`: an answer per statement, in order (the same for
    /// every statement when the whole call failed).
    async fn execute(&self, statements: Vec<BatchStatementRequest>) -> Vec<Answer> {
        if statements.is_empty() {
            return Vec::new();
        }
        let sent = statements.len();
        let call = self
            .client
            .batch_execute_statement()
            .set_statements(Some(statements))
            .send()
            .await;
        match call {
            Ok(output) => (0..sent)
                .map(|k| answer(output.responses().get(k)))
                .collect(),
            Err(e) => {
                let refused = matches!(
                    e.code(),
                    Some("ValidationException" | "AccessDeniedException")
                );
                let message = crate::error_chain(&e);
                if refused {
                    tracing::warn!(error = %message, "DynamoDB refused the batched write; writing the services one by one");
                }
                (0..sent)
                    .map(|_| {
                        if refused {
                            Answer::Single
                        } else {
                            Answer::Failed(message.clone())
                        }
                    })
                    .collect()
            }
        }
    }
}

fn batch_failed(message: String) -> StoreError {
    StoreError::Backend {
        operation: "BatchExecuteStatement",
        source: message.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::adapters::dynamodb_ext::s;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    /// A new service's item: every attribute a parameter, in name order.
    #[test]
    fn a_new_item_is_an_insert_of_every_attribute() {
        let live = item(&[("sk", s("service")), ("pk", s("arn")), ("rev", n(1))]);
        let st = statement("state", 0, live).unwrap();
        assert_eq!(
            st.statement(),
            "INSERT INTO \"state\" VALUE {'pk': ?, 'rev': ?, 'sk': ?}"
        );
        assert_eq!(st.parameters(), [s("arn"), n(1), s("service")]);
        assert_eq!(
            st.return_values_on_condition_check_failure(),
            Some(&ReturnValuesOnConditionCheckFailure::AllOld)
        );
    }

    /// An existing one: its attributes set, the live item's others removed, on the
    /// condition that it is still at the expected revision.
    #[test]
    fn an_existing_item_is_an_update_at_its_revision_removing_what_it_lost() {
        let live = item(&[
            ("pk", s("arn")),
            ("sk", s("service")),
            ("rev", n(8)),
            ("state", s("{}")),
            ("writes", s("[]")),
        ]);
        let st = statement("state", 7, live).unwrap();
        assert_eq!(
            st.statement(),
            "UPDATE \"state\" SET \"rev\" = ? SET \"state\" = ? SET \"writes\" = ? \
             REMOVE \"state_z\" REMOVE \"outbox\" REMOVE \"outbox_z\" REMOVE \"gone_at\" \
             REMOVE \"due_pk\" REMOVE \"due_at\" \
             WHERE \"pk\" = ? AND \"sk\" = ? AND \"rev\" = ?"
        );
        assert_eq!(
            st.parameters(),
            [n(8), s("{}"), s("[]"), s("arn"), s("service"), n(7)]
        );
    }
}
