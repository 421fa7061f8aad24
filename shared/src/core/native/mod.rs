//! The facts of an ECS-native deployment (blue/green, linear, canary, or rolling with
//! lifecycle hooks): the lifecycle stages seen, each hook's run, and whether ECS began
//! rolling it back. Kept per service deployment (its ARN is the only name hook events
//! and the Service Deployments API give it) and moved onto a rollout once joined.
//!
//! Like a rollout's own facts they only accumulate (earliest time wins), so a
//! duplicated or reordered hook event or reading changes nothing it already told.

mod traffic;

use serde::{Deserialize, Serialize};

use crate::model::{
    HookChange, HookPhase, Millis, ServiceConfig, ServiceDeploymentView, Timestamp,
};

/// How a hook's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HookEnd {
    /// HOOK_SUCCEEDED (a pause: continued).
    Succeeded,
    /// HOOK_FAILED (a pause: ROLLBACK chosen).
    Failed,
    /// HOOK_TIMED_OUT: ECS took the timeout action.
    TimedOut,
}

/// A lifecycle stage, first known at `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StageFact {
    pub(crate) name: String,
    pub(crate) at: Timestamp,
    /// Its `stage` effect was produced.
    #[serde(default)]
    pub(crate) reported: bool,
}

/// One run of one lifecycle hook (a `hookId`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HookFact {
    pub(crate) id: String,
    pub(crate) hook_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<Timestamp>,
    /// CONTINUE or ROLLBACK, when known (the API, or the service's hook settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_action: Option<String>,
    /// HOOK_IN_PROGRESS or HOOK_AWAITING_ACTION: the run began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) began_at: Option<Timestamp>,
    /// HOOK_AWAITING_ACTION: a pause waits for someone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) awaiting_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ended: Option<(HookEnd, Timestamp)>,
    /// Effects produced for it (see the `HookFact::*` flags).
    #[serde(default)]
    pub(crate) done: u8,
}

impl HookFact {
    pub(crate) const PAUSED: u8 = 1;
    pub(crate) const PAUSE_ENDED: u8 = 1 << 1;
    pub(crate) const FAILED: u8 = 1 << 2;

    /// Marks `flag`; true the first time.
    pub(crate) fn first(&mut self, flag: u8) -> bool {
        let first = self.done & flag == 0;
        self.done |= flag;
        first
    }

    pub(crate) fn is_pause(&self) -> bool {
        self.hook_type == "PAUSE"
    }

    /// What ECS does when it times out: ROLLBACK unless told CONTINUE.
    pub(crate) fn timeout_action(&self) -> &str {
        self.timeout_action.as_deref().unwrap_or("ROLLBACK")
    }

    /// Its end makes ECS roll the deployment back.
    pub(crate) fn rolls_back(&self) -> Option<Timestamp> {
        match self.ended? {
            (HookEnd::Failed, at) => Some(at),
            (HookEnd::TimedOut, at) if self.timeout_action() == "ROLLBACK" => Some(at),
            _ => None,
        }
    }

    /// A pause waiting for action now.
    pub(crate) fn open_pause(&self) -> Option<Timestamp> {
        self.awaiting_at.filter(|_| self.ended.is_none())
    }
}

/// The facts of one service deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NativeFacts {
    /// `...:service-deployment/CLUSTER/SERVICE/<id>`.
    pub(crate) arn: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) stages: Vec<StageFact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) hooks: Vec<HookFact>,
    /// The Service Deployments API said ECS is rolling it back (ROLLBACK_*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_rollback_at: Option<Timestamp>,
    /// Why, as the API says (`rollback.reason`, alarms, circuit breaker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rollback_reason: Option<String>,
    /// Joined to its rollout only because that rollout was the one open at their
    /// time (hook events name no `ecs-svc/` id): a newer rollout whose start comes
    /// late may be theirs instead. Never set for facts the API's reading joined.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) by_time: bool,
}

fn earliest(slot: &mut Option<Timestamp>, at: Timestamp) {
    *slot = Some(slot.map_or(at, |t| t.min(at)));
}

