//! The state machine of one service: its tasks, its rollouts, its zero windows.
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
//! Every call returns [`Effects`] that must be recorded (the outbox) before they are
//! delivered. Nothing here reads a clock or does I/O: time is the service's event
//! time (the latest envelope `time` seen) or the "now" passed in.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::{
    DeploymentChange, DeploymentId, DeploymentPhase, Input, InputKind, Millis, ServiceArn,
    Timestamp, task_definition_name,
};

use super::config::{Observation, ServiceConfig, Settings};
use super::effects::Effects;
use super::rollout::{Rollout, RolloutState, RolloutSummary};
use super::stop::StopInfo;
use super::tasks::Tasks;
use super::zero::ZeroTracker;

/// What the tasks of one deployment did (kept apart from the rollout because task
/// events often arrive before the deployment's own IN_PROGRESS event).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeploymentTasks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_running_at: Option<Timestamp>,
    #[serde(default)]
    pub(crate) health_check_failures: u32,
    #[serde(default)]
    pub(crate) start_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_failure: Option<StopInfo>,
    pub(crate) last_seen: Timestamp,
}

/// "Rolling back to deploymentId X" seen in the IN_PROGRESS event of `by`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RollbackFact {
    pub(crate) by: DeploymentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<DeploymentId>,
    pub(crate) at: Timestamp,
}

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
    pub(crate) rollouts: BTreeMap<DeploymentId, Rollout>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) rollbacks: Vec<RollbackFact>,
    #[serde(default)]
    pub(crate) deployments: BTreeMap<DeploymentId, DeploymentTasks>,
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
    #[serde(default)]
    pub(crate) recent_events: VecDeque<String>,
    #[serde(default)]
    pub(crate) fired: VecDeque<String>,
    /// Ids of stopped tasks pruned from `tasks`: EventBridge may deliver their events
    /// again hours later (it retries for 24 h), and a stopped task never comes back,
    /// so any event for one of these is stale. Bounded like the other dedup memories.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub(crate) forgotten_tasks: VecDeque<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<ServiceConfig>,
}

