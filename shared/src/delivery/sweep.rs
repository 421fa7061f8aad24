//! The rollout-sweeper's job: what event-driven code cannot see, silence.
//!
//! Each tick: query the sparse index for the services that are due (never a scan),
//! add the services of clusters watched in full, read them from ECS in batches (10
//! per DescribeServices), then per service, with the handler's conditional write
//! and outbox claims (so two sweeps, or a sweep and an event, never double an
//! alert): let time pass (`deployment_stalled` past the deadline), confirm or stand
//! down a zero waiting for ECS, finish a rollout ECS reports COMPLETED or FAILED
//! whose event never arrived, and flush what a crashed invocation left in the outbox.
//! A service ECS no longer knows (deleted) gets its waiting effects delivered and
//! nothing new: it is let go, so its open rollout neither stalls nor stays due.
//! For open rollouts of ECS-native strategies it also reads the Service Deployments
//! API (see `native`): stages, pauses, rollbacks and finishes no event reported.
//! Every service looked at also gets a `RunningTaskCount` data point, so an alarm on
//! it does not sit in INSUFFICIENT_DATA while the service is down. Work per tick is
//! bounded (`max_services`); the rest is due again next tick.

use serde::Serialize;

use crate::core::{Effects, MetricName, Observation};
use crate::error_chain;
use crate::model::{
    DeploymentChange, DeploymentId, DeploymentPhase, Input, InputKind, Millis, ServiceArn,
    ServiceDeploymentView, Timestamp,
};
use crate::policy::sampled_metric;
use crate::ports::{Clock, MetricsSink, Ports, ServiceInspector, ServiceView, StateStore};
use crate::record::ServiceRecord;

use super::commit::{Write, finished};
use super::held::Down;
use super::{HandlerError, Watcher};

/// The sweeper's own knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepConfig {
    /// `SWEEP_MAX_SERVICES`: services handled per tick (default 100).
    pub max_services: usize,
    /// `WATCH_CLUSTERS`: comma-separated cluster ARNs whose every service is looked at.
    pub watch_clusters: Vec<String>,
}

/// What one tick did (the sweeper's Lambda response).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Services looked at.
    pub services: usize,
    /// Alerts published.
    pub alerts_published: usize,
    /// Metric data points sent (outbox and gauges).
    pub metrics_sent: usize,
    /// Services whose handling failed (retried next tick).
    pub failed: usize,
    /// Due services left for the next tick because this one's time ran short.
    pub deferred: usize,
    /// Alerts and data points left in the outbox for the next tick, unclaimed,
    /// because SNS or CloudWatch had failed earlier in this one.
    pub held: usize,
}

/// Time kept back at the end of a tick: no service is started with less left, so
/// the one in hand (a few store calls, each bounded at 10 s with its retries by
/// the SDK clients) and the gauges finish before Lambda ends the invocation.
pub const SWEEP_MARGIN: Millis = Millis::from_secs(15);

/// What DescribeServices said of one service this tick.
#[derive(Clone, Copy)]
enum Ecs<'a> {
    /// It describes the service.
    Knows(&'a ServiceView),
    /// It answered without it: MISSING, DRAINING or INACTIVE (deleted).
    Gone,
    /// No answer (throttled, failing): the tick goes on from the state alone.
    Silent,
}

impl<P: Ports> Watcher<P> {
    /// One tick with no time limit (tests, tools); see [`Self::sweep_within`].
    pub async fn sweep(
        &self,
        sweep: &SweepConfig,
        invocation: &str,
    ) -> Result<SweepReport, HandlerError> {
        self.sweep_within(sweep, invocation, Timestamp::from_millis(i64::MAX))
            .await
    }

