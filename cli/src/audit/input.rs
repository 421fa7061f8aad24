//! What `--describe-services` accepts, checked before a single service is read from it:
//! the JSON `aws ecs describe-services` prints (`{"services": [...], "failures":
//! [...]}`), `create-service`/`update-service`'s `{"service": {...}}`, or a bare array
//! of services. Anything else (an empty file, an EventBridge event, another command's
//! output, an empty `services` list) is refused with what was expected, so that a CI
//! gate never passes on nothing. Each field the audit reads is checked for its type,
//! and a wrong one is named by its path (`services[0].desiredCount`).

use serde_json::{Map, Value};

use super::AuditError;

/// The shape of what `aws ecs describe-services` prints, for error messages.
const EXPECTED: &str = "expected the JSON `aws ecs describe-services` prints: \
     {\"services\": [...], \"failures\": [...]}";

/// A field's expected JSON type.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Count,
    Flag,
    List,
    Object(&'static [(&'static str, Self)]),
}

const BREAKER: &[(&str, Kind)] = &[
    ("enable", Kind::Flag),
    ("rollback", Kind::Flag),
    (
        "thresholdConfiguration",
        Kind::Object(&[("type", Kind::Text), ("value", Kind::Count)]),
    ),
];

/// The fields of a service the audit reads (describe-services' camelCase names).
const SERVICE: &[(&str, Kind)] = &[
    ("serviceName", Kind::Text),
    ("serviceArn", Kind::Text),
    ("clusterArn", Kind::Text),
    ("status", Kind::Text),
    ("desiredCount", Kind::Count),
    ("schedulingStrategy", Kind::Text),
    (
        "deploymentController",
        Kind::Object(&[("type", Kind::Text)]),
    ),
    ("healthCheckGracePeriodSeconds", Kind::Count),
    ("loadBalancers", Kind::List),
    (
        "deploymentConfiguration",
        Kind::Object(&[
            ("minimumHealthyPercent", Kind::Count),
            ("maximumPercent", Kind::Count),
            ("deploymentCircuitBreaker", Kind::Object(BREAKER)),
        ]),
    ),
];

const FAILURE: &[(&str, Kind)] = &[
    ("arn", Kind::Text),
    ("reason", Kind::Text),
    ("detail", Kind::Text),
];

/// Checks that `text` (read from `source`, a file or `-`) is describe-services output
/// with at least one service or failure in it.
pub(super) fn check(source: &str, text: &str) -> Result<(), AuditError> {
    check_shape(source, text, false)
}

/// [`check`] for `replay --describe-services`: describe-services output too, but one
/// that describes no service is no error (replay then follows the events alone).
pub(super) fn check_for_replay(source: &str, text: &str) -> Result<(), AuditError> {
    check_shape(source, text, true)
}

/// What refuses EventBridge events, which the user meant for `replay`: `kind` is the
/// first event's detail-type, `many` whether there are several.
fn events(source: &str, kind: &str, many: bool) -> String {
    let what = if many {
        format!("EventBridge events (the first: {kind:?})")
    } else {
        format!("an EventBridge event ({kind:?})")
    };
    format!(
        "{what}, not describe-services output; `rollout-watcher replay {source}` reads \
         events; {EXPECTED}"
    )
}

/// The detail-type of `value` when it is an EventBridge event.
fn detail_type(value: &Value) -> Option<&str> {
    let top = value.as_object()?;
    top.get("detail-type")
        .map(|kind| kind.as_str().unwrap_or("an event"))
}

fn check_shape(source: &str, text: &str, empty_is_fine: bool) -> Result<(), AuditError> {
    let refuse = |problem: String| AuditError::Input {
        source_name: source.to_owned(),
        problem,
    };
    if text.trim().is_empty() {
        return Err(refuse(format!("empty; {EXPECTED}")));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // Events one after another (JSON Lines, what `simulate` writes) are no single
        // JSON value: say they are events rather than where the second one starts.
        let first = serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .next();
        if let Some(kind) = first.and_then(Result::ok).as_ref().and_then(detail_type) {
            return refuse(events(source, kind, true));
        }
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_owned();
        let at = format!("line {} column {}", e.line(), e.column());
        refuse(if e.is_eof() {
            format!("{at}: the JSON ends early ({what}); {EXPECTED}")
        } else {
            format!("{at}: not JSON ({what}); {EXPECTED}")
        })
    })?;
    let nothing = || {
        refuse(
            "no service in it (\"services\" is empty): nothing to audit, and a gate never \
             passes on nothing; check the cluster and the --services names you gave \
             `aws ecs describe-services`"
                .to_owned(),
        )
    };
    match &value {
        Value::Array(items) if items.first().and_then(detail_type).is_some() => {
            let kind = items.first().and_then(detail_type).unwrap_or("an event");
            Err(refuse(events(source, kind, items.len() > 1)))
        }
        Value::Array(services) if services.is_empty() && !empty_is_fine => Err(nothing()),
        Value::Array(services) => each(services, "", service).map_err(refuse),
        Value::Object(top) if top.contains_key("services") || top.contains_key("service") => {
            let services = match top.get("services") {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(s)) => s.as_slice(),
                Some(other) => {
                    return Err(refuse(format!(
                        "services: {}, expected a list of services",
                        kind_of(other)
                    )));
                }
            };
            each(services, "services", service).map_err(refuse)?;
            if let Some(one) = top.get("service").filter(|s| !s.is_null()) {
                service(one, "service").map_err(refuse)?;
            }
            let failures = match top.get("failures") {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(f)) => f.as_slice(),
                Some(other) => {
                    return Err(refuse(format!(
                        "failures: {}, expected a list",
                        kind_of(other)
                    )));
                }
            };
            each(failures, "failures", failure).map_err(refuse)?;
            let single = top.get("service").is_some_and(|s| !s.is_null());
            if services.is_empty() && failures.is_empty() && !single && !empty_is_fine {
                return Err(nothing());
            }
            Ok(())
        }
        Value::Object(_) if detail_type(&value).is_some() => {
            let kind = detail_type(&value).unwrap_or("an event");
            Err(refuse(events(source, kind, false)))
        }
        Value::Object(top) => {
            let keys: Vec<&str> = top.keys().map(String::as_str).take(8).collect();
            Err(refuse(format!(
                "no \"services\" key (it has: {}); {EXPECTED}",
                if keys.is_empty() {
                    "no keys".to_owned()
                } else {
                    keys.join(", ")
                }
            )))
        }
        other => Err(refuse(format!("{}; {EXPECTED}", kind_of(other)))),
    }
}

