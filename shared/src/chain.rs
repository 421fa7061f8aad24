//! The one way an error is written out on one line, for logs and for the Lambda
//! error message, where only a string survives.

/// `error: source: source …` of any error. A source whose text the message already
/// ends with (a `#[error(transparent)]` or `"…: {0}"` wrapper) is not repeated.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle: {0}")]
    struct Middle(#[source] std::io::Error);

    /// Every source once, in order, even when a message already quotes its source.
    #[test]
    fn every_source_once_in_order() {
        let e = Outer(Middle(std::io::Error::other("disk full")));
        assert_eq!(error_chain(&e), "outer: middle: disk full");
    }
}
