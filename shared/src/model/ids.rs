//! Identities: which service and which rollout an event belongs to.
//!
//! Newtypes keep a deployment id from being passed where a service ARN is expected,
//! and parse once, at the edge, what the rest of the code relies on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`: the key of a service's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceArn(String);

/// A deployment id, `ecs-svc/<digits>`: with the service ARN, the key of a rollout.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeploymentId(String);

/// The longest ARN or task id kept. ECS names are at most 255 characters, so a real
/// service ARN stays well under this; anything longer is not ECS's and would only
/// bloat the stored state it keys.
pub(crate) const MAX_ARN: usize = 1024;

impl ServiceArn {
    /// Accepts the long ARN form; the old short form without the cluster
    /// (`service/NAME`) is rejected because the cluster is part of the identity.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_ARN {
            return None;
        }
        let parts = ArnParts::split(text)?;
        let rest = parts.resource.strip_prefix("service/")?;
        let (cluster, service) = rest.split_once('/')?;
        if cluster.is_empty() || service.is_empty() || service.contains('/') {
            return None;
        }
        Some(Self(text.to_owned()))
    }

    /// [`ServiceArn::parse`], and also the short form (`service/NAME`, no cluster)
    /// that services created before 2021 keep until someone migrates them: their
    /// deployment and service-action events carry it in `resources`, while their
    /// task events place them by cluster and name. The short form is placed in
    /// `cluster_arn`, the cluster the event names, when that is of the same
    /// partition, region and account, so that every event of one service agrees on
    /// the long form as its identity. Without a cluster it stays unusable.
    pub fn parse_in_cluster(text: &str, cluster_arn: Option<&str>) -> Option<Self> {
        if let Some(arn) = Self::parse(text) {
            return Some(arn);
        }
        if text.len() > MAX_ARN {
            return None;
        }
        let short = ArnParts::split(text)?;
        let name = short.resource.strip_prefix("service/")?;
        let cluster_arn = cluster_arn?;
        let cluster = ArnParts::split(cluster_arn)?;
        let same_place = short.partition == cluster.partition
            && short.region == cluster.region
            && short.account == cluster.account;
        same_place
            .then(|| Self::from_cluster(cluster_arn, name))
            .flatten()
    }

    /// Whether `text` is a service ARN in the short form (no cluster in it).
    pub fn is_short_form(text: &str) -> bool {
        ArnParts::split(text)
            .and_then(|p| p.resource.strip_prefix("service/"))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    }

    /// Builds the ARN of service `name` in the cluster `cluster_arn`
    /// (`arn:aws:ecs:REGION:ACCOUNT:cluster/CLUSTER`), as task events require.
    pub fn from_cluster(cluster_arn: &str, name: &str) -> Option<Self> {
        if cluster_arn.len() + name.len() > MAX_ARN {
            return None;
        }
        let parts = ArnParts::split(cluster_arn)?;
        let cluster = parts.resource.strip_prefix("cluster/")?;
        if cluster.is_empty() || cluster.contains('/') || name.is_empty() || name.contains('/') {
            return None;
        }
        // Pieced together rather than formatted: every task event builds one.
        let mut arn = String::with_capacity(cluster_arn.len() + name.len() + 2);
        for piece in [
            "arn:",
            parts.partition,
            ":ecs:",
            parts.region,
            ":",
            parts.account,
            ":service/",
            cluster,
            "/",
            name,
        ] {
            arn.push_str(piece);
        }
        Some(Self(arn))
    }

    /// The full ARN.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cluster name.
    pub fn cluster(&self) -> &str {
        self.resource_parts().0
    }

    /// The service name.
    pub fn name(&self) -> &str {
        self.resource_parts().1
    }

    /// The region.
    pub fn region(&self) -> &str {
        ArnParts::split(&self.0).map_or("", |p| p.region)
    }

    /// The account id.
    pub fn account(&self) -> &str {
        ArnParts::split(&self.0).map_or("", |p| p.account)
    }

    /// The ARN of the cluster the service runs in.
    pub fn cluster_arn(&self) -> String {
        match ArnParts::split(&self.0) {
            Some(p) => format!(
                "arn:{}:ecs:{}:{}:cluster/{}",
                p.partition,
                p.region,
                p.account,
                self.cluster()
            ),
            None => String::new(),
        }
    }

    fn resource_parts(&self) -> (&str, &str) {
        // Validated in the constructors: `…:service/CLUSTER/NAME`, where neither the
        // cluster nor the name holds a '/', so both are found from the end (the
        // policy asks for them on every alert and metric).
        let Some((rest, name)) = self.0.rsplit_once('/') else {
            return ("", "");
        };
        let cluster = rest.rsplit_once('/').map_or("", |(_, c)| c);
        (cluster, name)
    }
}

