//! The live path: ListServices when no service is named, then DescribeServices in
//! batches of 10 (the API's limit), through the AWS default credential chain.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};

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
            .map_err(|e| ecs_error("DescribeServices", cluster, e))?;
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
        let page = page.map_err(|e| ecs_error("ListServices", cluster, e))?;
        arns.extend(page.service_arns().iter().cloned());
    }
    Ok(arns)
}

/// An ECS call's failure, with what it most likely means and what to check.
fn ecs_error<E, R>(operation: &'static str, cluster: &str, e: SdkError<E, R>) -> AuditError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map(|u| format!(" at {u}"))
        .unwrap_or_default();
    let hint = match &e {
        SdkError::DispatchFailure(_) => format!(
            "dispatch failure: could not reach ECS{endpoint}; check the network, AWS_REGION \
             and AWS_ENDPOINT_URL"
        ),
        SdkError::TimeoutError(_) => {
            format!("timed out waiting for ECS{endpoint}; check the network and AWS_REGION")
        }
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("error");
            let message = err.message().unwrap_or_default();
            match code {
                "ClusterNotFoundException" => format!(
                    "{code}: no cluster {cluster:?} in this account and region; check --cluster \
                     and AWS_REGION"
                ),
                "AccessDeniedException" | "UnrecognizedClientException" => format!(
                    "{code}: {message}; the audit needs ecs:ListServices and \
                     ecs:DescribeServices (check AWS_PROFILE)"
                ),
                _ => format!("{code}: {message}"),
            }
        }
        SdkError::ConstructionFailure(_) => {
            "could not build the request (credentials or region); check AWS_PROFILE and \
             AWS_REGION"
                .to_owned()
        }
        _ => "ECS's answer could not be read".to_owned(),
    };
    AuditError::Ecs {
        operation,
        cluster: cluster.to_owned(),
        hint,
        source: Box::new(e),
    }
}
