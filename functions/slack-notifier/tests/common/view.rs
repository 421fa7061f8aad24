//! Reading a Block Kit message back the way a person sees it.

use serde_json::Value;

/// A received message.
pub struct View<'a>(pub &'a Value);

impl View<'_> {
    pub fn blocks(&self) -> &[Value] {
        self.0["blocks"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn block_types(&self) -> Vec<&str> {
        self.blocks()
            .iter()
            .filter_map(|b| b["type"].as_str())
            .collect()
    }

    pub fn header(&self) -> &str {
        self.blocks()[0]["text"]["text"].as_str().unwrap()
    }

    /// Field labels to values (`*Label*\nvalue`).
    pub fn fields(&self) -> Vec<(String, String)> {
        self.blocks()
            .iter()
            .filter_map(|b| b["fields"].as_array())
            .flatten()
            .filter_map(|f| f["text"].as_str())
            .filter_map(|t| t.split_once('\n'))
            .map(|(l, v)| (l.trim_matches('*').to_owned(), v.to_owned()))
            .collect()
    }

    pub fn field(&self, label: &str) -> Option<String> {
        self.fields()
            .into_iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v)
    }

    /// Every text object, with its type and `verbatim` flag.
    pub fn texts(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        collect(self.0, &mut out);
        out
    }

    /// All mrkdwn text, joined.
    pub fn all_text(&self) -> String {
        self.texts()
            .iter()
            .filter_map(|t| t["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn collect<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if matches!(
                m.get("type").and_then(Value::as_str),
                Some("mrkdwn" | "plain_text")
            ) {
                out.push(v);
            }
            m.values().for_each(|x| collect(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}
