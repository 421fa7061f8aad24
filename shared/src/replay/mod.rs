//! Many services at once, in memory: the engine behind `rollout-watcher replay` and
//! the world the scenario tests drive.

mod packed;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::core::{Effects, RolloutSummary, ServiceConfig, ServiceState, Settings};
use crate::model::{
    DeploymentId, EcsEvent, Input, Interpreted, Millis, ModelError, ServiceArn, Timestamp,
};

use packed::Held;
pub use packed::PackError;

/// Why a replay could not apply an event or read its states.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The event was malformed (counted in [`ReplayStats::rejected`]).
    #[error(transparent)]
    Event(#[from] ModelError),
    /// A packed state did not come back: a bug, not bad input.
    #[error(transparent)]
    Packed(#[from] PackError),
}

/// When idle services' states are packed (see [`Replay::with_packing`]). A watcher
/// packs nothing unless asked.
///
/// Packing saves memory only while most services are idle. On the busy account's
/// streams every service rolls in the same minutes of each day, so all states are
/// live at once whatever the threshold, and the month's peak comes after the last
/// event, not from the states: measured, packing once a day raised the month's peak
/// RSS (json) from 88 to 95 MiB to 104 MiB and its wall time by half, so `replay`
/// does not pack.
///
/// The default waits two hours of event time. On the busy day, where every
/// service's events come in two bursts an hour apart (its running tasks at 09:00,
/// its rollout from 10:00 to 10:08), the longest silence of a service is 59.7
/// minutes: two hours never packs a state there, and on the month each service is
/// packed once a day, between its days. A scan every half hour of event time (not
/// per event) finds them; a state idle a little longer than the threshold before it
/// is packed costs nothing but its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packing {
    /// How long a service must have seen no event, behind the latest event time the
    /// replay has seen, before its state is packed.
    pub idle: Millis,
    /// How far the stream's clock moves between two looks for idle states.
    pub scan_every: Millis,
}

impl Packing {
    /// Every state packed as soon as its event is applied: the tests' proof that a
    /// packed state behaves as one never packed.
    pub const ALWAYS: Self = Self {
        idle: Millis(0),
        scan_every: Millis(0),
    };
}

impl Default for Packing {
    fn default() -> Self {
        Self {
            idle: Millis::from_secs(2 * 3600),
            scan_every: Millis::from_secs(1800),
        }
    }
}

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
#[derive(Debug)]
pub struct Replay {
    // Hash maps: a busy account's stream touches thousands of services whose ARNs
    // share a long prefix, and ordered-map look-ups compared those prefixes on every
    // event. Order, where output depends on it, is restored explicitly.
    services: HashMap<ServiceArn, Held>,
    /// When idle states are packed; `None`: never.
    packing: Option<Packing>,
    /// The latest event time any service has seen.
    latest: Option<Timestamp>,
    /// When the stream's clock is next due a look for idle states.
    next_scan: Option<Timestamp>,
    settings: Settings,
    seen: HashMap<(ServiceArn, DeploymentId), RolloutSummary>,
    /// Whether `seen` keeps the summaries of rollouts the services no longer hold
    /// (see [`Replay::without_past`]).
    forget_past: bool,
    /// What it saw.
    pub stats: ReplayStats,
}

impl Default for Replay {
    fn default() -> Self {
        Self {
            services: HashMap::new(),
            packing: None,
            latest: None,
            next_scan: None,
            settings: Settings::default(),
            seen: HashMap::new(),
            forget_past: false,
            stats: ReplayStats::default(),
        }
    }
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

    /// The same watcher packing idle states as `packing` says, or never (`None`).
    pub fn with_packing(mut self, packing: Option<Packing>) -> Self {
        self.packing = packing;
        self
    }

    /// Decodes and applies one JSON event.
    pub fn apply_json(&mut self, text: &str) -> Result<Effects, ReplayError> {
        match EcsEvent::from_json(text) {
            Ok(ev) => self.apply_interpreted(ev.into_interpreted()),
            Err(e) => {
                self.stats.rejected += 1;
                Err(e.into())
            }
        }
    }

    /// Applies one decoded event.
    pub fn apply_event(&mut self, ev: &EcsEvent) -> Result<Effects, ReplayError> {
        self.apply_interpreted(ev.interpret())
    }

    fn apply_interpreted(
        &mut self,
        interpreted: Result<Interpreted, ModelError>,
    ) -> Result<Effects, ReplayError> {
        match interpreted {
            Ok(Interpreted::Use(input)) => Ok(self.apply_input(&input)?),
            Ok(Interpreted::Ignore(_)) => {
                self.stats.ignored += 1;
                Ok(Effects::default())
            }
            Err(e) => {
                self.stats.rejected += 1;
                Err(e.into())
            }
        }
    }

