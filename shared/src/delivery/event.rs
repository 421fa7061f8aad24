//! One EventBridge ECS event through the watcher: the ecs-event-handler's job.

use serde_json::Value;

use crate::core::{Effect, Effects, Observation};
use crate::error_chain;
use crate::model::{
    DeploymentPhase, EcsEvent, Input, InputKind, Interpreted, ModelError, ServiceArn,
    ServiceDeploymentView, TaskObservation, Timestamp,
};
use crate::ports::{Clock, Ports, ServiceInspector, ServiceView};
use crate::record::ServiceRecord;

use super::commit::{Committed, Write, finished};
use super::{HandlerError, Outcome, Watcher};

/// ECS look-ups made at most once per invocation, kept across conflict retries.
#[derive(Default)]
struct Lookups {
    view: Option<Option<ServiceView>>,
    seeds: Option<Vec<TaskObservation>>,
    /// DescribeServiceDeployments of a hook event's service deployment (`Some(None)`:
    /// asked, and ECS did not know it or the call failed).
    reading: Option<Option<ServiceDeploymentView>>,
}

impl<P: Ports> Watcher<P> {
    /// Handles one EventBridge event. `invocation` identifies the caller (the Lambda
    /// request id): it owns the outbox entries it claims.
    pub async fn handle(&self, event: &Value, invocation: &str) -> Result<Outcome, HandlerError> {
        self.handle_decoded(EcsEvent::from_value(event), invocation)
            .await
    }

    /// [`Self::handle`] from the event's JSON text as Lambda delivers it: decoded in
    /// one pass, where a `Value` is parsed, then printed again for the decoder
    /// (about a tenth of the bootstrap's CPU per event).
    pub async fn handle_json(
        &self,
        event: &str,
        invocation: &str,
    ) -> Result<Outcome, HandlerError> {
        self.handle_decoded(EcsEvent::from_json(event), invocation)
            .await
    }

