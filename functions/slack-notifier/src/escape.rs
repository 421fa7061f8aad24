//! Escaping event text for Slack mrkdwn.
//!
//! Stopped reasons, image names and container reasons come from whoever controls the
//! task: a stopped reason of `<!channel>` must arrive as text, not page a whole
//! channel. Slack's control characters are `&`, `<` and `>` (its formatting guide:
//! "escape them as HTML entities"); with those escaped no mention, channel link or
//! `<url|label>` link can be formed, whatever else the text holds. Message text
//! objects also carry `verbatim: true`, so Slack does not auto-link bare `@here`
//! or URLs either.

use std::borrow::Cow;

/// Escapes `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Escapes and cuts to at most `max` characters, never inside an entity; a cut
/// text ends with `…`. Slack rejects a whole message when one text is too long.
pub fn escape_within(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 16);
    let mut len = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let width = escaped_width(c);
        let room = if chars.peek().is_some() {
            max.saturating_sub(1)
        } else {
            max
        };
        if len + width > room {
            if max > 0 {
                out.push('…');
            }
            return out;
        }
        push_escaped(&mut out, c);
        len += width;
    }
    out
}

/// The inverse of [`escape`] (what Slack displays).
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

fn escaped_width(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn mentions_and_links_arrive_as_text() {
        assert_eq!(escape("<!channel> look"), "&lt;!channel&gt; look");
        assert_eq!(escape("ping <@U123>"), "ping &lt;@U123&gt;");
        assert_eq!(escape("<http://x|y>"), "&lt;http://x|y&gt;");
        assert_eq!(escape("a & b"), "a &amp; b");
        assert_eq!(
            escape("&lt;"),
            "&amp;lt;",
            "an entity in the input stays literal"
        );
        assert!(matches!(
            escape("CannotPullContainerError"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_long_text_is_cut_on_a_character_not_inside_an_entity() {
        assert_eq!(escape_within("abcdef", 4), "abc…");
        assert_eq!(escape_within("abcd", 4), "abcd");
        assert_eq!(
            escape_within("ab<cd", 5),
            "ab…",
            "&lt; does not fit with the ellipsis"
        );
        assert_eq!(escape_within("é<", 6), "é&lt;");
    }

    proptest! {
        #[test]
        fn no_control_character_survives(text in ".*") {
            let escaped = escape(&text);
            prop_assert!(!escaped.contains('<') && !escaped.contains('>'));
            prop_assert_eq!(unescape(&escaped), text);
        }

        #[test]
        fn hostile_fragments_never_survive(parts in prop::collection::vec(
            prop_oneof![
                Just("<!channel>".to_owned()), Just("<!here>".to_owned()),
                Just("<@U123>".to_owned()), Just("<http://x|y>".to_owned()),
                Just("&".to_owned()), Just("&amp;".to_owned()), "[a-z &<>|!@]{0,8}",
            ],
            0..8,
        )) {
            let text = parts.concat();
            let escaped = escape(&text);
            prop_assert!(!escaped.contains('<') && !escaped.contains('>'));
            prop_assert_eq!(unescape(&escaped), text);
        }

        #[test]
        fn a_cut_text_stays_within_bounds_and_escaped(text in ".{0,64}", max in 0usize..40) {
            let cut = escape_within(&text, max);
            prop_assert!(cut.chars().count() <= max);
            prop_assert!(!cut.contains('<') && !cut.contains('>'));
            let kept = cut.strip_suffix('…').unwrap_or(&cut);
            prop_assert!(text.starts_with(&unescape(kept)));
        }
    }
}
