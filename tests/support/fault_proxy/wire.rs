//! The wire: telling calls apart (credential scope, operation, form fields), the
//! hash that picks the failed requests, and the error answers in each protocol's shape.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

use super::plan::Fault;

pub(super) fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "transfer-encoding" | "upgrade" | "proxy-connection"
    )
}

/// A well-mixed 64-bit hash of the request's identity (SplitMix64 over FNV-1a).
pub(super) fn mix(seed: u64, service: &str, operation: &str, ordinal: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in service.bytes().chain([0]).chain(operation.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ ordinal.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `dynamodb` from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/dynamodb/aws4_request, …`.
pub fn credential_service(headers: &http::HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(3).map(str::to_owned)
}

/// The operation: `X-Amz-Target`'s suffix, the `Action=` form field, or the CBOR path.
pub(super) fn operation(parts: &http::request::Parts, body: &[u8]) -> Option<String> {
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return target.rsplit('.').next().map(str::to_owned);
    }
    if let Some(op) = parts.uri.path().split("/operation/").nth(1) {
        return Some(op.to_owned());
    }
    form_field(body, "Action")
}

/// One field of an `application/x-www-form-urlencoded` body, decoded.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The alert's `id` inside an SNS Publish's `Message`.
pub(super) fn alert_id(body: &[u8]) -> Option<String> {
    let message = form_field(body, "Message")?;
    let v: serde_json::Value = serde_json::from_str(&message).ok()?;
    v["id"].as_str().map(str::to_owned)
}

pub(super) fn error_response(
    service: &str,
    operation: &str,
    fault: Fault,
) -> Response<Full<Bytes>> {
    let throttle = fault == Fault::Throttle;
    let status = if throttle {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let (content_type, body) = match service {
        "dynamodb" => {
            // Both throttling errors DynamoDB answers with, alternately by operation.
            let kind = match (throttle, operation.len() % 2) {
                (true, 0) => "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                (true, _) => {
                    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
                }
                (false, _) => "com.amazon.coral.service#InternalFailure",
            };
            (
                "application/x-amz-json-1.0",
                format!(r#"{{"__type":"{kind}","message":"injected by the fault proxy"}}"#),
            )
        }
        "sns" => {
            let (kind, code) = if throttle {
                ("Sender", "Throttling")
            } else {
                ("Receiver", "InternalError")
            };
            (
                "text/xml",
                format!(
                    r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#
                ),
            )
        }
        _ => {
            let kind = if throttle {
                "ThrottlingException"
            } else {
                "ServerException"
            };
            (
                "application/x-amz-json-1.1",
                format!(r#"{{"__type":"{kind}","message":"injected by the fault proxy"}}"#),
            )
        }
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// PutMetricData's success in the RPC v2 CBOR protocol: an empty map.
pub(super) fn stub_response() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .body(Full::new(Bytes::from_static(&[0xa0])))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let body = b"Action=Publish&Message=%7B%22id%22%3A%22a+b%22%7D&Version=2010-03-31";
        assert_eq!(form_field(body, "Action").as_deref(), Some("Publish"));
        assert_eq!(alert_id(body).as_deref(), Some("a b"));
    }

    #[test]
    fn the_choice_is_spread() {
        let hits = (0..10_000)
            .filter(|n| mix(7, "sns", "Publish", *n) % 1_000_000 < 200_000)
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
    }
}