    async fn handle_decoded(
        &self,
        event: Result<EcsEvent, ModelError>,
        invocation: &str,
    ) -> Result<Outcome, HandlerError> {
        // The id and detail-type are kept for the log line of an ignored event; the
        // rest of the event moves into the input.
        let decoded = event.and_then(|e| {
            let named = (e.id.clone(), e.detail_type.clone());
            e.into_interpreted().map(|i| (named, i))
        });
        let input = match decoded {
            Ok((_, Interpreted::Use(input))) => input,
            Ok(((id, detail_type), Interpreted::Ignore(why))) => {
                tracing::info!(event_id = id.as_deref(), detail_type = %detail_type, reason = ?why, outcome = "ignored", "event");
                return Ok(Outcome {
                    status: "ignored",
                    ..Outcome::default()
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, outcome = "rejected", "event");
                self.count_rejected().await;
                return Err(e.into());
            }
        };
        let now = self.clock.now();
        if input.time.since(now) > self.config.max_ahead {
            let e = ModelError::invalid(
                "time",
                "more than 15 minutes ahead of the watcher's clock",
                &input.time.to_rfc3339(),
            );
            tracing::warn!(error = %e, service = %input.service, outcome = "rejected", "event");
            self.count_rejected().await;
            return Err(e.into());
        }
        let service = input.service.clone();
        let mut lookups = Lookups::default();
        let mut fresh = None;
        for attempt in 1..=self.config.max_attempts {
            let mut rec = match fresh.take() {
                Some(rec) => rec,
                None => self.load_or_new(&service).await?,
            };
            let expected = rec.revision;
            let before = finished(&rec.state);
            let (effects, changed) = self.step(&mut rec, &input, &mut lookups).await;
            match self
                .commit(&mut rec, expected, &effects, changed, &before, invocation)
                .await?
            {
                Write::Done(done) => {
                    return self
                        .finish(rec, &input, &effects, done, invocation, attempt)
                        .await;
                }
                Write::Lost(stored) => {
                    tracing::debug!(service = %service, attempt, "conflict, re-applying");
                    self.back_off(attempt, invocation).await;
                    fresh = Some(*stored);
                }
            }
        }
        Err(HandlerError::Conflict {
            service: service.to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// One attempt: refresh the configuration, seed, join a hook event's service
    /// deployment, apply, confirm a zero.
    async fn step(
        &self,
        rec: &mut ServiceRecord,
        input: &Input,
        lookups: &mut Lookups,
    ) -> (Effects, bool) {
        let settings = &self.config.settings;
        let now = self.clock.now();
        let mut changed = false;
        if self.wants_config(rec, input, now)
            && let Some(Some(view)) = self.view(&input.service, lookups).await
        {
            let mut cfg = view.config.clone();
            cfg.read_at = Some(now);
            rec.state.set_config(cfg);
            changed = true;
        }
        let mut effects = Effects::default();
        if rec.revision == 0 && self.config.seed_tasks {
            for task in self.seeds(&input.service, lookups).await {
                let seed = Input {
                    service: input.service.clone(),
                    event_id: None,
                    time: input.time,
                    kind: InputKind::Task(Box::new(task)),
                };
                let e = rec.state.apply(&seed, settings);
                changed |= !e.duplicate;
                effects.extend(e);
            }
        }
        let read = self.hook_reading(rec, input, lookups, now).await;
        // A reading that told something new makes the event's invocation count as
        // applied even when the event then adds nothing the reading had not said.
        let read_new = read.as_ref().is_some_and(|e| !e.duplicate);
        changed |= read_new;
        if let Some(e) = read {
            effects.extend(e);
        }
        let applied = rec.state.apply(input, settings);
        changed |= !applied.duplicate;
        let duplicate = applied.duplicate && !read_new;
        effects.extend(applied);
        effects.duplicate = duplicate;
        if rec.state.needs_observation()
            && let Some(view) = self.view(&input.service, lookups).await
        {
            let (desired, running) = view.as_ref().map_or((0, 0), |v| (v.desired, v.running));
            let obs = Observation {
                desired,
                running,
                at: now,
            };
            effects.extend(rec.state.observe(obs, settings));
            changed = true;
        }
        (effects, changed)
    }

    /// For a hook event whose service deployment is not joined to a rollout yet, its
    /// DescribeServiceDeployments reading (asked once per invocation, kept across
    /// conflict retries), applied before the event in the same write: the reading
    /// names the rollout, so the event's alerts name it too.
    async fn hook_reading(
        &self,
        rec: &mut ServiceRecord,
        input: &Input,
        lookups: &mut Lookups,
        now: Timestamp,
    ) -> Option<Effects> {
        let InputKind::Hook(h) = &input.kind else {
            return None;
        };
        if rec.state.is_joined(&h.service_deployment) {
            return None;
        }
        if lookups.reading.is_none() {
            let view = self
                .describe_service_deployment(&input.service, &h.service_deployment)
                .await;
            lookups.reading = Some(view);
        }
        let view = lookups.reading.clone().flatten()?;
        let reading = Input::service_deployment(input.service.clone(), view, now);
        Some(rec.state.apply(&reading, &self.config.settings))
    }

    /// A rollout starts (first IN_PROGRESS of a deployment), or the cached
    /// configuration is absent or older than `config_max_age`.
    fn wants_config(&self, rec: &ServiceRecord, input: &Input, now: Timestamp) -> bool {
        let starting = match &input.kind {
            InputKind::Deployment(c) if c.phase == DeploymentPhase::InProgress => !rec
                .state
                .rollouts()
                .iter()
                .any(|r| r.deployment_id == c.deployment && r.started_at.is_some()),
            _ => false,
        };
        let stale = rec
            .state
            .config()
            .and_then(|c| c.read_at)
            .is_none_or(|t| now.since(t) >= self.config.config_max_age);
        starting || stale
    }

    /// DescribeServices, once per invocation; `None` when the look-up failed (the
    /// watcher then works from events alone and says so in the log).
    async fn view(
        &self,
        service: &ServiceArn,
        lookups: &mut Lookups,
    ) -> Option<Option<ServiceView>> {
        if lookups.view.is_none() {
            match self.inspector.describe(service).await {
                Ok(v) => lookups.view = Some(v),
                Err(e) => {
                    tracing::warn!(service = %service, error = %error_chain(&e), "DescribeServices failed; continuing from events");
                    return None;
                }
            }
        }
        lookups.view.clone()
    }

    async fn seeds(&self, service: &ServiceArn, lookups: &mut Lookups) -> Vec<TaskObservation> {
        if lookups.seeds.is_none() {
            let seeds = match self.inspector.running_tasks(service).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(service = %service, error = %error_chain(&e), "could not seed the task set; continuing from events");
                    Vec::new()
                }
            };
            lookups.seeds = Some(seeds);
        }
        lookups.seeds.clone().unwrap_or_default()
    }

    /// Delivers what the write claimed, marks it sent, logs the event's line.
    async fn finish(
        &self,
        rec: ServiceRecord,
        input: &Input,
        effects: &Effects,
        done: Committed,
        invocation: &str,
        attempt: u32,
    ) -> Result<Outcome, HandlerError> {
        let delivered = self.deliver(&done).await;
        let settled = if !done.needs_settling() {
            Ok(())
        } else {
            self.settle(rec, invocation, &delivered.keys).await
        };
        log_event(input, effects, &done, &delivered, attempt);
        if let Some(failure) = delivered.failure {
            if let Err(e) = settled {
                tracing::warn!(error = %e.chain(), "could not release the outbox claims");
            }
            return Err(failure);
        }
        settled?;
        Ok(Outcome {
            status: effects.outcome(),
            service: Some(input.service.to_string()),
            alerts_published: delivered.alerts,
            metrics_sent: delivered.metrics,
            attempts: attempt,
        })
    }
}

/// The one log line per event: service, deployments, transitions, alerts.
fn log_event(
    input: &Input,
    effects: &Effects,
    done: &Committed,
    delivered: &super::commit::Delivered,
    attempt: u32,
) {
    let mut transitions = Vec::new();
    let mut alerts = Vec::new();
    let mut deployments = Vec::new();
    for e in &effects.items {
        match e {
            Effect::Transition(t) => {
                let from = t.from.map_or("new", |f| f.as_str());
                transitions.push(format!("{}:{from}->{}", t.deployment_id, t.to.as_str()));
                deployments.push(t.deployment_id.to_string());
            }
            Effect::Alert(a) => alerts.push(format!("{}:{}", a.alert.as_str(), a.status.as_str())),
            Effect::Metric(_) | Effect::Stage(_) => {}
        }
    }
    if let InputKind::Deployment(c) = &input.kind {
        deployments.push(c.deployment.to_string());
    }
    deployments.sort();
    deployments.dedup();
    tracing::info!(
        service = %input.service,
        event_id = input.event_id.as_deref(),
        outcome = effects.outcome(),
        deployments = %deployments.join(","),
        transitions = %transitions.join(","),
        alerts = %alerts.join(","),
        queued_alerts = done.recorded.alerts,
        skipped_alerts = done.recorded.skipped,
        published = delivered.alerts,
        metrics_sent = delivered.metrics,
        attempts = attempt,
        "event"
    );
}