fn each(
    items: &[Value],
    path: &str,
    check: fn(&Value, &str) -> Result<(), String>,
) -> Result<(), String> {
    for (i, item) in items.iter().enumerate() {
        check(item, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

fn failure(item: &Value, at: &str) -> Result<(), String> {
    object(item, at, FAILURE)
}

fn service(item: &Value, at: &str) -> Result<(), String> {
    object(item, at, SERVICE)?;
    let named = ["serviceName", "serviceArn"]
        .iter()
        .any(|k| item.get(k).is_some_and(Value::is_string));
    if named {
        Ok(())
    } else {
        Err(format!(
            "{at}: neither serviceName nor serviceArn: not a service as describe-services \
             prints it"
        ))
    }
}

fn object(item: &Value, at: &str, fields: &[(&str, Kind)]) -> Result<(), String> {
    let Value::Object(map) = item else {
        return Err(format!("{at}: {}, expected an object", kind_of(item)));
    };
    fields_of(map, at, fields)
}

fn fields_of(map: &Map<String, Value>, at: &str, fields: &[(&str, Kind)]) -> Result<(), String> {
    for (name, kind) in fields {
        let Some(v) = map.get(*name).filter(|v| !v.is_null()) else {
            continue;
        };
        let path = format!("{at}.{name}");
        let fits = match kind {
            Kind::Text => v.is_string(),
            Kind::Count => v.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
            Kind::Flag => v.is_boolean(),
            Kind::List => v.is_array(),
            Kind::Object(inner) => match v {
                Value::Object(m) => {
                    fields_of(m, &path, inner)?;
                    true
                }
                _ => false,
            },
        };
        if !fits {
            let expected = match kind {
                Kind::Text => "a string",
                Kind::Count => "a whole number from 0 to 4294967295",
                Kind::Flag => "true or false",
                Kind::List => "a list",
                Kind::Object(_) => "an object",
            };
            return Err(format!("{path}: {}, expected {expected}", kind_of(v)));
        }
    }
    Ok(())
}

/// `a number (6)`, `a string ("one")`, …: what was found, shortly.
fn kind_of(v: &Value) -> String {
    let shown = |s: String| -> String {
        if s.chars().count() > 40 {
            format!("{}…", s.chars().take(40).collect::<String>())
        } else {
            s
        }
    };
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({})", shown(format!("{s:?}"))),
        Value::Array(a) => format!("a list of {}", a.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        check("s.json", text).unwrap_err().to_string()
    }

    #[test]
    fn describe_services_output_and_its_variants_pass() {
        for ok in [
            r#"{"services":[{"serviceName":"a","desiredCount":1}],"failures":[]}"#,
            r#"{"services":[],"failures":[{"arn":"arn:aws:ecs:x","reason":"MISSING"}]}"#,
            r#"{"service":{"serviceArn":"arn:aws:ecs:eu-west-1:1:service/c/a"}}"#,
            r#"[{"serviceName":"a","desiredCount":null}]"#,
        ] {
            assert!(check("s.json", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_wrong_type_is_named_by_its_path() {
        assert_eq!(
            problem(r#"{"services":[{"serviceName":"a","desiredCount":"one"}]}"#),
            "s.json: services[0].desiredCount: a string (\"one\"), expected a whole number \
             from 0 to 4294967295"
        );
        assert_eq!(
            problem(
                r#"{"services":[{"serviceName":"a","deploymentConfiguration":
                {"deploymentCircuitBreaker":{"enable":"yes"}}}]}"#
            ),
            "s.json: services[0].deploymentConfiguration.deploymentCircuitBreaker.enable: \
             a string (\"yes\"), expected true or false"
        );
    }

    #[test]
    fn nothing_to_audit_is_refused() {
        for nothing in [
            "{\"services\":[],\"failures\":[]}",
            "[]",
            "{\"services\":null}",
        ] {
            assert!(
                problem(nothing).contains("a gate never passes on nothing"),
                "{nothing}"
            );
        }
    }
}
