//! The state machine of one service: its tasks, its rollouts, its zero windows.
//!
//! Shaped like quinn-proto's `connection`: this file holds the state and its entry
//! points, and each child owns one concern with its own types ([`deployments`],
//! [`tasks`] and [`task_events`], [`zero`], [`crashes`], [`links`], [`retention`],
//! [`queries`] for what callers may ask;
//! [`stops`] reads a task's stop against the rollouts); the children never call each other
//! in a loop, and only this file sees all of them. What it finds comes out as
//! occurrences; the policy's [`ServiceState::apply`], [`ServiceState::tick`] and
//! [`ServiceState::observe`] put them into words as [`Effects`](crate::core::Effects).
//!
//! # Calling contract
//!
//! - [`ServiceState::apply`] one [`Input`] at a time, in any order, any number of
//!   times: duplicates (same event id, same task `version`, same deployment fact)
//!   change nothing and produce nothing.
//! - [`ServiceState::tick`] with an explicit "now" when time passes without events
//!   (the sweeper, `replay --now`): deadlines are evaluated then too.
//! - [`ServiceState::observe`] when [`ServiceState::needs_observation`] says a zero
//!   awaits confirmation (only with [`Settings::confirm_zero`]).
//! - [`ServiceState::set_config`] whenever DescribeServices was read.
//!
//! Every call returns [`Effects`](crate::core::Effects) that must be recorded (the outbox) before they are
//! delivered. Nothing here reads a clock or does I/O: time is the service's event
//! time (the latest envelope `time` seen) or the "now" passed in.

mod crashes;
mod deployment_api;
mod deployments;
mod hooks;
mod ids;
mod joins;
mod links;
mod queries;
mod retention;
mod stops;
mod task_events;
mod tasks;
mod zero;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::{
    CrashLoopRule, Input, InputKind, Millis, Observation, ServiceAction, ServiceArn, ServiceConfig,
    Timestamp,
};

use super::effects::{AlertName, dedup_key};
use super::occurrence::{Occurrence, Occurrences};
use super::rollout::{RollbackFact, Rollouts};
use super::settings::Settings;
use super::stop::StopInfo;
use crashes::Crashes;
use deployments::{DeploymentStats, View};
use ids::Id;
use retention::Forgotten;
use tasks::Tasks;
use zero::ZeroTracker;

pub use retention::LATE_LIMIT;

/// Everything the watcher knows about one service. Serialisable: the deployed
/// functions keep it in one DynamoDB item, bounded in size by [`ServiceState::prune`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    pub(crate) service: ServiceArn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) clock: Option<Timestamp>,
    #[serde(default)]
    pub(crate) tasks: Tasks,
    #[serde(default)]
    pub(crate) rollouts: Rollouts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) rollbacks: Vec<RollbackFact>,
    #[serde(default)]
    pub(crate) deployments: DeploymentStats,
    #[serde(default)]
    pub(crate) zero: ZeroTracker,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_serving: Option<Timestamp>,
    /// A task was seen RUNNING (or ECS said none runs): only then can the
    /// service's running tasks "reach" zero. A lone STOPPED event of a service seen
    /// for the first time says nothing about the tasks the watcher never saw.
    #[serde(default)]
    pub(crate) serving_seen: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pruned_last_end: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reported_serving: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_stop: Option<StopInfo>,
    /// The ids of the latest events applied (at most 64), for dedup.
    #[serde(default)]
    pub(crate) recent_events: VecDeque<Id>,
    #[serde(default)]
    pub(crate) fired: VecDeque<String>,
    /// Ids of stopped tasks pruned from `tasks`: EventBridge may deliver their events
    /// again hours later (it retries for 24 h), and a stopped task never comes back,
    /// so any event for one of these is stale. Kept until [`LATE_LIMIT`] has passed,
    /// and bounded in number like the other dedup memories.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub(crate) forgotten_tasks: VecDeque<Forgotten>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<ServiceConfig>,
    /// Crashes of serving tasks and the loops they made.
    #[serde(default)]
    pub(crate) crashes: Crashes,
    /// Service deployments (hook events) not joined to a rollout yet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) unjoined: joins::Unjoined,
}

/// Service-action alerts without a rollout are keyed per hour, so a condition ECS
/// keeps reporting pages once an hour rather than once per event.
const HOUR_MS: i64 = 3_600_000;

impl ServiceState {
    /// A service the watcher has not seen before.
    pub fn new(service: ServiceArn) -> Self {
        Self {
            service,
            clock: None,
            tasks: Tasks::default(),
            rollouts: BTreeMap::new(),
            rollbacks: Vec::new(),
            deployments: BTreeMap::new(),
            zero: ZeroTracker::default(),
            first_serving: None,
            serving_seen: false,
            pruned_last_end: None,
            reported_serving: None,
            last_stop: None,
            recent_events: VecDeque::new(),
            fired: VecDeque::new(),
            forgotten_tasks: VecDeque::new(),
            config: None,
            crashes: Crashes::default(),
            unjoined: BTreeMap::new(),
        }
    }

