//! The poll loop: read ECS, feed the state machine, report, decide, sleep.
//!
//! Each round reads DescribeServices, the service's tasks and (once found) the
//! followed service deployment, turns them into inputs (`observe`), applies them to
//! a [`ServiceState`] exactly as the functions do, then lets time pass (`tick`,
//! `observe` of the running count) at the injected clock's "now". The verdict is the
//! state machine's rollout state, plus what only the Service Deployments API knows
//! for now: the lifecycle stage (`--until`) and pause hooks (`--on-pause exit`).
//! Nothing here sleeps or reads a clock except through [`Pacer`]; Ctrl-C is handled
//! by the caller, which simply stops polling.

use std::collections::{BTreeMap, HashSet};

use rollout_watcher::core::{Effects, Observation, RolloutState, RolloutSummary, ServiceState};
use rollout_watcher::model::{DeploymentId, Millis, ServiceArn, Timestamp};

use super::choose;
use super::clock::{Pacer, next_wait};
use super::observe::{self, Progress, Reading};
use super::plan::{Ending, OnPause, Pause, Plan, Until, Verdict, WaitError};
use super::report::Report;
use super::source::{EcsSource, HookView, ServiceView, SourceError};

/// Tasks described per desired status and poll (one DescribeTasks call each).
const TASK_LIMIT: usize = 100;
/// How far before the deployment's creation ListServiceDeployments looks (clocks).
const LIST_SLACK: Millis = Millis::from_secs(300);

/// Follows one deployment until the verdict.
pub async fn follow<S: EcsSource, P: Pacer, R: Report>(
    source: &S,
    pacer: &P,
    plan: &Plan,
    out: &mut R,
) -> Result<Ending, WaitError> {
    let deadline = pacer.now().plus(plan.timeout);
    let mut f = Follower::new(plan);
    let mut throttled = 0_u32;
    let mut seed = u64::try_from(pacer.now().as_millis()).unwrap_or(1) | 1;
    loop {
        match f.round(source, pacer.now(), out).await {
            Ok(Some(verdict)) => return f.end(verdict, out),
            Ok(None) => throttled = 0,
            Err(WaitError::Source(SourceError::Throttled { operation })) => {
                if throttled == 0 {
                    out.note(
                        pacer.now(),
                        &format!("{operation} throttled by ECS: backing off"),
                    )?;
                }
                throttled += 1;
            }
            Err(e) => return Err(e),
        }
        let now = pacer.now();
        if now >= deadline {
            let stalled = f.summary().is_some_and(|s| s.stalled);
            return f.end(Verdict::InProgress { stalled }, out);
        }
        pacer
            .sleep(next_wait(plan.interval, throttled, &mut seed).min(deadline.since(now)))
            .await;
    }
}

/// What one wait keeps between rounds.
struct Follower<'a> {
    plan: &'a Plan,
    state: Option<ServiceState>,
    followed: Option<DeploymentId>,
    since: Option<Timestamp>,
    sd_arn: Option<String>,
    sd_off: bool,
    stage: Option<String>,
    announced: BTreeMap<String, HookView>,
    seen_events: HashSet<String>,
    /// The followed deployment is ECS's rollback, picked as the PRIMARY, and the
    /// deployment it undoes is no longer listed: the verdict is "rolled back".
    rollback_primary: bool,
}

impl<'a> Follower<'a> {
    fn new(plan: &'a Plan) -> Self {
        Self {
            plan,
            state: None,
            followed: None,
            since: None,
            sd_arn: None,
            sd_off: false,
            stage: None,
            announced: BTreeMap::new(),
            seen_events: HashSet::new(),
            rollback_primary: false,
        }
    }

    fn summary(&self) -> Option<RolloutSummary> {
        let (state, id) = (self.state.as_ref()?, self.followed.as_ref()?);
        state
            .rollouts()
            .into_iter()
            .find(|r| &r.deployment_id == id)
    }

    fn end<R: Report>(&self, verdict: Verdict, out: &mut R) -> Result<Ending, WaitError> {
        let ending = Ending {
            verdict,
            summary: self.summary(),
        };
        out.end(&ending)?;
        Ok(ending)
    }