impl NativeFacts {
    pub(crate) fn new(arn: &str) -> Self {
        Self {
            arn: arn.to_owned(),
            ..Self::default()
        }
    }

    /// The earliest instant anything about it was seen.
    pub(crate) fn first_at(&self) -> Option<Timestamp> {
        let stages = self.stages.iter().map(|s| s.at);
        let hooks = self
            .hooks
            .iter()
            .filter_map(|h| h.began_at.or(h.ended.map(|e| e.1)));
        stages.chain(hooks).min()
    }

    fn stage(&mut self, name: &str, at: Timestamp) {
        match self.stages.iter_mut().find(|s| s.name == name) {
            Some(s) => s.at = s.at.min(at),
            None => self.stages.push(StageFact {
                name: name.to_owned(),
                at,
                reported: false,
            }),
        }
        self.stages
            .sort_by(|a, b| (a.at, &a.name).cmp(&(b.at, &b.name)));
    }

    fn hook(&mut self, id: &str, hook_type: &str) -> &mut HookFact {
        let at = match self.hooks.iter().position(|h| h.id == id) {
            Some(i) => i,
            None => {
                self.hooks.push(HookFact {
                    id: id.to_owned(),
                    hook_type: hook_type.to_owned(),
                    stage: None,
                    expires_at: None,
                    timeout_action: None,
                    began_at: None,
                    awaiting_at: None,
                    ended: None,
                    done: 0,
                });
                self.hooks.len() - 1
            }
        };
        &mut self.hooks[at]
    }

    /// Records a hook event (`config`: the service's hook settings, which tell the
    /// timeout action the event does not); true when it told something new.
    pub(crate) fn record_hook(&mut self, h: &HookChange, config: Option<&ServiceConfig>) -> bool {
        let before = self.clone();
        if let Some(stage) = &h.stage {
            self.stage(stage, h.at);
        }
        let action = h.timeout_action.clone().or_else(|| {
            let hooks = config.map(|c| c.lifecycle_hooks.as_slice()).unwrap_or(&[]);
            hooks
                .iter()
                .find(|c| {
                    c.is_pause() == h.is_pause()
                        && h.stage.as_ref().is_none_or(|s| c.stages.contains(s))
                })
                .map(|c| c.timeout_action().to_owned())
        });
        let fact = self.hook(&h.hook_id, &h.hook_type);
        if fact.stage.is_none() {
            fact.stage.clone_from(&h.stage);
        }
        if fact.expires_at.is_none() {
            fact.expires_at = h.expires_at;
        }
        if fact.timeout_action.is_none() {
            fact.timeout_action = action;
        }
        let end = match h.phase {
            HookPhase::InProgress => None,
            HookPhase::AwaitingAction => {
                earliest(&mut fact.awaiting_at, h.at);
                None
            }
            HookPhase::Succeeded => Some(HookEnd::Succeeded),
            HookPhase::Failed => Some(HookEnd::Failed),
            HookPhase::TimedOut => Some(HookEnd::TimedOut),
        };
        match end {
            None => earliest(&mut fact.began_at, h.at),
            Some(e) if fact.ended.is_none_or(|(_, t)| h.at < t) => fact.ended = Some((e, h.at)),
            Some(_) => {}
        }
        *self != before
    }

