//! Why an event could not be used.

use thiserror::Error;

/// A malformed or unusable event. Every variant names the field at fault, so the
/// message in a log line or a dead-letter queue says what to fix.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The text is not JSON, or a field has the wrong type.
    #[error("{}: {message}", if path.is_empty() { "event" } else { path.as_str() })]
    Json {
        /// Dotted path to the field (`detail.version`), empty for the whole event.
        path: String,
        /// What serde found.
        message: String,
    },
    /// A field the event is useless without is absent.
    #[error("{0}: missing")]
    Missing(&'static str),
    /// A field is present but its value cannot be used.
    #[error("{field}: {problem}: {value:?}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
        /// The value, shortened to 120 characters.
        value: String,
    },
}

impl ModelError {
    pub(crate) fn from_path_error(
        prefix: &str,
        e: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (_, ".") => prefix.to_owned(),
            (true, p) => p.to_owned(),
            (false, p) => format!("{prefix}.{p}"),
        };
        let err = e.into_inner();
        // serde_json appends " at line 1 column 40"; the path says more.
        let message = err.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) if err.is_data() => &message[..i],
            _ => &message,
        };
        // serde quotes the offending value whole; a megabyte string stays out of logs.
        Self::Json {
            path: clip(&path, 240),
            message: clip(message, 240),
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: &'static str, value: &str) -> Self {
        Self::Invalid {
            field,
            problem,
            value: value.chars().take(120).collect(),
        }
    }
}

/// At most `max` characters, with `…` where it was cut.
pub(super) fn clip(text: &str, max: usize) -> String {
    // No text of at most `max` bytes has more than `max` characters: the common
    // case needs no walk over the characters.
    if text.len() <= max {
        return text.to_owned();
    }
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        // Four characters in eight bytes: longer than the cap in bytes, not in chars.
        assert_eq!(clip("éééé", 4), "éééé");
        assert_eq!(clip("ééééé", 4), "éééé…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("a", 0), "…");
    }
}