impl DeploymentId {
    /// Any non-empty id is kept: ECS documents `ecs-svc/<digits>`, but a watcher must
    /// not drop an event because AWS changed the id format.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        (!t.is_empty() && t.len() <= 128).then(|| Self(t.to_owned()))
    }

    /// The id as ECS writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Finds the first `ecs-svc/<digits>` in free text such as
    /// "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123."
    pub fn find_in(text: &str) -> Option<Self> {
        let start = text.find("ecs-svc/")?;
        let digits = text[start + 8..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        (digits > 0).then(|| Self(text[start..start + 8 + digits].to_owned()))
    }
}

impl fmt::Display for ServiceArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id at the end of a task ARN (`…:task/CLUSTER/ID` or the old `…:task/ID`).
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The `FAMILY:REVISION` at the end of a task definition ARN.
pub fn task_definition_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

struct ArnParts<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> ArnParts<'a> {
    fn split(text: &'a str) -> Option<Self> {
        let mut it = text.splitn(6, ':');
        let (arn, partition, service) = (it.next()?, it.next()?, it.next()?);
        let (region, account, resource) = (it.next()?, it.next()?, it.next()?);
        let ok = arn == "arn"
            && !partition.is_empty()
            && service == "ecs"
            && !region.is_empty()
            && !account.is_empty();
        ok.then_some(Self {
            partition,
            region,
            account,
            resource,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_arn_from_task_event_fields_matches_the_deployment_event_arn() {
        let built = ServiceArn::from_cluster(
            "arn:aws:ecs:ap-northeast-2:653734769926:cluster/sin-web_cluster-dev",
            "sin-web_service-dev",
        );
        let parsed = ServiceArn::parse(
            "arn:aws:ecs:ap-northeast-2:653734769926:service/sin-web_cluster-dev/sin-web_service-dev",
        );
        assert_eq!(built, parsed);
        let arn = parsed.unwrap_or_else(|| ServiceArn(String::new()));
        assert_eq!(arn.cluster(), "sin-web_cluster-dev");
        assert_eq!(arn.name(), "sin-web_service-dev");
        assert_eq!(arn.region(), "ap-northeast-2");
        assert_eq!(
            arn.cluster_arn(),
            "arn:aws:ecs:ap-northeast-2:653734769926:cluster/sin-web_cluster-dev"
        );
    }

    #[test]
    fn rejects_arns_that_name_no_service() {
        for bad in [
            "",
            "arn:aws:ecs:us-east-1:1:service/only-name",
            "arn:aws:ecs:us-east-1:1:task/c/abc",
            "arn:aws:s3:::bucket",
            "arn:aws:ecs::1:service/c/s",
        ] {
            assert_eq!(ServiceArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_short_service_arn_is_placed_in_the_cluster_its_event_names() {
        let cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
        let long = ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/prod/web");
        let short = "arn:aws:ecs:eu-west-1:123456789012:service/web";
        assert!(ServiceArn::is_short_form(short));
        assert_eq!(ServiceArn::parse_in_cluster(short, Some(cluster)), long);
        // The long form needs no cluster and keeps its own.
        let other = "arn:aws:ecs:eu-west-1:123456789012:cluster/other";
        assert_eq!(
            ServiceArn::parse_in_cluster(
                "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
                Some(other)
            ),
            long
        );
        // Without a cluster, or with one of another account or region, it stays unusable.
        for cluster in [
            None,
            Some("arn:aws:ecs:eu-west-1:999999999999:cluster/prod"),
            Some("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
            Some("not an arn"),
        ] {
            assert_eq!(
                ServiceArn::parse_in_cluster(short, cluster),
                None,
                "{cluster:?}"
            );
        }
        assert!(!ServiceArn::is_short_form(
            "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
        ));
    }

    #[test]
    fn finds_the_deployment_named_in_a_reason() {
        let r = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/6177963417134325488.";
        assert_eq!(
            DeploymentId::find_in(r).map(|d| d.0),
            Some("ecs-svc/6177963417134325488".to_owned())
        );
        assert_eq!(
            DeploymentId::find_in("rolling back to deploymentId deploymentID."),
            None
        );
        assert_eq!(task_id("arn:aws:ecs:us-east-1:1:task/c/7e12"), "7e12");
        assert_eq!(
            task_definition_name("arn:aws:ecs:r:1:task-definition/web:26"),
            "web:26"
        );
    }
}
