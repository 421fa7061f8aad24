//! The Lambda-level figures of `make bench`, measured on the bootstraps as packaged
//! (profile `lambda-release`):
//!
//! - cold start: process start to the first `GET /runtime/invocation/next` on a
//!   local Runtime API, median of 20 starts, for each bootstrap and for the
//!   minimal `lambda_runtime` function (`examples/minimal_lambda.rs`);
//! - peak RSS (`VmHWM`) over a 1,000-invocation run of each bootstrap against moto;
//! - the handler bootstrap's own CPU per event over that run: utime + stime of its
//!   process (`/proc/PID/stat`) once all events are answered, minus the same once it
//!   has started and waits for its first event, divided by the events (moto and the
//!   proxy are other processes and do not count);
//! - AWS calls per event by kind in the happy path, counted at the fault proxy
//!   (no fault injected), with the EMF sink and with `METRICS_SINK=cloudwatch`.
//!
//! Usage: `cargo run -p integration-tests --example lambda-bench -- target/lambda-release`
//! (the directory holding the bootstraps and `examples/minimal-lambda`, built with
//! `--profile lambda-release`). With a second argument `handler`, only the handler's
//! run (its CPU per event, peak RSS and calls), which needs only
//! `ecs-event-handler` built; `BENCH_EVENTS` then sets its number of events and
//! `BENCH_WRAP` a tool to run the bootstrap under (`scripts/cpu-breakdown.sh`).
//! With `batched` instead, the handler's run twice side by side: one event per
//! invocation (`handler`, as EventBridge invokes it), then the same events as SQS
//! events of 10 messages (`handler_batched`, as the queue's event source mapping
//! invokes it), each with its CPU and its DynamoDB, SNS and ECS calls per event.
//! The full run reports both too. `BENCH_STREAM=hot` makes the handler's events
//! those of one 500-task service rolling (what batching is for) instead of many
//! services' rollouts interleaved.
//! Prints one JSON document on stdout; `scripts/bench.sh` turns it into the table.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_ecs::types::ContainerDefinition;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use integration_tests::fault_proxy::{FaultProxy, Plan};
use integration_tests::moto::Moto;
use integration_tests::proc_stat::{cpu_ticks, ticks_per_second};
use integration_tests::runtime_api::{Posted, RuntimeApi};
use integration_tests::stack::{self, TABLE};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

const STARTS: usize = 20;
const EVENTS: usize = 1000;
/// The queue's event source mapping's batch size in the module.
const BATCH: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: lambda-bench RELEASE_DIR")?,
    );
    let bin = |name: &str| dir.join(name);
    match std::env::args().nth(2).as_deref() {
        Some("handler") => {
            let handler = handler_run(&bin("ecs-event-handler"), None).await?;
            println!("{}", json!({ "handler": handler }));
            return Ok(());
        }
        Some("batched") => {
            let handler = handler_run(&bin("ecs-event-handler"), None).await?;
            let batched = handler_run(&bin("ecs-event-handler"), Some(BATCH)).await?;
            println!(
                "{}",
                json!({ "handler": handler, "handler_batched": batched })
            );
            return Ok(());
        }
        _ => {}
    }
    for name in [
        "ecs-event-handler",
        "rollout-sweeper",
        "slack-notifier",
        "examples/minimal-lambda",
    ] {
        if !bin(name).exists() {
            bail!(
                "{} is missing: build the lambda-release binaries first (scripts/bench.sh does)",
                bin(name).display()
            );
        }
    }
    let mut out = serde_json::Map::new();

    // Cold starts, interleaved so drift on a noisy machine hits all alike.
    let names = [
        "examples/minimal-lambda",
        "ecs-event-handler",
        "rollout-sweeper",
        "slack-notifier",
    ];
    let mut starts: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for _ in 0..STARTS {
        for name in names {
            let ms = cold_start(&bin(name)).await?;
            starts.entry(name).or_default().push(ms);
        }
    }
    let mut cold = serde_json::Map::new();
    for (name, mut v) in starts {
        v.sort_by(f64::total_cmp);
        let median = (v[STARTS / 2 - 1] + v[STARTS / 2]) / 2.0;
        cold.insert(
            name.trim_start_matches("examples/").to_owned(),
            json!({"median_ms": median, "min_ms": v[0], "max_ms": v[STARTS - 1]}),
        );
    }
    out.insert("cold_start".into(), Value::Object(cold));

    out.insert(
        "handler".into(),
        handler_run(&bin("ecs-event-handler"), None).await?,
    );
    out.insert(
        "handler_batched".into(),
        handler_run(&bin("ecs-event-handler"), Some(BATCH)).await?,
    );
    out.insert(
        "handler_cloudwatch".into(),
        handler_cloudwatch_run(&bin("ecs-event-handler")).await?,
    );
    out.insert(
        "sweeper".into(),
        sweeper_run(&bin("rollout-sweeper")).await?,
    );
    out.insert(
        "notifier".into(),
        notifier_run(&bin("slack-notifier")).await?,
    );
    println!("{}", Value::Object(out));
    Ok(())
}

