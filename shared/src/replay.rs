//! Many services at once, in memory: the engine behind `rollout-watcher replay` and
//! the world the scenario tests drive.

use std::collections::{HashMap, HashSet};

use crate::core::{Effects, RolloutSummary, ServiceConfig, ServiceState, Settings};
use crate::model::{DeploymentId, EcsEvent, Input, Interpreted, ModelError, ServiceArn, Timestamp};

/// Counters of what a replay saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events applied to a service.
    pub applied: u64,
    /// Events accepted but ignored by rule (unknown detail-type, steady state, …).
    pub ignored: u64,
    /// Events that changed nothing (duplicates, older versions, events too late).
    pub duplicates: u64,
    /// Of the `duplicates`, events that came more than
    /// [`LATE_LIMIT`](crate::core::LATE_LIMIT) before their service's clock and were
    /// not applied.
    pub late: u64,
    /// Malformed events.
    pub rejected: u64,
}

/// The in-memory watcher.
#[derive(Debug, Default)]
pub struct Replay {
    // Hash maps: a busy account's stream touches thousands of services whose ARNs
    // share a long prefix, and ordered-map look-ups compared those prefixes on every
    // event. Order, where output depends on it, is restored explicitly. Boxed: a
    // state is several hundred bytes, and a table keeps a quarter of its slots free.
    services: HashMap<ServiceArn, Box<ServiceState>>,
    settings: Settings,
    seen: HashMap<(ServiceArn, DeploymentId), RolloutSummary>,
    /// Whether `seen` keeps the summaries of rollouts the services no longer hold
    /// (see [`Replay::without_past`]).
    forget_past: bool,
    /// What it saw.
    pub stats: ReplayStats,
}

impl Replay {
    /// An empty watcher.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// An empty watcher that keeps no summary of the rollouts its services have let
    /// go: the caller keeps what it needs of them from each [`Effects`]' `rollouts`
    /// (every summary that changed, as it stands after the change), and
    /// [`Replay::rollouts`] lists only the rollouts the services still hold. A month of
    /// events has tens of thousands of rollouts past; `replay` spills them to disk.
    pub fn without_past(settings: Settings) -> Self {
        Self {
            settings,
            forget_past: true,
            ..Self::default()
        }
    }

    /// Decodes and applies one JSON event.
    pub fn apply_json(&mut self, text: &str) -> Result<Effects, ModelError> {
        match EcsEvent::from_json(text) {
            Ok(ev) => self.apply_interpreted(ev.into_interpreted()),
            Err(e) => {
                self.stats.rejected += 1;
                Err(e)
            }
        }
    }

    /// Applies one decoded event.
    pub fn apply_event(&mut self, ev: &EcsEvent) -> Result<Effects, ModelError> {
        self.apply_interpreted(ev.interpret())
    }

    fn apply_interpreted(
        &mut self,
        interpreted: Result<Interpreted, ModelError>,
    ) -> Result<Effects, ModelError> {
        match interpreted {
            Ok(Interpreted::Use(input)) => Ok(self.apply_input(&input)),
            Ok(Interpreted::Ignore(_)) => {
                self.stats.ignored += 1;
                Ok(Effects::default())
            }
            Err(e) => {
                self.stats.rejected += 1;
                Err(e)
            }
        }
    }

    /// Applies one input that is not an event: a reading of the Service Deployments
    /// API ([`Input::service_deployment`]), as `wait` polls them.
    pub fn apply_input(&mut self, input: &Input) -> Effects {
        let state = match self.services.get_mut(&input.service) {
            Some(s) => s,
            None => self
                .services
                .entry(input.service.clone())
                .or_insert_with(|| Box::new(ServiceState::new(input.service.clone()))),
        };
        let effects = state.apply(input, &self.settings);
        if effects.duplicate {
            self.stats.duplicates += 1;
            self.stats.late += u64::from(effects.late);
        } else {
            self.stats.applied += 1;
        }
        self.remember(&effects);
        effects
    }

    /// Lets time pass to `now` for every service, in the order of their ARNs.
    pub fn tick_all(&mut self, now: Timestamp) -> Effects {
        let mut all = Effects::default();
        let mut states: Vec<&mut ServiceState> =
            self.services.values_mut().map(Box::as_mut).collect();
        states.sort_by(|a, b| a.service().cmp(b.service()));
        for state in states {
            all.extend(state.tick(now, &self.settings));
        }
        self.remember(&all);
        all
    }

    fn remember(&mut self, effects: &Effects) {
        if self.forget_past {
            return;
        }
        for r in &effects.rollouts {
            self.seen
                .insert((r.service.clone(), r.deployment_id.clone()), r.clone());
        }
    }

    /// Every rollout seen, as it stands now, in order of start.
    ///
    /// One copy of the summaries: those the services still hold as they stand, and
    /// those remembered of the rest (a month of events holds tens of thousands).
    pub fn rollouts(&self) -> Vec<RolloutSummary> {
        let mut v: Vec<RolloutSummary> =
            self.services.values().flat_map(|s| s.rollouts()).collect();
        let live: HashSet<(&ServiceArn, &DeploymentId)> =
            v.iter().map(|r| (&r.service, &r.deployment_id)).collect();
        let past: Vec<RolloutSummary> = self
            .seen
            .iter()
            .filter(|((s, d), _)| !live.contains(&(s, d)))
            .map(|(_, r)| r.clone())
            .collect();
        drop(live);
        v.extend(past);
        v.sort_by(|a, b| {
            (a.started_at.or(a.finished_at), &a.service, &a.deployment_id).cmp(&(
                b.started_at.or(b.finished_at),
                &b.service,
                &b.deployment_id,
            ))
        });
        v
    }

    /// The summaries of the rollouts the services hold now, service by service, in
    /// no particular order: with [`Replay::without_past`], what the caller adds to
    /// the summaries it kept.
    pub fn live_rollouts(&self) -> impl Iterator<Item = RolloutSummary> + '_ {
        self.services.values().flat_map(|s| s.rollouts())
    }

    /// Records what DescribeServices says of a service (desired count, settings,
    /// tags), as the deployed functions learn it, so a replay can say what they say
    /// (e.g. "the service should run at least 1" only when the desired count is known).
    pub fn set_config(&mut self, service: &ServiceArn, config: ServiceConfig) {
        self.services
            .entry(service.clone())
            .or_insert_with(|| Box::new(ServiceState::new(service.clone())))
            .set_config(config);
    }

    /// The states, one at a time, each let go of once the caller is done with it:
    /// what a caller that kept the rollouts reads at the end (the rollouts the
    /// services still hold, their configurations) without every state and all it
    /// takes from them in memory at once, at the end of a month of events.
    pub fn into_states(self) -> impl Iterator<Item = ServiceState> {
        self.services.into_values().map(|s| *s)
    }

    /// The state of one service.
    pub fn service(&self, arn: &ServiceArn) -> Option<&ServiceState> {
        self.services.get(arn).map(Box::as_ref)
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}
