//! Escaping: every text that came from an event (service and task names, reasons,
//! alert summaries, task definitions) goes through [`esc`] before it reaches the page.
//!
//! One function for element text and attribute values alike: `&`, `<`, `>`, `"` and
//! `'` become character references, so a value can close neither an element nor a
//! quoted attribute, in HTML or in the inline SVG. Control characters (other than
//! tab and newline) are dropped: they are not allowed in HTML text, and an event's
//! free text has no business carrying them.

use std::fmt::Write as _;

/// `text`, safe in element content and in a double- or single-quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text` (an ellipsis marks the cut), escaped.
pub(super) fn esc_clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut s = esc(&text[..cut]);
            let _ = write!(s, "…");
            s
        }
        None => esc(text),
    }
}

/// A string safe as an `id` and in a `#fragment`: ASCII letters, digits and `-`.
pub(super) fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup in an event's text stays text: no tag, no attribute break-out, no
    /// entity trickery, no control character survives.
    #[test]
    fn hostile_text_cannot_become_markup() {
        let hostile = "</title><script>alert(1)</script>\" onmouseover='x' &amp; \u{0}\u{1b}[31m";
        let e = esc(hostile);
        assert!(!e.contains('<') && !e.contains('>'), "{e}");
        assert!(!e.contains('"') && !e.contains('\''), "{e}");
        assert!(!e.contains('\u{0}') && !e.contains('\u{1b}'), "{e}");
        assert!(
            e.contains("&amp;amp;"),
            "an entity in the input is shown, not decoded"
        );
        assert_eq!(esc("web:42 · ok"), "web:42 · ok");
    }

    /// Clipping cuts at characters, never inside one or inside an escape.
    #[test]
    fn clipping_keeps_whole_characters_and_escapes() {
        assert_eq!(esc_clip("ééé<é", 4), "ééé&lt;…");
        assert_eq!(esc_clip("a<b", 3), "a&lt;b");
    }

    #[test]
    fn slugs_are_plain_ascii() {
        assert_eq!(slug("web\"><x"), "web---x");
    }
}