/// The environment every bootstrap gets (Lambda's own variables plus AWS's).
fn base_env(runtime_api: &str, endpoint: &str, name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("STATE_TABLE", TABLE),
        (
            "ALERT_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts",
        ),
        (
            "SLACK_WEBHOOK_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rollout-watcher/slack-webhook",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Starts a bootstrap; `BENCH_WRAP` (words) runs it under a tool instead, e.g.
/// `valgrind --tool=callgrind` (`scripts/cpu-breakdown.sh`).
fn spawn(bin: &Path, env: &[(String, String)], extra: &[(&str, &str)]) -> anyhow::Result<Child> {
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut cmd = match words.next() {
        Some(tool) => {
            let mut cmd = Command::new(tool);
            cmd.args(words).arg(bin);
            cmd
        }
        None => Command::new(bin),
    };
    cmd.env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd.spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// Milliseconds from spawning `bin` to its first request on a Runtime API that
/// never answers.
async fn cold_start(bin: &Path) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let env = base_env(&address, "http://127.0.0.1:9", "cold-start");
    let started = Instant::now();
    let mut child = spawn(bin, &env, &[])?;
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        let (stream, _) = listener.accept().await?;
        let mut line = String::new();
        tokio::io::BufReader::new(stream)
            .read_line(&mut line)
            .await?;
        Ok::<_, anyhow::Error>((started.elapsed(), line))
    })
    .await
    .context("no Runtime API request within 10 s")??;
    let _ = child.kill().await;
    if !first.1.contains("/runtime/invocation/next") {
        bail!("{}: first request was {:?}", bin.display(), first.1);
    }
    Ok(first.0.as_secs_f64() * 1000.0)
}

/// Ends a bootstrap with SIGTERM, as Lambda ends a sandbox, and waits for it, so a
/// tool it runs under (`BENCH_WRAP`) writes its results.
async fn stop(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill").arg(pid.to_string()).status().await;
        let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
    }
}

/// `VmHWM` of a process, in kB.
fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

/// Waits until the freshly spawned process is idle, its start-up done and its first
/// `GET /invocation/next` held (no event is queued yet): its CPU time stops moving.
async fn started(pid: u32) -> anyhow::Result<(u64, u64)> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut last = cpu_ticks(pid)?;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = cpu_ticks(pid)?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
}

/// What a run through a bootstrap gives.
struct Run {
    peak_rss_kb: u64,
    elapsed: Duration,
    errors: usize,
    /// The process's CPU from its first wait for work to its last answer, in ms:
    /// user and system.
    cpu_ms: (f64, f64),
}

/// A happy-path stream: completed rollouts of many services, interleaved by time.
fn happy_stream(prefix: &str, n: usize) -> (Vec<Value>, Vec<Params>) {
    let mut services = Vec::new();
    let mut tagged = Vec::new();
    let mut i = 0_usize;
    while tagged.len() < n {
        let params = Params {
            service: format!("{prefix}-{i:03}"),
            cluster: "bench-cluster".to_owned(),
            desired: 1 + (i % 3) as u32,
            seed: i as u64 + 1,
            ..Params::defaults(Scenario::Success)
        };
        for e in simulate(&params).expect("valid parameters").events {
            let t = e["time"].as_str().unwrap_or_default().to_owned();
            tagged.push((t, tagged.len(), e));
        }
        services.push(params);
        i += 1;
    }
    tagged.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    tagged.truncate(n);
    (tagged.into_iter().map(|(_, _, e)| e).collect(), services)
}

