//! The AWS side of a test, created in the emulator the way the Terraform module
//! creates it: the state table (keys `pk`/`sk`, sparse GSI `due-index`), the alert
//! topic with an SQS queue subscribed to it (to read back exactly what SNS
//! delivered), and an ECS cluster with one service.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use rollout_watcher::adapters::dynamodb::{DynamoStore, Item, LIVE_SK};
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::recording::ManualClock;
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::delivery::{Watcher, WatcherConfig};
use rollout_watcher::ports::MetricsSink;
use serde_json::Value;

use crate::moto::Moto;

/// The watcher wired to the emulator, as the Lambda wires it to AWS (the clock is
/// manual so leases and cache ages follow the scenario).
pub type TestWatcher = Watcher<(
    DynamoStore,
    SnsNotifier,
    Arc<dyn MetricsSink>,
    EcsInspector,
    Arc<ManualClock>,
)>;

/// Names used by every test.
pub const TABLE: &str = "rollout-watcher-state";
/// The alert topic's name.
pub const TOPIC: &str = "rollout-watcher-alerts";

/// The resources of one test.
#[derive(Debug, Clone)]
pub struct Stack {
    /// SDK configuration for the emulator.
    pub sdk: SdkConfig,
    /// The alert topic ARN (valid even before the topic exists).
    pub topic_arn: String,
    /// The queue subscribed to the topic.
    pub queue_url: String,
}

/// One SNS message as delivered to the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct SnsMessage {
    /// `Subject`.
    pub subject: String,
    /// `MessageAttributes`, name to string value.
    pub attributes: BTreeMap<String, String>,
    /// `Message`, parsed.
    pub body: Value,
}

impl SnsMessage {
    /// The alert name (`metadata.eventType`).
    pub fn alert(&self) -> &str {
        self.body["metadata"]["eventType"]
            .as_str()
            .unwrap_or_default()
    }

    /// The dedup key (the body's `id`).
    pub fn id(&self) -> &str {
        self.body["id"].as_str().unwrap_or_default()
    }
}

/// Creates the table, the queue, the ECS cluster `demo-cluster` with service `web`
/// (desired 1), and, when `with_topic`, the topic subscribed by the queue.
pub async fn create(moto: &Moto, with_topic: bool) -> anyhow::Result<Stack> {
    let sdk = moto.sdk_config().await;
    create_table(&sdk).await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("alerts")
        .send()
        .await
        .context("CreateQueue")?
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    create_service(&sdk).await?;
    let mut stack = Stack {
        sdk,
        topic_arn: format!("arn:aws:sns:{}:123456789012:{TOPIC}", crate::moto::REGION),
        queue_url,
    };
    if with_topic {
        stack.create_topic().await?;
    }
    Ok(stack)
}

async fn create_table(sdk: &SdkConfig) -> anyhow::Result<()> {
    let attr = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
    };
    let gsi = GlobalSecondaryIndex::builder()
        .index_name("due-index")
        .key_schema(key("due_pk", KeyType::Hash)?)
        .key_schema(key("due_at", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()?;
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("sk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("due_pk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("due_at", ScalarAttributeType::N)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi)
        .send()
        .await
        .context("CreateTable")?;
    Ok(())
}

async fn create_service(sdk: &SdkConfig) -> anyhow::Result<()> {
    use aws_sdk_ecs::types::{ContainerDefinition, Tag};
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster()
        .cluster_name("demo-cluster")
        .send()
        .await
        .context("CreateCluster")?;
    ecs.register_task_definition()
        .family("web")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(256)
                .build(),
        )
        .send()
        .await
        .context("RegisterTaskDefinition")?;
    ecs.create_service()
        .cluster("demo-cluster")
        .service_name("web")
        .task_definition("web")
        .desired_count(1)
        .tags(Tag::builder().key("team").value("payments").build())
        .send()
        .await
        .context("CreateService")?;
    Ok(())
}

impl Stack {
    /// Creates the topic (idempotent in SNS: same name, same ARN) and subscribes
    /// the queue to it.
    pub async fn create_topic(&mut self) -> anyhow::Result<()> {
        let sns = aws_sdk_sns::Client::new(&self.sdk);
        let arn = sns
            .create_topic()
            .name(TOPIC)
            .send()
            .await
            .context("CreateTopic")?;
        self.topic_arn = arn.topic_arn().unwrap_or_default().to_owned();
        let queue_arn = format!("arn:aws:sqs:{}:123456789012:alerts", crate::moto::REGION);
        sns.subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .context("Subscribe")?;
        Ok(())
    }

    /// The watcher on the real SDK clients, with the deployed settings.
    pub fn watcher(&self, metrics: Arc<dyn MetricsSink>, clock: Arc<ManualClock>) -> TestWatcher {
        Watcher {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.sdk), TABLE),
            notifier: SnsNotifier::new(
                aws_sdk_sns::Client::new(&self.sdk),
                &self.topic_arn,
                Some("test".into()),
            ),
            metrics,
            inspector: EcsInspector::new(aws_sdk_ecs::Client::new(&self.sdk)),
            clock,
            config: WatcherConfig::default(),
        }
    }

    /// Every message waiting in the queue, in order, removed from it.
    pub async fn messages(&self) -> anyhow::Result<Vec<SnsMessage>> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut out = Vec::new();
        loop {
            let page = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .context("ReceiveMessage")?;
            if page.messages().is_empty() {
                return Ok(out);
            }
            for m in page.messages() {
                let envelope: Value = serde_json::from_str(m.body().unwrap_or_default())?;
                out.push(parse_envelope(&envelope)?);
                sqs.delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .context("DeleteMessage")?;
            }
        }
    }

    /// Every item stored for a service (live item and history).
    pub async fn items(&self, service: &str) -> anyhow::Result<Vec<Item>> {
        let out = aws_sdk_dynamodb::Client::new(&self.sdk)
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(service.to_owned()))
            .send()
            .await
            .context("Query")?;
        Ok(out.items().to_vec())
    }

    /// The live item of a service.
    pub async fn live_item(&self, service: &str) -> anyhow::Result<Item> {
        self.items(service)
            .await?
            .into_iter()
            .find(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s == LIVE_SK))
            .context("no live item")
    }
}

/// The SNS-to-SQS envelope (raw delivery off): subject, attributes, message.
fn parse_envelope(v: &Value) -> anyhow::Result<SnsMessage> {
    let attributes = v["MessageAttributes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, a)| {
                    (
                        k.clone(),
                        a["Value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SnsMessage {
        subject: v["Subject"].as_str().unwrap_or_default().to_owned(),
        attributes,
        body: serde_json::from_str(v["Message"].as_str().context("envelope without Message")?)?,
    })
}