    /// Applies one input that is not an event: a reading of the Service Deployments
    /// API ([`Input::service_deployment`]), as `wait` polls them.
    pub fn apply_input(&mut self, input: &Input) -> Result<Effects, PackError> {
        let held = match self.services.get_mut(&input.service) {
            Some(s) => s,
            None => self
                .services
                .entry(input.service.clone())
                .or_insert_with(|| Held::new(ServiceState::new(input.service.clone()))),
        };
        let state = held.live(&input.service)?;
        let effects = state.apply(input, &self.settings);
        self.latest = self.latest.max(state.clock());
        if effects.duplicate {
            self.stats.duplicates += 1;
            self.stats.late += u64::from(effects.late);
        } else {
            self.stats.applied += 1;
        }
        self.remember(&effects);
        self.pack_idle()?;
        Ok(effects)
    }

    /// Packs the states idle long enough, when the stream's clock is due a look.
    fn pack_idle(&mut self) -> Result<(), PackError> {
        let (Some(packing), Some(latest)) = (self.packing, self.latest) else {
            return Ok(());
        };
        if self.next_scan.is_some_and(|due| latest < due) {
            return Ok(());
        }
        self.next_scan = Some(latest.plus(packing.scan_every));
        for (arn, held) in &mut self.services {
            held.pack_if_idle(arn, latest, packing.idle)?;
        }
        Ok(())
    }

    /// Lets time pass to `now` for every service, in the order of their ARNs. A
    /// packed state is unpacked, ticked and packed again, one at a time.
    pub fn tick_all(&mut self, now: Timestamp) -> Result<Effects, PackError> {
        let mut all = Effects::default();
        let mut held: Vec<(&ServiceArn, &mut Held)> = self.services.iter_mut().collect();
        held.sort_by(|a, b| a.0.cmp(b.0));
        for (arn, h) in held {
            let packed = h.is_packed();
            all.extend(h.live(arn)?.tick(now, &self.settings));
            if packed {
                h.repack(arn)?;
            }
        }
        self.latest = self.latest.max(Some(now));
        self.remember(&all);
        Ok(all)
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
    pub fn rollouts(&self) -> Result<Vec<RolloutSummary>, PackError> {
        let mut v = self.live_rollouts()?;
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
        Ok(v)
    }

    /// The summaries of the rollouts the services hold now, service by service, in
    /// no particular order: with [`Replay::without_past`], what the caller adds to
    /// the summaries it kept. Packed states are decoded one at a time.
    pub fn live_rollouts(&self) -> Result<Vec<RolloutSummary>, PackError> {
        let mut v = Vec::new();
        for (arn, held) in &self.services {
            v.extend(held.read(arn)?.rollouts());
        }
        Ok(v)
    }

    /// Records what DescribeServices says of a service (desired count, settings,
    /// tags), as the deployed functions learn it, so a replay can say what they say
    /// (e.g. "the service should run at least 1" only when the desired count is known).
    pub fn set_config(
        &mut self,
        service: &ServiceArn,
        config: ServiceConfig,
    ) -> Result<(), PackError> {
        let held = self
            .services
            .entry(service.clone())
            .or_insert_with(|| Held::new(ServiceState::new(service.clone())));
        let packed = held.is_packed();
        held.live(service)?.set_config(config);
        if packed {
            held.repack(service)?;
        }
        Ok(())
    }

    /// The configurations the services hold, letting go of the rest of their states:
    /// all a caller that kept the rollouts still needs once the events are applied,
    /// and a month of them holds thousands of states.
    pub fn into_configs(self) -> Result<HashMap<ServiceArn, ServiceConfig>, PackError> {
        let mut configs = HashMap::new();
        for (arn, held) in self.services {
            if let Some(config) = held.into_state(&arn)?.config {
                configs.insert(arn, config);
            }
        }
        Ok(configs)
    }

    /// The states, one at a time, each let go of once the caller is done with it:
    /// what a caller that kept the rollouts reads at the end (the rollouts the
    /// services still hold, their configurations) without every state and all it
    /// takes from them in memory at once, at the end of a month of events.
    pub fn into_states(self) -> impl Iterator<Item = Result<ServiceState, PackError>> {
        self.services
            .into_iter()
            .map(|(arn, held)| held.into_state(&arn))
    }

    /// The state of one service, decoded if it is packed.
    pub fn service(&self, arn: &ServiceArn) -> Result<Option<Cow<'_, ServiceState>>, PackError> {
        self.services.get(arn).map(|h| h.read(arn)).transpose()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}