/// The first `n` events of one 500-task service rolling.
fn hot_stream(n: usize) -> (Vec<Value>, Vec<Params>) {
    let params = Params {
        service: "hot-000".to_owned(),
        cluster: "bench-cluster".to_owned(),
        desired: 500,
        ..Params::defaults(Scenario::Success)
    };
    let mut events = simulate(&params).expect("valid parameters").events;
    events.truncate(n);
    (events, vec![params])
}

async fn create_services(sdk: &aws_config::SdkConfig, services: &[Params]) -> anyhow::Result<()> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster()
        .cluster_name("bench-cluster")
        .send()
        .await?;
    ecs.register_task_definition()
        .family("bench")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx")
                .memory(256)
                .build(),
        )
        .send()
        .await?;
    for p in services {
        ecs.create_service()
            .cluster("bench-cluster")
            .service_name(&p.service)
            .task_definition("bench")
            .desired_count(i32::try_from(p.desired)?)
            .send()
            .await?;
    }
    Ok(())
}

/// Runs `events` through a bootstrap, one invocation each.
async fn drive(
    bin: &Path,
    env: &[(String, String)],
    extra: &[(&str, &str)],
    api: &RuntimeApi,
    events: &[Value],
) -> anyhow::Result<Run> {
    let child = spawn(bin, env, extra)?;
    let pid = child.id().context("pid")?;
    let idle = started(pid).await?;
    let started = Instant::now();
    for (i, e) in events.iter().enumerate() {
        api.invoke(&format!("r{i}"), e.clone()).await;
    }
    let posted = api
        .wait_posted(events.len(), Duration::from_secs(1800))
        .await?;
    let elapsed = started.elapsed();
    let rss = peak_rss_kb(pid)?;
    let done = cpu_ticks(pid)?;
    let ms = |t: u64| t as f64 * 1000.0 / ticks_per_second();
    let cpu_ms = (ms(done.0 - idle.0), ms(done.1 - idle.1));
    stop(child).await;
    // A failed invocation, or a batch that handed messages back.
    let errors = posted
        .iter()
        .filter(|p| match p {
            Posted::Response(_, body) => body["batchItemFailures"]
                .as_array()
                .is_some_and(|f| !f.is_empty()),
            _ => true,
        })
        .count();
    Ok(Run {
        peak_rss_kb: rss,
        elapsed,
        errors,
        cpu_ms,
    })
}

fn calls_json(proxy: &FaultProxy) -> Value {
    let mut m = serde_json::Map::new();
    for ((service, op), n) in proxy.counts() {
        m.insert(format!("{service}:{op}"), json!(n));
    }
    Value::Object(m)
}

/// DynamoDB request units the calls would consume on demand, from the bodies seen
/// at the proxy (an overestimate: a request's JSON is a little larger than the item
/// as DynamoDB sizes it): a write unit per started KB written (two in a
/// transaction; per statement in a PartiQL batch), a read unit per started 4 KB
/// read with strong consistency.
fn units(proxy: &FaultProxy) -> Value {
    let (mut wru, mut rru, mut puts, mut put_bytes) = (0_usize, 0_usize, 0_usize, 0_usize);
    for c in proxy.calls().iter().filter(|c| c.service == "dynamodb") {
        match c.operation.as_str() {
            "PutItem" => {
                wru += c.request_bytes.div_ceil(1024);
                puts += 1;
                put_bytes += c.request_bytes;
            }
            "TransactWriteItems" => wru += 2 * c.request_bytes.div_ceil(1024),
            "BatchExecuteStatement" => {
                wru += c
                    .statement_bytes
                    .iter()
                    .map(|b| b.div_ceil(1024))
                    .sum::<usize>();
            }
            "GetItem" | "Query" => rru += c.response_bytes.div_ceil(4096).max(1),
            _ => {}
        }
    }
    json!({"wru": wru, "rru": rru, "put_item_mean_bytes": put_bytes / puts.max(1)})
}

