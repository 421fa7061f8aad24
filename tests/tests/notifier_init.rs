//! The slack-notifier's bootstrap, started as Lambda starts it against a local
//! Runtime API, with a configuration it cannot run on: the failed start must say
//! which variable is wrong where the operator looks first (the function's
//! `Runtime.InitError` message, as the other two functions report theirs), and
//! never echo a webhook URL pasted where the secret's ARN belongs.
//!
//! The binary is built in the dev profile the tests use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use integration_tests::binaries::as_lambda;
use integration_tests::moto::Moto;
use integration_tests::runtime_api::{Posted, RuntimeApi};

/// The webhook URL pasted into `SLACK_WEBHOOK_SECRET_ARN` (a common slip): the
/// function posts `/init/error` naming the variable and what it wants, without
/// the URL, and exits.
#[tokio::test]
async fn a_webhook_url_in_place_of_the_secret_arn_is_an_init_error() {
    let moto = Moto::start().await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let mut cmd = as_lambda("slack-notifier", &api, &moto);
    cmd.env(
        "SLACK_WEBHOOK_SECRET_ARN",
        "https://hooks.slack.com/services/T0/B0/s3cr3t",
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .kill_on_drop(true);
    let mut child = cmd.spawn().expect("starting the bootstrap binary");

    let posted = api.wait_posted(1, Duration::from_secs(60)).await.unwrap();

    let Posted::InitError(err) = &posted[0] else {
        panic!("{posted:?}")
    };
    let message = err["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with(
            "SLACK_WEBHOOK_SECRET_ARN: not the ARN of a Secrets Manager secret or an SSM parameter"
        ),
        "{err}"
    );
    assert_eq!(err["errorType"], "InvalidConfiguration");
    assert!(!message.contains("s3cr3t"), "{err}");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
}