    /// Records the configuration read from ECS (desired count, breaker, tags).
    pub fn set_config(&mut self, config: ServiceConfig) {
        self.config = Some(config);
    }

    /// Applies one event (the core of [`ServiceState::apply`]).
    pub(crate) fn on_input(&mut self, input: &Input, settings: &Settings) -> Occurrences {
        let mut out = Occurrences::default();
        let id = input.event_id.as_deref().map(Id::new);
        if id
            .as_ref()
            .is_some_and(|id| self.recent_events.contains(id))
        {
            out.duplicate = true;
            return out;
        }
        // Nothing of a late event touches the state, not even its id.
        if retention::too_late(input, self.clock, &self.rollouts, &self.tasks) {
            out.duplicate = true;
            out.late = true;
            return out;
        }
        if let Some(id) = id {
            retention::make_room(&mut self.recent_events);
            self.recent_events.push_back(id);
        }
        let changed = match &input.kind {
            InputKind::Deployment(c) => {
                let stall_after = self.stall_after(settings);
                deployments::record(
                    &mut self.rollouts,
                    &mut self.rollbacks,
                    c,
                    input.time,
                    (stall_after, self.config.as_ref()),
                )
            }
            InputKind::ServiceAction(a) => self.on_service_action(a, &mut out),
            InputKind::Task(t) => {
                let threshold = ServiceConfig::threshold(self.config.as_ref());
                let mut parts = task_events::TaskParts {
                    tasks: &mut self.tasks,
                    forgotten_tasks: &self.forgotten_tasks,
                    serving_seen: &mut self.serving_seen,
                    first_serving: &mut self.first_serving,
                    deployments: &mut self.deployments,
                    rollouts: &mut self.rollouts,
                    last_stop: &mut self.last_stop,
                    crashes: &mut self.crashes,
                    threshold,
                    breaker_off: self.config.as_ref().and_then(|c| c.circuit_breaker)
                        == Some(false),
                };
                parts.on_task(t, input.time, &mut out)
            }
            InputKind::Hook(h) => joins::record_hook(
                &mut self.rollouts,
                &mut self.unjoined,
                h,
                self.config.as_ref(),
            ),
            InputKind::ServiceDeployment(v) => {
                let stall_after = self.stall_after(settings);
                joins::record_view(
                    &mut self.rollouts,
                    &mut self.unjoined,
                    v,
                    input.time,
                    (stall_after, self.config.as_ref()),
                )
            }
        };
        if !changed {
            out.duplicate = true;
            return out;
        }
        self.advance(input.time, settings, &mut out);
        out
    }

    /// Lets time pass to `now` (the core of [`ServiceState::tick`]).
    pub(crate) fn on_time(&mut self, now: Timestamp, settings: &Settings) -> Occurrences {
        let mut out = Occurrences::default();
        self.advance(now, settings, &mut out);
        out
    }

    /// Whether a zero window past its grace waits for a DescribeServices look.
    pub fn needs_observation(&self) -> bool {
        self.zero.awaiting()
    }

    /// Feeds what DescribeServices says (the core of [`ServiceState::observe`], whose
    /// docs tell what it reconciles).
    pub(crate) fn on_observation(&mut self, obs: Observation, settings: &Settings) -> Occurrences {
        let mut out = Occurrences::default();
        let cfg = self.config.get_or_insert_with(ServiceConfig::default);
        cfg.desired_count = Some(obs.desired);
        let wanted = obs.desired >= 1;
        let none_runs = obs.running == 0 && wanted;
        let clock = self.clock.unwrap_or_default();
        let desired = Some(obs.desired);
        let settled = self.zero.confirm(none_runs, (clock, desired), &mut out);
        if settled {
            // The awaiting zero was the question this look answered.
        } else if none_runs && self.serving_now_at(obs.at) > 0 {
            self.tasks.end_serving(obs.at);
        } else if none_runs && !self.serving_seen {
            self.serving_seen = true;
            self.first_serving = Some(self.first_serving.map_or(obs.at, |f| f.min(obs.at)));
            self.pruned_last_end = Some(self.pruned_last_end.map_or(obs.at, |e| e.max(obs.at)));
        } else if obs.running >= 1 && self.zero.fired() {
            self.tasks.observed_serving(obs.at);
        }
        // An observation does not move the service's event time: the handler's
        // look-up happens at wall-clock time, and a rollout's deadline must not pass
        // because of when an invocation ran. The sweeper lets time pass with `tick`.
        self.advance(obs.at.min(self.clock.unwrap_or(obs.at)), settings, &mut out);
        // A zero that came due just now was confirmed by this very observation.
        if none_runs {
            let clock = self.clock.unwrap_or_default();
            self.zero.confirm(true, (clock, desired), &mut out);
        }
        out
    }