/// Calls per event by AWS service (`dynamodb`, `sns`, `ecs`, ...).
fn calls_per_event(proxy: &FaultProxy, events: usize) -> Value {
    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for ((service, _), n) in proxy.counts() {
        *by_service.entry(service).or_default() += n;
    }
    let per = |n: usize| n as f64 / events.max(1) as f64;
    Value::Object(
        by_service
            .into_iter()
            .map(|(s, n)| (s, json!(per(n))))
            .collect(),
    )
}

/// Events as the queue's event source mapping delivers them: SQS events of `size`
/// messages, each body the EventBridge event's JSON text.
fn sqs_batches(events: &[Value], size: usize) -> Vec<Value> {
    events
        .chunks(size)
        .enumerate()
        .map(|(b, chunk)| {
            let records: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let id = format!("m-{b}-{i}");
                    json!({
                        "messageId": id, "receiptHandle": format!("AQEB{id}"),
                        "body": e.to_string(),
                        "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "ecs-events"},
                        "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo",
                        "awsRegion": "eu-west-1"
                    })
                })
                .collect();
            json!({ "Records": records })
        })
        .collect()
}

/// The handler over 1,000 happy-path events (EMF metrics, the default): one per
/// invocation, or (`batch`) in SQS events of that many.
async fn handler_run(bin: &Path, batch: Option<usize>) -> anyhow::Result<Value> {
    let moto = Moto::start().await?;
    let stack = stack::create(&moto, true).await?;
    let n = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(EVENTS);
    let (events, services) = if std::env::var("BENCH_STREAM").as_deref() == Ok("hot") {
        hot_stream(n)
    } else {
        happy_stream("happy", n)
    };
    create_services(&stack.sdk, &services).await?;
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default()).await?;
    let api = RuntimeApi::start().await?;
    let env = base_env(&api.address, &proxy.endpoint, "ecs-event-handler");
    let invocations = match batch {
        Some(size) => sqs_batches(&events, size),
        None => events.clone(),
    };
    // As the Terraform module configures each delivery (`EVENT_DELIVERY`).
    let delivery = if batch.is_some() { "queue" } else { "direct" };
    let run = drive(
        bin,
        &env,
        &[
            ("ALERT_TOPIC_ARN", &stack.topic_arn),
            ("EVENT_DELIVERY", delivery),
        ],
        &api,
        &invocations,
    )
    .await?;
    let alerts = stack.messages().await?.len();
    Ok(json!({
        "events": events.len(), "invocations": invocations.len(),
        "services": services.len(), "errors": run.errors,
        "peak_rss_kb": run.peak_rss_kb, "seconds": run.elapsed.as_secs_f64(), "alerts": alerts,
        "cpu_ms_per_event": (run.cpu_ms.0 + run.cpu_ms.1) / events.len() as f64,
        "cpu_user_ms": run.cpu_ms.0, "cpu_system_ms": run.cpu_ms.1,
        "calls": calls_json(&proxy), "calls_per_event": calls_per_event(&proxy, events.len()),
        "units": units(&proxy),
    }))
}

/// The handler with `METRICS_SINK=cloudwatch` (PutMetricData answered by the proxy).
async fn handler_cloudwatch_run(bin: &Path) -> anyhow::Result<Value> {
    let moto = Moto::start().await?;
    let stack = stack::create(&moto, true).await?;
    let (events, services) = happy_stream("cw", EVENTS / 4);
    create_services(&stack.sdk, &services).await?;
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default()).await?;
    let api = RuntimeApi::start().await?;
    let env = base_env(&api.address, &proxy.endpoint, "ecs-event-handler");
    let run = drive(
        bin,
        &env,
        &[
            ("ALERT_TOPIC_ARN", &stack.topic_arn),
            ("METRICS_SINK", "cloudwatch"),
        ],
        &api,
        &events,
    )
    .await?;
    Ok(json!({
        "events": events.len(), "errors": run.errors, "peak_rss_kb": run.peak_rss_kb,
        "calls": calls_json(&proxy),
    }))
}

