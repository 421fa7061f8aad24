//! Small conversions between SDK types and ours, shared by the AWS adapters.

use aws_smithy_types::DateTime;

use crate::model::Timestamp;

/// SDK date-time to event time (milliseconds).
pub(crate) fn to_timestamp(dt: &DateTime) -> Option<Timestamp> {
    dt.to_millis().ok().map(Timestamp::from_millis)
}

/// Event time to SDK date-time.
pub(crate) fn to_datetime(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_millis())
}

/// Epoch seconds as DynamoDB's number text.
pub(crate) fn epoch_secs(t: Timestamp) -> String {
    t.as_millis().div_euclid(1000).to_string()
}
