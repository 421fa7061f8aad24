//! ECS's Service Deployments API, answered by the proxy: moto lacks it
//! (`ListServiceDeployments` and `DescribeServiceDeployments` are not implemented
//! there), so these two operations are answered from a script the test sets, in
//! ECS's JSON 1.1 as AWS sends it, and every other ECS call still goes to moto. The
//! watcher's real SDK clients and adapters parse the answers, as they would AWS's.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// Whether the proxy answers this ECS operation itself.
pub(super) fn answers(service: &str, operation: &str) -> bool {
    service == "ecs"
        && matches!(
            operation,
            "ListServiceDeployments" | "DescribeServiceDeployments"
        )
}

/// The answer to one request, from `script`: each entry one `ServiceDeployment` object
/// as DescribeServiceDeployments returns it (times in epoch seconds).
pub(super) fn answer(script: &[Value], operation: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let out = match operation {
        "ListServiceDeployments" => list(script, &request),
        _ => describe(script, &request),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "proxy-service-deployments")
        .body(Full::new(Bytes::from(out.to_string())))
        .unwrap_or_default()
}

/// The service's deployments created after `createdAt.after`, as briefs.
fn list(script: &[Value], request: &Value) -> Value {
    let service = request["service"].as_str().unwrap_or_default();
    let after = request["createdAt"]["after"].as_f64();
    let limit = request["maxResults"].as_u64().unwrap_or(20);
    let briefs: Vec<Value> = script
        .iter()
        .filter(|d| {
            let arn = d["serviceArn"].as_str().unwrap_or_default();
            arn == service || arn.rsplit('/').next() == Some(service)
        })
        .filter(|d| after.is_none_or(|a| d["createdAt"].as_f64().is_none_or(|c| c > a)))
        .take(usize::try_from(limit).unwrap_or(20))
        .map(|d| {
            json!({
                "serviceDeploymentArn": d["serviceDeploymentArn"],
                "serviceArn": d["serviceArn"],
                "clusterArn": d["clusterArn"],
                "createdAt": d["createdAt"],
                "startedAt": d["startedAt"],
                "finishedAt": d["finishedAt"],
                "targetServiceRevisionArn": d["targetServiceRevision"]["arn"],
                "status": d["status"],
                "statusReason": d["statusReason"],
            })
        })
        .map(strip_nulls)
        .collect();
    json!({ "serviceDeployments": briefs })
}

/// The asked deployments the script knows; the others as `MISSING` failures.
fn describe(script: &[Value], request: &Value) -> Value {
    let asked: Vec<&str> = request["serviceDeploymentArns"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in asked {
        match script
            .iter()
            .find(|d| d["serviceDeploymentArn"].as_str() == Some(arn))
        {
            Some(d) => found.push(d.clone()),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    json!({ "serviceDeployments": found, "failures": failures })
}

fn strip_nulls(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| !x.is_null());
    }
    v
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{describe, list};

    #[test]
    fn list_filters_by_service_and_creation_and_describe_names_the_missing() {
        let d = json!({
            "serviceDeploymentArn": "arn:aws:ecs:eu-west-1:1:service-deployment/c/web/a",
            "serviceArn": "arn:aws:ecs:eu-west-1:1:service/c/web",
            "createdAt": 100.0,
            "targetServiceRevision": {"arn": "arn:aws:ecs:eu-west-1:1:service-revision/c/web/7"},
            "status": "IN_PROGRESS"
        });
        let script = [d];
        let got = list(
            &script,
            &json!({"service": "web", "createdAt": {"after": 50.0}}),
        );
        assert_eq!(
            got["serviceDeployments"][0]["targetServiceRevisionArn"],
            "arn:aws:ecs:eu-west-1:1:service-revision/c/web/7"
        );
        let none = list(
            &script,
            &json!({"service": "web", "createdAt": {"after": 150.0}}),
        );
        assert_eq!(none["serviceDeployments"], json!([]));
        let other = list(&script, &json!({"service": "api"}));
        assert_eq!(other["serviceDeployments"], json!([]));
        let described = describe(
            &script,
            &json!({"serviceDeploymentArns": [
                "arn:aws:ecs:eu-west-1:1:service-deployment/c/web/a",
                "arn:aws:ecs:eu-west-1:1:service-deployment/c/web/b"
            ]}),
        );
        assert_eq!(described["serviceDeployments"][0]["status"], "IN_PROGRESS");
        assert_eq!(described["failures"][0]["reason"], "MISSING");
    }
}