/// The sweeper: the state of a finished happy run plus one service mid-rollout in
/// each of 20 services, swept `EVENTS / 5` times with every service due.
async fn sweeper_run(bin: &Path) -> anyhow::Result<Value> {
    let moto = Moto::start().await?;
    let stack = stack::create(&moto, true).await?;
    let (mut events, services) = happy_stream("sweep", 300);
    create_services(&stack.sdk, &services).await?;
    // Leave every rollout in progress: drop each service's completion events.
    events.retain(|e| {
        let name = e["detail"]["eventName"].as_str().unwrap_or_default();
        name != "SERVICE_DEPLOYMENT_COMPLETED" && name != "SERVICE_STEADY_STATE"
    });
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default()).await?;
    let api = RuntimeApi::start().await?;
    let env = base_env(&api.address, &proxy.endpoint, "ecs-event-handler");
    let handler = std::env::args().nth(1).map(PathBuf::from).unwrap();
    let _ = drive(
        &handler.join("ecs-event-handler"),
        &env,
        &[("ALERT_TOPIC_ARN", &stack.topic_arn)],
        &api,
        &events,
    )
    .await?;
    let before = proxy.counts();
    let ticks = EVENTS / 5;
    let api = RuntimeApi::start().await?;
    let env = base_env(&api.address, &proxy.endpoint, "rollout-sweeper");
    let tick_events: Vec<Value> = (0..ticks)
        .map(|_| json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"}))
        .collect();
    let run = drive(
        bin,
        &env,
        &[("ALERT_TOPIC_ARN", &stack.topic_arn)],
        &api,
        &tick_events,
    )
    .await?;
    let mut calls = serde_json::Map::new();
    for ((service, op), n) in proxy.counts() {
        let n = n - before
            .get(&(service.clone(), op.clone()))
            .copied()
            .unwrap_or(0);
        if n > 0 {
            calls.insert(format!("{service}:{op}"), json!(n));
        }
    }
    Ok(json!({
        "ticks": ticks, "services": services.len(), "errors": run.errors,
        "peak_rss_kb": run.peak_rss_kb, "seconds": run.elapsed.as_secs_f64(), "calls": calls,
    }))
}

/// The Slack notifier over 1,000 SNS messages to a local webhook that answers `ok`.
async fn notifier_run(bin: &Path) -> anyhow::Result<Value> {
    let moto = Moto::start().await?;
    let sdk = moto.sdk_config().await;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/services/T0/B0/bench", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
                        Ok::<_, hyper::Error>(Response::new(Full::new(bytes::Bytes::from_static(
                            b"ok",
                        ))))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("rollout-watcher/slack-webhook")
        .secret_string(&url)
        .send()
        .await?;
    let arn = secret.arn().unwrap_or_default().to_owned();
    // Alerts as the handler publishes them: a rollback's alerts.
    let mut replay = rollout_watcher::replay::Replay::default();
    let mut alerts = Vec::new();
    for e in simulate(&Params::defaults(Scenario::HealthCheckRollback))?.events {
        for fx in replay.apply_json(&e.to_string())?.items {
            if let rollout_watcher::core::Effect::Alert(a) = fx {
                alerts.push(*a);
            }
        }
    }
    let events: Vec<Value> = (0..EVENTS)
        .map(|i| {
            // Each event a new dedup key: the notifier drops a key it already posted.
            let mut alert = alerts[i % alerts.len()].clone();
            alert.dedup_key = format!("{}|bench-{i}", alert.dedup_key);
            let body = rollout_watcher::message::body(&alert, Some("bench")).to_string();
            json!({"Records": [{
                "EventSource": "aws:sns", "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts:1",
                "Sns": {
                    "Type": "Notification", "MessageId": format!("m-{i}"),
                    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts",
                    "Subject": "rollout-watcher", "Message": body,
                    "Timestamp": "2026-03-02T10:15:02.000Z", "SignatureVersion": "1",
                    "Signature": "EXAMPLE", "SigningCertUrl": "https://example.com/c.pem",
                    "UnsubscribeUrl": "https://example.com/u", "MessageAttributes": {}
                }
            }]})
        })
        .collect();
    let api = RuntimeApi::start().await?;
    let env = base_env(&api.address, &moto.endpoint, "slack-notifier");
    let run = drive(
        bin,
        &env,
        &[("SLACK_WEBHOOK_SECRET_ARN", &arn)],
        &api,
        &events,
    )
    .await?;
    Ok(json!({
        "events": events.len(), "errors": run.errors, "peak_rss_kb": run.peak_rss_kb,
        "seconds": run.elapsed.as_secs_f64(),
    }))
}