/// How many event ids and one-off alert keys are remembered for dedup.
const RECENT: usize = 64;
/// Finished rollouts kept for rollback linking and late events.
const KEEP_FINISHED: usize = 8;
/// Stopped tasks kept for the zero-window arithmetic.
const KEEP_STOPPED: usize = 64;
/// Pruned task ids remembered as stale (about 10 KB at most).
const FORGOTTEN: usize = 256;
/// Stopped tasks older than this (event time) are forgotten.
const TASK_HORIZON: Millis = Millis::from_secs(3600);

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
        }
    }

    /// The service.
    pub fn service(&self) -> &ServiceArn {
        &self.service
    }

    /// The service's event time: the latest event time (or "now") seen.
    pub fn clock(&self) -> Option<Timestamp> {
        self.clock
    }

    /// The configuration last read from ECS, if any.
    pub fn config(&self) -> Option<&ServiceConfig> {
        self.config.as_ref()
    }

    /// Records the configuration read from ECS (desired count, breaker, tags).
    pub fn set_config(&mut self, config: ServiceConfig) {
        self.config = Some(config);
    }

    /// Number of tasks remembered (for size checks).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Applies one event. See the module docs for the contract.
    pub fn apply(&mut self, input: &Input, settings: &Settings) -> Effects {
        let mut out = Effects::default();
        if let Some(id) = &input.event_id {
            if self.remembers_event(id) {
                out.duplicate = true;
                return out;
            }
            self.recent_events.push_back(id.clone());
            if self.recent_events.len() > RECENT {
                self.recent_events.pop_front();
            }
        }
        let changed = match &input.kind {
            InputKind::Deployment(c) => self.on_deployment(c, input.time, settings),
            InputKind::ServiceAction(a) => self.on_service_action(a, &mut out),
            InputKind::Task(t) => self.on_task(t, input.time, &mut out),
        };
        if !changed {
            out.duplicate = true;
            return out;
        }
        self.advance(input.time, settings, &mut out);
        out
    }

    /// Whether event `id` was applied lately. EventBridge ids are UUIDs, which nearly
    /// always differ in their last character: checking it first spares most of the 64
    /// string comparisons every event would otherwise make.
    fn remembers_event(&self, id: &str) -> bool {
        let last = id.as_bytes().last();
        self.recent_events
            .iter()
            .any(|seen| seen.as_bytes().last() == last && seen == id)
    }

    /// Lets time pass to `now` without an event: deadlines and grace periods fire.
    pub fn tick(&mut self, now: Timestamp, settings: &Settings) -> Effects {
        let mut out = Effects::default();
        self.advance(now, settings, &mut out);
        out
    }

    /// Whether a zero window past its grace waits for a DescribeServices look.
    pub fn needs_observation(&self) -> bool {
        self.zero.open.as_ref().is_some_and(|w| w.awaiting)
    }

    /// Feeds what DescribeServices says (the handler's confirmation, the sweeper's
    /// reconciliation), and reconciles the task picture with it:
    ///
    /// - a zero awaiting confirmation fires if ECS confirms no task runs while one is
    ///   wanted, and is stood down otherwise (its events are merely late);
    /// - ECS running none while one is wanted, though the events left tasks serving
    ///   (their STOPPED events never came, or the service was never seen): those tasks
    ///   end now, and the zero window runs from here, paging after the grace;
    /// - ECS running tasks while a zero window is open (a RUNNING event was lost): the
    ///   window closes now, with the downtime measured so far.
    pub fn observe(&mut self, obs: Observation, settings: &Settings) -> Effects {
        let mut out = Effects::default();
        let cfg = self.config.get_or_insert_with(ServiceConfig::default);
        cfg.desired_count = Some(obs.desired);
        let wanted = obs.desired >= 1;
        if let Some(w) = self.zero.open.as_mut().filter(|w| w.awaiting) {
            w.awaiting = false;
            if obs.running == 0 && wanted {
                self.fire_zero(&mut out);
            } else {
                w.suppressed = true;
            }
        } else if obs.running == 0 && wanted && self.serving_now_at(obs.at) > 0 {
            self.tasks.end_serving(obs.at);
        } else if obs.running == 0 && wanted && !self.serving_seen {
            self.serving_seen = true;
            self.first_serving = Some(self.first_serving.map_or(obs.at, |f| f.min(obs.at)));
            self.pruned_last_end = Some(self.pruned_last_end.map_or(obs.at, |e| e.max(obs.at)));
        } else if obs.running >= 1
            && self
                .zero
                .open
                .as_ref()
                .is_some_and(|w| w.fired_key.is_some())
        {
            self.tasks.observed_serving(obs.at);
        }
        // An observation does not move the service's event time: the handler's
        // look-up happens at wall-clock time, and a rollout's deadline must not pass
        // because of when an invocation ran. The sweeper lets time pass with `tick`.
        self.advance(obs.at.min(self.clock.unwrap_or(obs.at)), settings, &mut out);
        // A zero that came due just now was confirmed by this very observation.
        if obs.running == 0
            && wanted
            && let Some(w) = self.zero.open.as_mut().filter(|w| w.awaiting)
        {
            w.awaiting = false;
            self.fire_zero(&mut out);
        }
        out
    }

    fn serving_now_at(&self, at: Timestamp) -> u32 {
        self.tasks.serving_at(self.clock.map_or(at, |c| c.max(at)))
    }

    /// The next instant at which something fires without a new event (a rollout's
    /// deadline, a zero's grace): the sweeper's cue, like quinn's `poll_timeout`.
    pub fn next_deadline(&self, settings: &Settings) -> Option<Timestamp> {
        let rollouts = self
            .rollouts
            .values()
            .filter(|r| r.state.is_none_or(|s| !s.is_terminal()) && r.stalled_at.is_none())
            .map(Rollout::deadline);
        let zero = self
            .zero
            .open
            .as_ref()
            .filter(|w| w.fired_key.is_none() && !w.suppressed && !w.awaiting)
            .map(|w| w.start.plus(settings.zero_grace));
        rollouts.chain(zero).min()
    }

    /// Whether anything is open: a rollout in progress or a zero window.
    pub fn has_open_work(&self) -> bool {
        self.zero.open.is_some()
            || self
                .rollouts
                .values()
                .any(|r| r.state.is_none_or(|s| !s.is_terminal()))
    }

    /// Summaries of every rollout still held, oldest first.
    pub fn rollouts(&self) -> Vec<RolloutSummary> {
        let mut v: Vec<&Rollout> = self.rollouts.values().collect();
        v.sort_by_key(|r| (r.start(), r.deployment.clone()));
        v.into_iter().map(|r| self.summary(r)).collect()
    }

    /// The deployments in progress (not terminal), newest first.
    pub fn open_rollouts(&self) -> Vec<DeploymentId> {
        let mut v: Vec<&Rollout> = self
            .rollouts
            .values()
            .filter(|r| r.state.is_none_or(|s| !s.is_terminal()))
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse((r.start(), r.deployment.clone())));
        v.into_iter().map(|r| r.deployment.clone()).collect()
    }

    /// Tasks serving at the service's current event time.
    pub fn serving_now(&self) -> u32 {
        self.clock.map_or(0, |c| self.tasks.serving_at(c))
    }

    fn stall_after(&self, settings: &Settings) -> Millis {
        self.config
            .as_ref()
            .and_then(|c| c.stall_after)
            .unwrap_or(settings.stall_after)
    }

    fn on_deployment(
        &mut self,
        c: &DeploymentChange,
        time: Timestamp,
        settings: &Settings,
    ) -> bool {
        let stall_after = self.stall_after(settings);
        let existed = self.rollouts.contains_key(&c.deployment);
        let r = self
            .rollouts
            .entry(c.deployment.clone())
            .or_insert_with(|| Rollout::new(c.deployment.clone(), time, stall_after));
        let before = r.clone();
        match c.phase {
            DeploymentPhase::InProgress => {
                let normal_known = existed && r.started_at.is_some() && !r.is_rollback;
                if let Some(to) = &c.rollback_to
                    && !normal_known
                {
                    r.is_rollback = true;
                    r.rollback_to.clone_from(to);
                }
                r.started_at = Some(r.started_at.map_or(c.at, |s| s.min(c.at)));
            }
            DeploymentPhase::Completed => {
                r.completed_at = Some(r.completed_at.map_or(c.at, |s| s.min(c.at)))
            }
            DeploymentPhase::Failed => {
                r.failed_at = Some(r.failed_at.map_or(c.at, |s| s.min(c.at)));
                if r.failed_reason.is_none() {
                    r.failed_reason.clone_from(&c.reason);
                }
            }
        }
        let mut changed = *r != before || !existed;
        if let Some(to) = &c.rollback_to {
            let fact = RollbackFact {
                by: c.deployment.clone(),
                to: to.clone(),
                at: c.at,
            };
            if !self.rollbacks.contains(&fact) {
                self.rollbacks.push(fact);
                changed = true;
            }
        }
        changed
    }

    pub(crate) fn threshold(&self) -> u32 {
        let cfg = self.config.as_ref();
        cfg.and_then(|c| c.failure_threshold).unwrap_or_else(|| {
            crate::policy::breaker_threshold(cfg.and_then(|c| c.desired_count).unwrap_or(1))
        })
    }

    /// The newest rollout that had started by `at` and is not `except`.
    pub(crate) fn rollout_at(
        &self,
        at: Timestamp,
        except: Option<&DeploymentId>,
    ) -> Option<&Rollout> {
        self.rollouts
            .values()
            .filter(|r| Some(&r.deployment) != except && r.start() <= at)
            .filter(|r| !r.derive(None).is_terminal())
            .max_by_key(|r| (r.start(), r.deployment.clone()))
    }

    fn advance(&mut self, to: Timestamp, settings: &Settings, out: &mut Effects) {
        self.clock = Some(self.clock.map_or(to, |c| c.max(to)));
        super::links::link(&mut self.rollouts, &self.rollbacks);
        self.derive_rollouts(out);
        self.track_zero(settings, out);
        self.report_serving(out);
        self.prune();
    }

    fn derive_rollouts(&mut self, out: &mut Effects) {
        let clock = self.clock.unwrap_or_default();
        // Taken out while derived: the effects read the rest of the state (the
        // service, its deployments' stats, the zero windows, the configuration), never
        // the other rollouts.
        let mut rollouts = std::mem::take(&mut self.rollouts);
        let mut order: Vec<&mut Rollout> = rollouts.values_mut().collect();
        order.sort_unstable_by(|a, b| (a.start(), &a.deployment).cmp(&(b.start(), &b.deployment)));
        let none = DeploymentTasks::default();
        for r in order {
            let stats = self.deployments.get(&r.deployment).unwrap_or(&none);
            let base = r.derive(stats.first_running_at);
            if !base.is_terminal() && r.stalled_at.is_none() && clock >= r.deadline() {
                r.stalled_at = Some(r.deadline());
            }
            let state = r.derive(stats.first_running_at);
            let previous = r.state;
            let mut ctx = super::emit::RolloutCtx {
                state: self,
                rollout: r,
                stats,
                out,
            };
            if previous != Some(state) {
                ctx.transition(previous, state);
            }
            ctx.effects_for(state);
        }
        self.rollouts = rollouts;
    }

    fn report_serving(&mut self, out: &mut Effects) {
        let Some(clock) = self.clock else { return };
        let now = self.tasks.serving_at(clock);
        if self.serving_seen && self.reported_serving != Some(now) {
            self.reported_serving = Some(now);
            out.items.push(crate::policy::metric(
                &self.service,
                super::MetricName::RunningTaskCount,
                f64::from(now),
                clock,
                None,
                &format!("{}:{now}", clock.as_millis()),
            ));
        }
    }

    pub(crate) fn summary(&self, r: &Rollout) -> RolloutSummary {
        let stats = self.deployments.get(&r.deployment);
        let finished = r.finished_at();
        let end = finished.or(self.clock).unwrap_or(r.start());
        let downtime = self.zero.downtime_within(r.start(), end);
        RolloutSummary {
            service: self.service.clone(),
            deployment_id: r.deployment.clone(),
            state: r.state.unwrap_or(RolloutState::Started),
            started_at: r.started_at,
            finished_at: finished,
            duration_s: match (r.started_at, finished) {
                (Some(s), Some(f)) => Some(f.since(s).as_secs_f64()),
                _ => None,
            },
            downtime_s: downtime.as_secs_f64(),
            task_definition: stats
                .and_then(|s| s.task_definition.as_deref())
                .map(|t| task_definition_name(t).to_owned()),
            rollback_of: r.rollback_of.clone(),
            health_check_failures: stats.map_or(0, |s| s.health_check_failures),
            start_failures: stats.map_or(0, |s| s.start_failures),
            stalled: r.stalled_at.is_some(),
            first_running_at: stats.and_then(|s| s.first_running_at),
        }
    }

    /// Keeps the state bounded: finished rollouts beyond the newest few, stopped
    /// tasks past the horizon, stats of deployments nothing refers to.
    fn prune(&mut self) {
        let clock = self.clock.unwrap_or_default();
        let horizon = Timestamp::from_millis(clock.as_millis().saturating_sub(TASK_HORIZON.0));
        let mut forgotten = Vec::new();
        if let Some(end) = self.tasks.prune(horizon, KEEP_STOPPED, &mut forgotten) {
            self.pruned_last_end = self.pruned_last_end.max(Some(end));
        }
        self.forgotten_tasks.extend(forgotten);
        while self.forgotten_tasks.len() > FORGOTTEN {
            self.forgotten_tasks.pop_front();
        }
        let mut finished: Vec<(Timestamp, DeploymentId)> = self
            .rollouts
            .values()
            .filter(|r| r.state.is_some_and(RolloutState::is_terminal))
            .map(|r| (r.start(), r.deployment.clone()))
            .collect();
        finished.sort();
        let excess = finished.len().saturating_sub(KEEP_FINISHED);
        for (_, id) in finished.into_iter().take(excess) {
            self.rollouts.remove(&id);
        }
        let rollouts = &self.rollouts;
        self.rollbacks.retain(|f| rollouts.contains_key(&f.by));
        if self.deployments.len() > KEEP_FINISHED * 2 {
            let mut by_age: Vec<(Timestamp, DeploymentId)> = self
                .deployments
                .iter()
                .filter(|(d, _)| !rollouts.contains_key(*d))
                .map(|(d, s)| (s.last_seen, d.clone()))
                .collect();
            by_age.sort();
            let excess = self.deployments.len().saturating_sub(KEEP_FINISHED * 2);
            for (_, d) in by_age.into_iter().take(excess) {
                self.deployments.remove(&d);
            }
        }
        while self.fired.len() > RECENT {
            self.fired.pop_front();
        }
    }
}
