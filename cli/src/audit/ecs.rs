//! The live path: ListServices when no service is named, then DescribeServices in
//! batches of 10 (the API's limit), through the AWS default credential chain.

use aws_sdk_ecs::Client;

use super::AuditError;
use super::describe::{Described, record_from_sdk};

/// DescribeServices takes at most 10 services per call.
pub const BATCH: usize = 10;

/// Describes `services` of `cluster` (all of its services when empty).
pub async fn describe(
    client: &Client,
    cluster: &str,
    services: &[String],
) -> Result<Described, AuditError> {
    let names = if services.is_empty() {
        list(client, cluster).await?
    } else {
        services.to_vec()
    };
    let mut described = Described::default();
    for batch in names.chunks(BATCH) {
        let out = client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| AuditError::Ecs {
                operation: "DescribeServices",
                cluster: cluster.to_owned(),
                source: Box::new(e),
            })?;
        for s in out.services() {
            match record_from_sdk(s) {
                Ok(r) => described.services.push(r),
                Err(m) => described.failures.push(m),
            }
        }
        for f in out.failures() {
            described.failures.push(super::describe::Missing {
                service: f.arn().unwrap_or_default().to_owned(),
                reason: f.reason().unwrap_or("not described").to_owned(),
            });
        }
    }
    Ok(described)
}

/// Every service ARN of the cluster, page by page.
async fn list(client: &Client, cluster: &str) -> Result<Vec<String>, AuditError> {
    let mut arns = Vec::new();
    let mut pages = client
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AuditError::Ecs {
            operation: "ListServices",
            cluster: cluster.to_owned(),
            source: Box::new(e),
        })?;
        arns.extend(page.service_arns().iter().cloned());
    }
    Ok(arns)
}
