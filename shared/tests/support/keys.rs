//! Events with their top-level keys in byte order, `detail` before `detail-type`: the
//! order the single-pass decoder reads through the union of the detail structs.
//! (serde_json's `Value` keeps insertion order in this workspace, where the AWS SDK
//! turns on its `preserve_order`, so printing a `Value` does not sort.)

use serde_json::Value;

/// `event` printed with its top-level keys sorted; `None` unless it is an object.
pub(crate) fn keys_sorted(event: &Value) -> Option<String> {
    let Value::Object(fields) = event else {
        return None;
    };
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    let fields: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{}:{}", Value::from(k.as_str()), fields[k]))
        .collect();
    Some(format!("{{{}}}", fields.join(",")))
}