    fn serving_now_at(&self, at: Timestamp) -> u32 {
        self.tasks.serving_at(self.clock.map_or(at, |c| c.max(at)))
    }

    fn stall_after(&self, settings: &Settings) -> Millis {
        self.config
            .as_ref()
            .and_then(|c| c.stall_after)
            .unwrap_or(settings.stall_after)
    }

    /// The crash-loop rule: the service's tag, else the watcher's setting.
    fn crash_loop(&self, settings: &Settings) -> CrashLoopRule {
        self.config
            .as_ref()
            .and_then(|c| c.crash_loop)
            .unwrap_or(settings.crash_loop)
    }

    fn view(&self) -> View<'_> {
        View {
            service: &self.service,
            clock: self.clock,
            deployments: &self.deployments,
            zero: &self.zero,
            config: self.config.as_ref(),
        }
    }

    /// A service action, once per rollout and reason (or per hour and reason without
    /// a rollout); the keys are remembered in `fired`.
    fn on_service_action(&mut self, a: &ServiceAction, out: &mut Occurrences) -> bool {
        let active =
            deployments::newest_open(&self.rollouts, a.at, None).map(|r| r.deployment.clone());
        let alert = AlertName::for_service_action(a.kind);
        let reason_key = a.reason.as_deref().unwrap_or("");
        let occurrence = match &active {
            Some(_) => reason_key.to_owned(),
            None => format!("{}:{reason_key}", a.at.as_millis().div_euclid(HOUR_MS)),
        };
        let key = dedup_key(&self.service, active.as_ref(), alert.as_str(), &occurrence);
        if self.fired.contains(&key) {
            return false;
        }
        self.fired.push_back(key);
        out.push(Occurrence::ServiceAction {
            alert,
            kind: a.kind,
            deployment: active,
            occurrence,
            reason: a.reason.clone(),
            at: a.at,
        });
        true
    }

    fn advance(&mut self, to: Timestamp, settings: &Settings, out: &mut Occurrences) {
        let clock = self.clock.map_or(to, |c| c.max(to));
        self.clock = Some(clock);
        links::link(&mut self.rollouts, &self.rollbacks);
        joins::adopt_config(&mut self.rollouts, self.config.as_ref());
        joins::join(&mut self.rollouts, &mut self.unjoined);
        // Taken out while derived: the occurrences read the rest of the state, never
        // the other rollouts.
        let mut rollouts = std::mem::take(&mut self.rollouts);
        self.view().derive(&mut rollouts, out);
        self.rollouts = rollouts;
        for facts in self.unjoined.values_mut() {
            hooks::occurrences(facts, None, None, out);
        }
        let service = zero::Service {
            clock,
            tasks: &self.tasks,
            wanted: self.config.as_ref().and_then(|c| c.desired_count) != Some(0),
            desired: self.config.as_ref().and_then(|c| c.desired_count),
            serving_seen: self.serving_seen,
            first_serving: self.first_serving,
            pruned_last_end: self.pruned_last_end,
            last_stop: self.last_stop.as_ref(),
        };
        let rollouts = &self.rollouts;
        let deployment_at =
            |at| deployments::newest_open(rollouts, at, None).map(|r| r.deployment.clone());
        self.zero.track(&service, deployment_at, settings, out);
        let rule = self.crash_loop(settings);
        self.crashes.track(clock, rule, out);
        self.report_serving(clock, out);
        retention::tasks(
            &mut self.tasks,
            clock,
            &mut self.pruned_last_end,
            &mut self.forgotten_tasks,
        );
        // A rollout let go is summed up as it stands then: its summary may have
        // changed since its last transition (a late failure counted, a link made).
        let gone = retention::rollouts(&mut self.rollouts, &mut self.rollbacks, clock);
        for r in &gone {
            out.summary(self.view().summary(r));
        }
        if retention::superseded_tasks(&mut self.tasks, &gone, clock) {
            self.report_serving(clock, out);
        }
        retention::deployments(&mut self.deployments, &self.rollouts, clock);
        retention::memory(&mut self.fired);
    }

    fn report_serving(&mut self, clock: Timestamp, out: &mut Occurrences) {
        let now = self.tasks.serving_at(clock);
        if self.serving_seen && self.reported_serving != Some(now) {
            self.reported_serving = Some(now);
            out.push(Occurrence::Serving {
                count: now,
                at: clock,
            });
        }
    }
}