    /// Records one reading of the Service Deployments API taken at `read_at`.
    pub(crate) fn record_view(&mut self, v: &ServiceDeploymentView, read_at: Timestamp) -> bool {
        let before = self.clone();
        let at = v.updated_at.unwrap_or(read_at).min(read_at);
        if let Some(stage) = &v.stage {
            self.stage(stage, at);
        }
        for h in &v.hooks {
            let change = HookChange {
                hook_id: h.hook_id.clone(),
                hook_type: h.target_type.clone().unwrap_or_else(|| "AWS_LAMBDA".into()),
                phase: match HookPhase::parse(&h.status) {
                    Some(p) => p,
                    None => continue,
                },
                stage: v.stage.clone(),
                expires_at: h.expires_at,
                service_deployment: self.arn.clone(),
                at,
                timeout_action: h.timeout_action.clone(),
            };
            let fact = self.hooks.iter().find(|f| f.id == h.hook_id);
            // A reading names the stage the deployment is in now, which is the hook's
            // only while the hook runs.
            let change = HookChange {
                stage: fact.map_or(change.stage.clone(), |f| f.stage.clone()),
                ..change
            };
            self.record_hook(&change, None);
        }
        if v.status.starts_with("ROLLBACK_") {
            earliest(
                &mut self.api_rollback_at,
                v.rollback_started_at.unwrap_or(at),
            );
            if self.rollback_reason.is_none() {
                self.rollback_reason = v
                    .rollback_reason
                    .clone()
                    .or_else(|| v.status_reason.clone())
                    .or_else(|| {
                        (!v.triggered_alarms.is_empty())
                            .then(|| format!("alarm(s) {}", v.triggered_alarms.join(", ")))
                    });
            }
        }
        *self != before
    }

    /// Merges the facts of the same service deployment learnt apart.
    pub(crate) fn merge(&mut self, other: Self) {
        for s in other.stages {
            let reported = s.reported;
            self.stage(&s.name, s.at);
            if let Some(mine) = self.stages.iter_mut().find(|m| m.name == s.name) {
                mine.reported |= reported;
            }
        }
        for h in other.hooks {
            match self.hooks.iter_mut().find(|m| m.id == h.id) {
                Some(m) => {
                    m.done |= h.done;
                    for t in [h.began_at].into_iter().flatten() {
                        earliest(&mut m.began_at, t);
                    }
                    for t in [h.awaiting_at].into_iter().flatten() {
                        earliest(&mut m.awaiting_at, t);
                    }
                    if h.ended
                        .is_some_and(|(_, t)| m.ended.is_none_or(|(_, mt)| t < mt))
                    {
                        m.ended = h.ended;
                    }
                }
                None => self.hooks.push(h),
            }
        }
        if let Some(t) = other.api_rollback_at {
            earliest(&mut self.api_rollback_at, t);
        }
        if self.rollback_reason.is_none() {
            self.rollback_reason = other.rollback_reason;
        }
    }

    /// When ECS began rolling it back, and the hook whose end made it, if one did.
    pub(crate) fn rollback(&self) -> Option<(Timestamp, Option<&HookFact>)> {
        let hook = self
            .hooks
            .iter()
            .filter_map(|h| h.rolls_back().map(|t| (t, Some(h))))
            .min_by_key(|(t, _)| *t);
        let api = self.api_rollback_at.map(|t| (t, None));
        match (hook, api) {
            (Some(h), Some(a)) if a.0 < h.0 => Some(a),
            (Some(h), _) => Some(h),
            (None, a) => a,
        }
    }

    /// The pause waiting now (the latest, should two overlap).
    pub(crate) fn open_pause(&self) -> Option<&HookFact> {
        self.hooks
            .iter()
            .filter(|h| h.is_pause() && h.open_pause().is_some())
            .max_by_key(|h| h.awaiting_at)
    }

    /// When the latest pause that ended, ended.
    pub(crate) fn last_pause_end(&self) -> Option<Timestamp> {
        let ends = self
            .hooks
            .iter()
            .filter(|h| h.is_pause() && h.awaiting_at.is_some());
        ends.filter_map(|h| h.ended.map(|e| e.1)).max()
    }

    /// Time spent paused, for the deadline: each pause from its start to its end, an
    /// open one up to its expiry (ECS takes its timeout action then, whether or not
    /// the event saying so arrives); `None` while one is open with no known expiry.
    pub(crate) fn paused(&self) -> Option<Millis> {
        let mut total = 0_i64;
        for h in self.hooks.iter().filter(|h| h.is_pause()) {
            let Some(start) = h.awaiting_at else {
                continue;
            };
            let end = match h.ended {
                Some((_, at)) => at,
                None => h.expires_at?,
            };
            total = total.saturating_add(end.max(start).since(start).0);
        }
        Some(Millis(total))
    }
}
