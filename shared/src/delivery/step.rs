//! The per-event step on a loaded record, shared by the one-event handler and the
//! batch: refresh the configuration, seed a new record, join a hook event's service
//! deployment, apply, confirm a zero. It writes nothing; the caller applies one event
//! (`handle`) or a service's events in batch order (`handle_batch`) on one record,
//! then writes once.

use crate::core::{Effects, Observation, ServiceState};
use crate::error_chain;
use crate::model::{
    DeploymentPhase, Input, InputKind, Millis, ServiceArn, ServiceDeploymentView, TaskObservation,
    Timestamp,
};
use crate::ports::{Clock, Ports, ServiceInspector, ServiceView};
use crate::record::ServiceRecord;

use super::Watcher;

/// How much later than a rollout's start (ECS's clock) a configuration reading
/// (the function's clock) must be to count as taken after it. Both clocks follow
/// Amazon's time service to well under a millisecond; the second absorbs that and a
/// start time ECS rounds to whole seconds in some events.
const CLOCK_MARGIN: Millis = Millis::from_secs(1);

/// ECS look-ups made at most once per service per invocation (one event, or a
/// service's events in a batch), kept across conflict retries.
#[derive(Default)]
pub(super) struct Lookups {
    view: Option<Option<ServiceView>>,
    seeds: Option<Vec<TaskObservation>>,
    /// DescribeServiceDeployments of hook events' service deployments, by ARN
    /// (`None`: asked, and ECS did not know it or the call failed).
    readings: Vec<(String, Option<ServiceDeploymentView>)>,
}

impl<P: Ports> Watcher<P> {
    /// One attempt: refresh the configuration, seed, join a hook event's service
    /// deployment, apply, confirm a zero.
    ///
    /// `seed`: whether a never-written record may be seeded from ECS (the first event
    /// applied on it; a batch's later events find the seeds already applied).
    pub(super) async fn step(
        &self,
        rec: &mut ServiceRecord,
        input: &Input,
        lookups: &mut Lookups,
        seed: bool,
    ) -> (Effects, bool) {
        let settings = &self.config.settings;
        let now = self.clock.now();
        let mut changed = false;
        // The sweeper found the service deleted before this event happened: this is
        // a service of that name created again, and the deleted one's open rollout
        // (which no event will ever end) must not stall under the new one's clock.
        if rec.gone_at.is_some_and(|gone| input.time > gone) {
            rec.state = ServiceState::new(input.service.clone());
            rec.gone_at = None;
            changed = true;
        }
        if self.wants_config(rec, input, now)
            && let Some(Some(view)) = self.view(&input.service, lookups).await
        {
            let mut cfg = view.config.clone();
            cfg.read_at = Some(now);
            rec.state.set_config(cfg);
            changed = true;
        }
        let mut effects = Effects::default();
        if seed && rec.revision == 0 && self.config.seed_tasks {
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
    /// DescribeServiceDeployments reading (asked once per service deployment and
    /// invocation, kept across conflict retries), applied before the event in the same write: the reading
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
        let known = lookups
            .readings
            .iter()
            .find(|(arn, _)| *arn == h.service_deployment)
            .map(|(_, v)| v.clone());
        let view = match known {
            Some(v) => v,
            None => {
                let v = self
                    .describe_service_deployment(&input.service, &h.service_deployment)
                    .await;
                lookups
                    .readings
                    .push((h.service_deployment.clone(), v.clone()));
                v
            }
        }?;
        let reading = Input::service_deployment(input.service.clone(), view, now);
        Some(rec.state.apply(&reading, &self.config.settings))
    }

    /// A rollout starts (first IN_PROGRESS of a deployment) and the cached
    /// configuration was read before it began, or the cached configuration is absent
    /// or older than `config_max_age`.
    ///
    /// Why a reading taken after the start counts: EventBridge does not keep a
    /// rollout's events in order, and its first task events often arrive before its
    /// IN_PROGRESS. The configuration read for them already describes the update that
    /// started the rollout (ECS records the deployment before it emits the event);
    /// reading it again seconds later would spend a DescribeServices, whose rate a
    /// busy account shares with its deploy tooling, on the same answer.
    fn wants_config(&self, rec: &ServiceRecord, input: &Input, now: Timestamp) -> bool {
        let read_at = rec.state.config().and_then(|c| c.read_at);
        let starting = match &input.kind {
            InputKind::Deployment(c) if c.phase == DeploymentPhase::InProgress => !rec
                .state
                .rollouts()
                .iter()
                .any(|r| r.deployment_id == c.deployment && r.started_at.is_some()),
            _ => false,
        };
        let read_since_start = read_at.is_some_and(|t| t >= input.time.plus(CLOCK_MARGIN));
        let stale = read_at.is_none_or(|t| now.since(t) >= self.config.config_max_age);
        (starting && !read_since_start) || stale
    }

    /// DescribeServices, once per service and invocation; `None` when the look-up failed (the
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
}
