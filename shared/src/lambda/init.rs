//! Reporting a configuration error to the Lambda Runtime API, so a failed start
//! shows in the function's status (`Runtime.InitError`) with the variable's name
//! instead of a bare exit. Shared by the three functions, each with its own
//! configuration error (its message names the variable). (lambda_runtime posts
//! `/init/error` only for SnapStart hooks.)

use std::fmt::Display;

/// Posts the error to `/runtime/init/error` (best effort) and returns it, as the
/// error type `lambda_runtime` functions return from `main`.
pub async fn report_init_error(e: &impl Display) -> Box<dyn std::error::Error + Send + Sync> {
    tracing::error!(error = %e, "invalid configuration");
    let body =
        serde_json::json!({"errorType": "InvalidConfiguration", "errorMessage": e.to_string()});
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    match request {
        Ok(req) => {
            if let Err(err) = client.call(req).await {
                eprintln!("could not report the init error: {err}");
            }
        }
        Err(err) => eprintln!("could not build the init error report: {err}"),
    }
    e.to_string().into()
}