    /// One tick that starts no service within [`SWEEP_MARGIN`] of `deadline` (the
    /// Lambda invocation's): a tick cut off by Lambda's timeout would report
    /// nothing, send no gauge, and hold its claims for a lease. What is left stays
    /// due and is taken first next tick. Fails (after handling every service it
    /// could) when any service failed, with the first error, so the failure shows
    /// in the function's metrics.
    pub async fn sweep_within(
        &self,
        sweep: &SweepConfig,
        invocation: &str,
        deadline: Timestamp,
    ) -> Result<SweepReport, HandlerError> {
        let now = self.clock.now();
        // Due services first (earliest first), then those of watched clusters.
        let mut services = self.store.due(now, sweep.max_services).await?;
        for cluster in &sweep.watch_clusters {
            match self.inspector.list_services(cluster).await {
                Ok(listed) => {
                    for s in listed {
                        if !services.contains(&s) {
                            services.push(s);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(cluster = %cluster, error = %error_chain(&e), "ListServices failed")
                }
            }
        }
        services.truncate(sweep.max_services);
        // `None`: ECS did not answer (sweep from state alone). An answer without a
        // service: ECS no longer knows it (deleted).
        let views = match self.inspector.describe_many(&services).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "DescribeServices failed; sweeping from state alone");
                None
            }
        };
        let mut report = SweepReport {
            services: services.len(),
            ..SweepReport::default()
        };
        let mut gauges = Vec::new();
        let mut first_error = None;
        // Once SNS or CloudWatch failed this tick, later services leave theirs in
        // the outbox: a hung SNS costs each publish 10 s, and tried for every due
        // service it would spend the tick on the first few, the same ones every
        // tick, while the others' deadlines went unjudged.
        let mut down = Down::default();
        for (i, service) in services.iter().enumerate() {
            let view = views.as_ref().and_then(|v| v.get(i)).cloned().flatten();
            if let Some(v) = &view {
                gauges.push(sampled_metric(
                    service,
                    MetricName::RunningTaskCount,
                    f64::from(v.running),
                    now,
                ));
            }
        }
        for (i, service) in services.iter().enumerate() {
            if self.clock.now().plus(SWEEP_MARGIN) >= deadline {
                report.deferred = services.len() - i;
                tracing::warn!(
                    deferred = report.deferred,
                    "tick out of time; the rest is due next tick"
                );
                break;
            }
            let view = views.as_ref().and_then(|v| v.get(i)).cloned().flatten();
            let ecs = match (&views, view.as_ref()) {
                (_, Some(v)) => Ecs::Knows(v),
                (Some(_), None) => Ecs::Gone,
                (None, None) => Ecs::Silent,
            };
            match self
                .sweep_one(service, ecs, (now, invocation), &mut down)
                .await
            {
                Ok((alerts, metrics, held)) => {
                    report.alerts_published += alerts;
                    report.metrics_sent += metrics;
                    report.held += held;
                }
                Err(e) => {
                    tracing::warn!(service = %service, error = %e.chain(), "sweep failed");
                    report.failed += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        if !gauges.is_empty() {
            match self.metrics.send(&gauges).await {
                Ok(()) => report.metrics_sent += gauges.len(),
                Err(e) => {
                    first_error.get_or_insert(e.into());
                }
            }
        }
        tracing::info!(
            services = report.services,
            published = report.alerts_published,
            metrics_sent = report.metrics_sent,
            failed = report.failed,
            deferred = report.deferred,
            held = report.held,
            "sweep"
        );
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// One service's tick: reconcile, write, deliver (sparing what goes where a
    /// call failed earlier in the tick). Answers the alerts published, the data
    /// points sent and the entries held back for the next tick.
    async fn sweep_one(
        &self,
        service: &ServiceArn,
        ecs: Ecs<'_>,
        (now, invocation): (Timestamp, &str),
        down: &mut Down,
    ) -> Result<(usize, usize, usize), HandlerError> {
        let view = match ecs {
            Ecs::Knows(v) => Some(v),
            Ecs::Gone | Ecs::Silent => None,
        };
        let mut fresh = None;
        // Read once per tick, applied again on a conflict retry.
        let mut readings = None;
        for attempt in 1..=self.config.max_attempts {
            let stored = match fresh.take() {
                Some(rec) => Some(rec),
                None => self.store.load(service).await?,
            };
            let mut rec = match stored {
                Some(rec) => rec,
                // A service of a watched cluster that no event ever mentioned: it is
                // worth a record only when ECS says it should run but runs nothing
                // ("0 running for two weeks and nobody was told").
                None if view.is_some_and(|v| v.desired >= 1 && v.running == 0) => {
                    ServiceRecord::new(service.clone())
                }
                None => return Ok((0, 0, 0)),
            };
            let expected = rec.revision;
            let before = finished(&rec.state);
            // A deleted service: deliver what waits, raise nothing new, let it go.
            let gone = matches!(ecs, Ecs::Gone);
            let (effects, changed) = if gone {
                let newly = rec.let_go(now);
                if newly {
                    tracing::info!(service = %service, open = ?rec.state.open_rollouts(), "ECS no longer knows the service: let go");
                }
                (Effects::default(), newly)
            } else {
                if readings.is_none() {
                    readings = Some(self.service_deployment_readings(&rec).await);
                }
                let readings = readings.as_deref().unwrap_or_default();
                (self.reconcile(&mut rec, view, readings, now), true)
            };
            let done = match self
                .commit(&mut rec, expected, &effects, changed, &before, invocation)
                .await?
            {
                Write::Done(done) => done,
                Write::Lost(stored) => {
                    self.back_off(attempt, invocation).await;
                    fresh = Some(*stored);
                    continue;
                }
            };
            let (delivered, result, held) =
                self.deliver_sparing(rec, &done, invocation, down).await;
            result?;
            return Ok((delivered.alerts, delivered.metrics, held));
        }
        Err(HandlerError::Conflict {
            service: service.to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// The Service Deployments API's readings first (a pause it reports keeps the
    /// rollout from stalling; a SUCCESSFUL, STOPPED or ROLLBACK_* one finishes it as
    /// its events would have), then DescribeServices' COMPLETED and FAILED finish
    /// rollouts whose terminal event never arrived, and only then time passes to
    /// `now` (a deadline is judged on every outcome ECS knows); ECS's counts settle
    /// a waiting zero.
    fn reconcile(
        &self,
        rec: &mut ServiceRecord,
        view: Option<&ServiceView>,
        readings: &[ServiceDeploymentView],
        now: Timestamp,
    ) -> Effects {
        let settings = &self.config.settings;
        let mut effects = Effects::default();
        for r in readings {
            let input = Input::service_deployment(rec.state.service().clone(), r.clone(), now);
            effects.extend(rec.state.apply(&input, settings));
        }
        let Some(view) = view else {
            effects.extend(rec.state.tick(now, settings));
            return effects;
        };
        let open = rec.state.open_rollouts();
        for d in &view.deployments {
            let phase = match d.rollout_state.as_deref() {
                Some("COMPLETED") => DeploymentPhase::Completed,
                Some("FAILED") => DeploymentPhase::Failed,
                _ => continue,
            };
            let Some(id) = DeploymentId::parse(&d.id).filter(|id| open.contains(id)) else {
                continue;
            };
            let input = Input {
                service: rec.state.service().clone(),
                event_id: Some(format!("sweep|{id}|{phase:?}")),
                time: now,
                kind: InputKind::Deployment(DeploymentChange {
                    deployment: id,
                    phase,
                    at: d.updated_at.unwrap_or(now),
                    reason: d.reason.clone(),
                    rollback_to: None,
                }),
            };
            effects.extend(rec.state.apply(&input, settings));
        }
        // Time passes only once ECS's outcomes are in: a rollout that finished inside
        // its deadline and whose event was lost is not stalled at a later tick.
        effects.extend(rec.state.tick(now, settings));
        // Always: ECS's counts confirm or stand down a waiting zero, and also find the
        // zero (or the recovery) whose task events never arrived.
        {
            let obs = Observation {
                desired: view.desired,
                running: view.running,
                at: now,
            };
            effects.extend(rec.state.observe(obs, settings));
        }
        effects
    }
}
