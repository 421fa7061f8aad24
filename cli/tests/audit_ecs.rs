//! `rollout-watcher audit --cluster`, live: services created through the real ECS
//! SDK client in the AWS emulator (moto, on 127.0.0.1), then the binary run against
//! it through the default credential chain with `AWS_ENDPOINT_URL`.
//!
//! What moto 5.2.5 (pinned in infra/tests/requirements.txt) keeps of a service:
//! `desiredCount`, `schedulingStrategy`, `deploymentController`, `loadBalancers`.
//! What it drops: `deploymentConfiguration` (percents and circuit breaker) and
//! `healthCheckGracePeriodSeconds`. The first test pins that down, so the day an
//! upgrade keeps them it fails and the assertions here can use the configured values;
//! until then the percent rules are covered offline (tests/audit.rs), and here the
//! audit must say that it assumed ECS's defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_ecs::error::BoxError;
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, LoadBalancer,
    SchedulingStrategy,
};
use serde_json::Value;

/// moto's server, stopped on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Self {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
        assert!(
            bin.exists(),
            "moto_server not found at {}: run `make test-setup` at the workspace root",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                moto.child.try_wait().unwrap().is_none(),
                "moto_server exited at start"
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    async fn ecs(&self) -> Client {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await;
        Client::new(&sdk)
    }

    /// Runs the binary with only the environment the default chain needs.
    fn audit(&self, args: &[&str]) -> Output {
        audit_at(&self.endpoint, args)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn audit_at(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .arg("audit")
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap()
}

/// A cluster like our users': the single-task API (1 / 100 / 200 / breaker with
/// rollback / ALB / 60 s grace), a service with minimum 0, a DAEMON, and ten
/// workers, so that DescribeServices needs two batches of 10.
async fn create_cluster(ecs: &Client) {
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let app = ContainerDefinition::builder()
        .name("app")
        .image("nginx:1.27")
        .memory(512)
        .build();
    ecs.register_task_definition()
        .family("app")
        .container_definitions(app)
        .send()
        .await
        .unwrap();
    let breaker = DeploymentCircuitBreaker::builder()
        .enable(true)
        .rollback(true)
        .build();
    let safe = DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .deployment_circuit_breaker(breaker)
        .build();
    let alb = LoadBalancer::builder()
        .target_group_arn("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout/6d0ecf831eec9f09")
        .container_name("app")
        .container_port(8080)
        .build();
    let service = |name: &str, desired: i32| {
        ecs.create_service()
            .cluster("prod")
            .service_name(name)
            .task_definition("app")
            .desired_count(desired)
    };
    service("checkout-api", 1)
        .deployment_configuration(safe)
        .health_check_grace_period_seconds(60)
        .load_balancers(alb)
        .send()
        .await
        .unwrap();
    let min_zero = DeploymentConfiguration::builder()
        .minimum_healthy_percent(0)
        .maximum_percent(100)
        .build();
    service("legacy-api", 1)
        .deployment_configuration(min_zero)
        .send()
        .await
        .unwrap();
    service("log-router", 0)
        .scheduling_strategy(SchedulingStrategy::Daemon)
        .send()
        .await
        .unwrap();
    for i in 1..=10 {
        service(&format!("worker-{i:02}"), 2).send().await.unwrap();
    }
}

/// What the emulator hands back: the fields the audit reads, and the ones moto drops.
#[tokio::test]
async fn moto_keeps_counts_strategy_and_load_balancers_but_drops_deployment_configuration() {
    let moto = Moto::start();
    let ecs = moto.ecs().await;
    create_cluster(&ecs).await;

    let out = ecs
        .describe_services()
        .cluster("prod")
        .services("checkout-api")
        .services("log-router")
        .send()
        .await
        .unwrap();

    let checkout = &out.services()[0];
    assert_eq!(checkout.desired_count(), 1);
    assert_eq!(checkout.load_balancers().len(), 1);
    assert_eq!(
        checkout.scheduling_strategy(),
        Some(&SchedulingStrategy::Replica)
    );
    assert_eq!(
        checkout
            .deployment_controller()
            .map(|c| c.r#type().as_str()),
        Some("ECS")
    );
    assert_eq!(
        out.services()[1].scheduling_strategy(),
        Some(&SchedulingStrategy::Daemon)
    );
    // moto drops these (see the module doc); real ECS returns them.
    assert!(
        checkout.deployment_configuration().is_none(),
        "moto now keeps deploymentConfiguration: assert on it below"
    );
    assert_eq!(
        checkout.health_check_grace_period_seconds(),
        None,
        "moto now keeps the grace period"
    );
}

/// The whole cluster, listed and described in batches, audited as JSON: every
/// service once, with what ECS reported and the defaults it had to assume.
#[tokio::test]
async fn a_whole_cluster_is_listed_described_in_batches_and_audited() {
    let moto = Moto::start();
    create_cluster(&moto.ecs().await).await;

    let out = moto.audit(&["--cluster", "prod", "--format", "json"]);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        13,
        "12 + 1 services, across two DescribeServices batches"
    );
    let by_name = |n: &str| lines.iter().find(|l| l["service"] == n).unwrap();
    let checkout = by_name("checkout-api");
    assert_eq!(checkout["cluster"], "prod");
    assert_eq!(
        checkout["service_arn"],
        "arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-api"
    );
    assert_eq!(checkout["desired"], 1);
    assert_eq!(checkout["load_balanced"], true);
    assert_eq!(checkout["scheduling_strategy"], "REPLICA");
    assert_eq!(checkout["deployment_controller"], "ECS");
    // deploymentConfiguration dropped by moto: ECS's defaults, said so, and no breaker.
    assert_eq!(
        checkout["assumed_defaults"],
        serde_json::json!(["minimumHealthyPercent", "maximumPercent"])
    );
    assert_eq!(
        (checkout["floor"].as_u64(), checkout["ceiling"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(checkout["verdict"], "risky");
    assert_eq!(by_name("log-router")["verdict"], "unknown");
    assert_eq!(by_name("worker-10")["desired"], 2);
}

/// Records how many services each DescribeServices request asks for.
#[derive(Clone, Debug, Default)]
struct Batches(Arc<Mutex<Vec<usize>>>);

impl Intercept for Batches {
    fn name(&self) -> &'static str {
        "Batches"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        if target.ends_with(".DescribeServices") {
            let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default())?;
            let asked = body["services"].as_array().map_or(0, Vec::len);
            self.0.lock().unwrap().push(asked);
        }
        Ok(())
    }
}

/// DescribeServices takes at most 10 services; moto does not enforce that, so the
/// requests themselves are counted: 13 services are asked for as 10 + 3.
#[tokio::test]
async fn describe_services_is_called_in_batches_of_ten() {
    let moto = Moto::start();
    let ecs = moto.ecs().await;
    create_cluster(&ecs).await;
    let batches = Batches::default();
    let config = ecs
        .config()
        .to_builder()
        .interceptor(batches.clone())
        .build();

    let described =
        rollout_watcher_cli::audit::describe_live(&Client::from_conf(config), "prod", &[])
            .await
            .unwrap();

    assert_eq!(described.services.len(), 13);
    assert_eq!(*batches.0.lock().unwrap(), [10, 3]);
}

/// Named services only; one that does not exist is reported and makes the audit
/// incomplete (exit 1), in text.
#[tokio::test]
async fn named_services_are_audited_and_a_missing_one_is_reported() {
    let moto = Moto::start();
    create_cluster(&moto.ecs().await).await;

    let out = moto.audit(&[
        "--cluster",
        "prod",
        "--service",
        "checkout-api",
        "--service",
        "ghost-api",
    ]);

    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.starts_with("prod/checkout-api: RISKY\n"), "{text}");
    assert!(text.contains("  Maximum tasks during deployment: 1 × 200% = 2 tasks (rounded down)"));
    assert!(text.contains("  (minimumHealthyPercent and maximumPercent not reported: ECS defaults 100% / 200% assumed)"));
    assert!(text.contains("1 service: 0 safe, 1 risky, 0 unsafe, 0 unknown"));
    assert!(
        text.contains("not audited: ") && text.contains("ghost-api: MISSING"),
        "{text}"
    );
}

/// No AWS endpoint reachable: exit 1 and a message naming the call and the cluster.
#[test]
fn an_unreachable_endpoint_exits_1_naming_the_call() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let out = audit_at(&format!("http://127.0.0.1:{port}"), &["--cluster", "prod"]);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("rollout-watcher audit: ListServices on cluster prod: dispatch failure"),
        "{stderr}"
    );
}