    /// Picks the deployment to follow from the first reading (and a note on why, when
    /// it is not simply the one asked for or the PRIMARY).
    async fn resolve<S: EcsSource>(
        &mut self,
        source: &S,
        view: &ServiceView,
    ) -> Result<(ServiceArn, DeploymentId, Option<String>), WaitError> {
        let arn = view.arn.clone().ok_or_else(|| SourceError::NoService {
            service: self.plan.service.clone(),
            cluster: self.plan.cluster.clone(),
            why: " (DescribeServices gave no ARN)".into(),
        })?;
        let (id, note) = match &self.plan.deployment {
            Some(id) => (id.clone(), None),
            None => {
                let c = choose::default_deployment(view)
                    .ok_or_else(|| WaitError::NoPrimary(self.plan.service.clone()))?;
                self.rollback_primary = c.rollback_only;
                (c.id, c.note)
            }
        };
        if let Some(d) = view.deployments.iter().find(|d| d.id == id) {
            self.since = d.created_at;
        } else {
            // Finished deployments leave DescribeServices; the Service Deployments
            // API keeps them for 90 days.
            let known: Vec<&str> = view.deployments.iter().map(|d| d.id.as_str()).collect();
            let known = if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            };
            let briefs = match source
                .service_deployments(&self.plan.cluster, &self.plan.service, None)
                .await
            {
                Ok(b) => b,
                Err(e @ SourceError::Throttled { .. }) => return Err(e.into()),
                Err(source) => {
                    return Err(WaitError::Unresolved {
                        service: self.plan.service.clone(),
                        id,
                        known,
                        source: Box::new(source),
                    });
                }
            };
            let digits = observe::deployment_digits(&id);
            let brief = briefs.into_iter().find(|b| {
                digits.is_some()
                    && b.target_revision
                        .as_deref()
                        .and_then(observe::revision_digits)
                        == digits
            });
            let Some(brief) = brief else {
                return Err(WaitError::NoDeployment {
                    service: self.plan.service.clone(),
                    id,
                    known,
                });
            };
            self.since = brief.created_at;
            self.sd_arn = Some(brief.arn);
        }
        Ok((arn, id, note))
    }

    /// The followed service deployment, once ListServiceDeployments names it.
    async fn service_deployment<S: EcsSource>(
        &mut self,
        source: &S,
        id: &DeploymentId,
    ) -> Result<Option<super::source::ServiceDeploymentView>, SourceError> {
        if self.sd_arn.is_none() {
            let after = self
                .since
                .map(|s| Timestamp::from_millis(s.as_millis() - LIST_SLACK.0));
            let briefs = source
                .service_deployments(&self.plan.cluster, &self.plan.service, after)
                .await?;
            let digits = observe::deployment_digits(id);
            self.sd_arn = briefs
                .into_iter()
                .find(|b| {
                    digits.is_some()
                        && b.target_revision
                            .as_deref()
                            .and_then(observe::revision_digits)
                            == digits
                })
                .map(|b| b.arn);
        }
        match &self.sd_arn {
            Some(arn) => source.service_deployment(arn).await,
            None => Ok(None),
        }
    }

    /// One poll; `Some` when the wait is over.
    async fn round<S: EcsSource, R: Report>(
        &mut self,
        source: &S,
        now: Timestamp,
        out: &mut R,
    ) -> Result<Option<Verdict>, WaitError> {
        let plan = self.plan;
        let view = source.service(&plan.cluster, &plan.service).await?;
        let (arn, id) = match (&self.state, &self.followed) {
            (Some(s), Some(id)) => (s.service().clone(), id.clone()),
            _ => {
                let (arn, id, note) = self.resolve(source, &view).await?;
                let td = view
                    .deployments
                    .iter()
                    .find(|d| d.id == id)
                    .and_then(|d| d.task_definition.clone());
                out.start(&arn, &id, td.as_deref(), self.since)?;
                if let Some(note) = note {
                    out.note(now, &note)?;
                }
                self.state = Some(ServiceState::new(arn.clone()));
                self.followed = Some(id.clone());
                (arn, id)
            }
        };
        // A throttled task listing costs this round its task events, not its
        // verdict: DescribeServices alone can say the deployment ended.
        let (tasks, tasks_throttled) =
            match source.tasks(&plan.cluster, &plan.service, TASK_LIMIT).await {
                Ok(t) => (t, None),
                Err(SourceError::Throttled { operation }) => (Vec::new(), Some(operation)),
                Err(e) => return Err(e.into()),
            };
        let deployment = if self.sd_off {
            None
        } else {
            match self.service_deployment(source, &id).await {
                Ok(d) => d,
                Err(e @ SourceError::Throttled { .. }) => return Err(e.into()),
                Err(e) => {
                    if let Until::Stage(stage) = &plan.until {
                        return Err(WaitError::NoStages {
                            stage: stage.clone(),
                            source: e,
                        });
                    }
                    out.note(now, &format!("stages and pauses unknown: {}", chain(&e)))?;
                    self.sd_off = true;
                    None
                }
            }
        };
        let reading = Reading {
            service: view,
            tasks,
            deployment,
            at: now,
        };
        self.report_service_events(&reading, out)?;
        let effects = self.apply(&arn, &id, &reading);
        out.effects(&effects)?;
        let progress = observe::progress(reading.deployment.as_ref());
        self.report_progress(&progress, &reading, out)?;
        match (self.decide(&progress), tasks_throttled) {
            (None, Some(operation)) => Err(SourceError::Throttled { operation }.into()),
            (verdict, _) => Ok(verdict),
        }
    }

    /// Feeds one reading through the state machine, then lets time pass to `now`.
    fn apply(&mut self, arn: &ServiceArn, id: &DeploymentId, r: &Reading) -> Effects {
        let settings = &self.plan.settings;
        let mut all = Effects::default();
        let Some(state) = self.state.as_mut() else {
            return all;
        };
        let config = observe::config(&r.service, r.deployment.as_ref(), r.at);
        let known = state.config().map(ServiceConfigKey::of);
        if known != Some(ServiceConfigKey::of(&config)) {
            state.set_config(config);
        }
        for input in observe::inputs(arn, id, self.since, r) {
            all.extend(state.apply(&input, settings));
        }
        all.extend(state.observe(
            Observation {
                desired: r.service.desired,
                running: r.service.running,
                at: r.at,
            },
            settings,
        ));
        all.extend(state.tick(r.at, settings));
        all
    }

    fn report_service_events<R: Report>(
        &mut self,
        r: &Reading,
        out: &mut R,
    ) -> Result<(), WaitError> {
        let mut fresh: Vec<_> = r
            .service
            .events
            .iter()
            .filter(|e| e.at.zip(self.since).is_none_or(|(at, s)| at >= s))
            .filter(|e| !self.seen_events.contains(&e.id))
            .collect();
        fresh.sort_by_key(|e| e.at);
        for e in fresh {
            self.seen_events.insert(e.id.clone());
            out.service_event(e.at.unwrap_or(r.at), &e.message)?;
        }
        Ok(())
    }

    fn report_progress<R: Report>(
        &mut self,
        p: &Progress,
        r: &Reading,
        out: &mut R,
    ) -> Result<(), WaitError> {
        let at = r
            .deployment
            .as_ref()
            .and_then(|d| d.updated_at)
            .unwrap_or(r.at);
        if p.stage.is_some() && p.stage != self.stage {
            self.stage.clone_from(&p.stage);
            if let Some(stage) = &p.stage {
                out.stage(stage, at)?;
            }
        }
        let sd_arn = self.sd_arn.clone().unwrap_or_default();
        for h in &p.awaiting {
            if !self.announced.contains_key(&h.hook_id) {
                self.announced.insert(h.hook_id.clone(), h.clone());
                out.pause(
                    &Pause {
                        hook: h.clone(),
                        stage: p.stage.clone(),
                        service_deployment_arn: sd_arn.clone(),
                    },
                    at,
                )?;
            }
        }
        let ended: Vec<HookView> = self
            .announced
            .values()
            .filter(|a| !p.awaiting.iter().any(|h| h.hook_id == a.hook_id))
            .map(|a| {
                p.hooks
                    .iter()
                    .find(|h| h.hook_id == a.hook_id)
                    .cloned()
                    .unwrap_or_else(|| HookView {
                        status: "ended".into(),
                        ..a.clone()
                    })
            })
            .collect();
        for h in ended {
            self.announced.remove(&h.hook_id);
            out.pause_ended(&h, at)?;
        }
        Ok(())
    }

    fn decide(&self, p: &Progress) -> Option<Verdict> {
        if self.rollback_primary {
            return Some(Verdict::RolledBack);
        }
        match self.summary().map(|s| s.state) {
            Some(RolloutState::Completed) => return Some(Verdict::Completed),
            Some(RolloutState::Failed) => return Some(Verdict::Failed),
            Some(RolloutState::RolledBack) => return Some(Verdict::RolledBack),
            Some(RolloutState::Superseded) => return Some(Verdict::Superseded),
            _ => {}
        }
        if let (Until::Stage(target), Some(stage)) = (&self.plan.until, &p.stage)
            && observe::stage_reached(stage, target)
        {
            return Some(Verdict::StageReached(stage.clone()));
        }
        if self.plan.on_pause == OnPause::Exit
            && let Some(h) = p.awaiting.first()
        {
            return Some(Verdict::Paused(Box::new(Pause {
                hook: h.clone(),
                stage: p.stage.clone(),
                service_deployment_arn: self.sd_arn.clone().unwrap_or_default(),
            })));
        }
        None
    }
}

/// The parts of a configuration that change what the state machine says (the read
/// time does not): set again only when one of them changes.
#[derive(PartialEq)]
struct ServiceConfigKey(
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Option<bool>,
    Option<bool>,
    Option<u32>,
);

impl ServiceConfigKey {
    fn of(c: &rollout_watcher::core::ServiceConfig) -> Self {
        Self(
            c.desired_count,
            c.min_healthy_percent,
            c.max_percent,
            c.circuit_breaker,
            c.rollback,
            c.failure_threshold,
        )
    }
}

/// The error and its sources: `a: b: c`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
