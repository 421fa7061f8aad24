//! Reading events from files: a JSON array, JSON Lines, or pretty-printed objects one
//! after another. A bad line is reported with its line number and skipped; the valid
//! events around it are never lost.

use serde_json::value::RawValue;

/// One event's JSON text and where it starts.
pub struct Located<'a> {
    /// 1-based line where the value starts.
    pub line: usize,
    /// The JSON text of the value.
    pub text: &'a str,
}

/// A syntax error at a line.
pub struct BadLine {
    /// 1-based line.
    pub line: usize,
    /// What is wrong with it, in a few words (`not JSON: expected value at column 1`).
    pub message: String,
}

/// Splits `text` into event texts, in order. A line that is a whole JSON value is an
/// event; otherwise the value may span lines (pretty-printed JSON, an array); if it
/// does not parse either way, that line is reported and reading resumes at the next.
pub fn split(text: &str) -> Vec<Result<Located<'_>, BadLine>> {
    let mut out = Vec::new();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|i| *i < text.len())
        .collect();
    let mut i = 0;
    while i < starts.len() {
        let begin = starts[i];
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let line_text = text[begin..end].trim();
        if line_text.is_empty() {
            i += 1;
            continue;
        }
        let alone = serde_json::from_str::<&RawValue>(line_text);
        if let (Ok(raw), false) = (&alone, line_text.starts_with('[')) {
            out.push(Ok(Located {
                line: i + 1,
                text: raw.get(),
            }));
            i += 1;
            continue;
        }
        let rest = &text[begin..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
        match stream.next() {
            Some(Ok(raw)) => {
                let consumed = begin + stream.byte_offset();
                let value_start = begin + offset_in(rest, raw.get());
                let first = starts.partition_point(|s| *s <= value_start);
                if raw.get().starts_with('[') {
                    array(raw.get(), text, &starts, &mut out, first);
                } else {
                    out.push(Ok(Located {
                        line: first,
                        text: raw.get(),
                    }));
                }
                i = starts.partition_point(|s| *s < consumed).max(i + 1);
            }
            _ => {
                let message = match alone {
                    Err(e) => not_json(&e),
                    Ok(_) => "not JSON: an array that does not close".to_owned(),
                };
                out.push(Err(BadLine {
                    line: i + 1,
                    message,
                }));
                i += 1;
            }
        }
    }
    out
}

fn array<'a>(
    raw: &'a str,
    text: &str,
    starts: &[usize],
    out: &mut Vec<Result<Located<'a>, BadLine>>,
    line: usize,
) {
    match serde_json::from_str::<Vec<&RawValue>>(raw) {
        Ok(items) => {
            for item in items {
                let at = offset_in(text, item.get());
                out.push(Ok(Located {
                    line: starts.partition_point(|s| *s <= at),
                    text: item.get(),
                }));
            }
        }
        Err(e) => out.push(Err(BadLine {
            line,
            message: format!("array: {}", not_json(&e)),
        })),
    }
}

/// A JSON syntax error in one line: what the parser found and at which column (the
/// line number is the caller's), e.g. `not JSON: expected value at column 1`.
fn not_json(e: &serde_json::Error) -> String {
    let what = e.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what);
    if e.is_eof() {
        format!("not JSON: cut short ({what})")
    } else if e.line() == 1 {
        format!("not JSON: {what} at column {}", e.column())
    } else {
        format!("not JSON: {what}")
    }
}

fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Result<usize, usize>> {
        split(text)
            .into_iter()
            .map(|r| r.map(|l| l.line).map_err(|b| b.line))
            .collect()
    }

    #[test]
    fn json_lines_with_a_bad_line_keep_the_good_ones() {
        let text = "{\"a\":1}\n{\"a\":\n{\"a\":3}\n\n{\"a\":4}\n";
        assert_eq!(lines(text), vec![Ok(1), Err(2), Ok(3), Ok(5)]);
    }

    #[test]
    fn truncated_last_line_is_an_error_with_its_line() {
        assert_eq!(lines("{\"a\":1}\n{\"a\":2, \"b\""), vec![Ok(1), Err(2)]);
    }

    #[test]
    fn arrays_and_pretty_objects_give_each_element_its_line() {
        assert_eq!(lines("[\n {\"a\":1},\n {\"a\":2}\n]\n"), vec![Ok(2), Ok(3)]);
        assert_eq!(
            lines("{\n \"a\": 1\n}\n{\n \"a\": 2\n}\n"),
            vec![Ok(1), Ok(4)]
        );
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let got = lines("not json\n\u{0}\u{1}\n{\"a\":1}\n");
        assert_eq!(got.last(), Some(&Ok(3)));
        assert!(got.iter().filter(|r| r.is_err()).count() >= 1);
    }
}
