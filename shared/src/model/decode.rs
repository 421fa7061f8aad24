//! The decoder's front door: the single pass first, the path-tracking decoder when it
//! declines.
//!
//! It is a file of its own so that the two decoders depend on the event types and
//! never on each other: [`fast`] builds an [`EcsEvent`] from [`super::event`]'s types,
//! and this file is the only one that knows both.

use super::error::ModelError;
use super::event::EcsEvent;
use super::fast;

impl EcsEvent {
    /// Decodes one event from JSON text. Errors name the field
    /// (`detail.version: invalid type: string "7", expected u64`).
    ///
    /// Two decoders, one meaning: nearly every event is well formed, so a single pass
    /// without path tracking reads it ([`fast`]); anything it does not accept
    /// is decoded again by the path-tracking decoder, which either accepts it too
    /// (say, an escaped key) or names the field at fault.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        match fast::decode(text) {
            Some(event) => Ok(event),
            None => Self::from_json_tracked(text),
        }
    }

    /// Decodes from bytes (must be UTF-8 JSON).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ModelError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ModelError::Json {
            path: String::new(),
            message: format!("not UTF-8: {e}"),
        })?;
        Self::from_json(text)
    }

    /// Decodes from an already parsed JSON value (the Lambda payload).
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ModelError> {
        // Through text keeps one decoding path, with the same field-naming errors.
        Self::from_json(&value.to_string())
    }
}
