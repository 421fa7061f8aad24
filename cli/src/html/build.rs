//! From a replay (its effects, its rollout summaries and the task times collected on
//! the way) to the page's plain input.
//!
//! The summaries are taken as they are: they are the values `--format json` prints, so
//! the duration, downtime and failure counts on the page are the JSON output's. The
//! effects give each rollout its band (transitions), markers (alerts) and lifecycle
//! stages (`stage` effects of ECS-native deployments).

use std::collections::HashMap;

use rollout_watcher::core::{Effect, Effects, RolloutState, RolloutSummary};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};

use super::lanes::{self, Rollout};
use super::page::{AlertMark, Page, RolloutView, ServiceView, StageMark};
use super::tasks::{ServiceTasks, TaskLog};

/// The shortest time axis drawn: a rollout that took a second is still readable.
const MIN_SPAN: Millis = Millis(20_000);

type Key = (ServiceArn, String);

#[derive(Default)]
struct PerRollout {
    band: Vec<(RolloutState, Timestamp)>,
    alerts: Vec<AlertMark>,
    stages: Vec<StageMark>,
}

/// The page for a replay. `now` is the instant deadlines were evaluated at (`--now`),
/// which extends the axis of rollouts still in progress.
pub fn page(
    effects: &Effects,
    rollouts: &[RolloutSummary],
    log: &TaskLog,
    now: Option<Timestamp>,
) -> Page {
    let mut per: HashMap<Key, PerRollout> = HashMap::new();
    let mut loose: HashMap<ServiceArn, Vec<AlertMark>> = HashMap::new();
    for e in &effects.items {
        match e {
            Effect::Transition(t) => per
                .entry((t.service.clone(), t.deployment_id.as_str().to_owned()))
                .or_default()
                .band
                .push((t.to, t.at)),
            Effect::Alert(a) => {
                let mark = AlertMark {
                    name: a.alert.as_str().to_owned(),
                    severity: a.severity,
                    status: a.status,
                    at: a.at,
                    summary: a.summary.clone(),
                };
                match &a.deployment_id {
                    Some(d) => per
                        .entry((a.service.clone(), d.as_str().to_owned()))
                        .or_default()
                        .alerts
                        .push(mark),
                    None => loose.entry(a.service.clone()).or_default().push(mark),
                }
            }
            Effect::Stage(st) => {
                if let Some(d) = &st.deployment_id {
                    per.entry((st.service.clone(), d.as_str().to_owned()))
                        .or_default()
                        .stages
                        .push(StageMark {
                            name: st.stage.clone(),
                            at: st.at,
                        });
                }
            }
            // Metrics are not drawn: the serving count comes from the task lanes.
            Effect::Metric(_) => {}
        }
    }
    let mut order: Vec<ServiceArn> = Vec::new();
    let mut by_service: HashMap<ServiceArn, Vec<&RolloutSummary>> = HashMap::new();
    for r in rollouts {
        let list = by_service.entry(r.service.clone()).or_default();
        if list.is_empty() {
            order.push(r.service.clone());
        }
        list.push(r);
    }
    for arn in loose.keys() {
        if !by_service.contains_key(arn) {
            order.push(arn.clone());
        }
    }
    let empty = ServiceTasks::default();
    let services = order
        .into_iter()
        .map(|arn| {
            let summaries = by_service.remove(&arn).unwrap_or_default();
            let tasks = log.service(&arn).unwrap_or(&empty);
            let starts: HashMap<String, Timestamp> = summaries
                .iter()
                .map(|r| (r.deployment_id.as_str().to_owned(), start_of(r)))
                .collect();
            let views = summaries
                .iter()
                .map(|r| {
                    let extra = per
                        .remove(&(arn.clone(), r.deployment_id.as_str().to_owned()))
                        .unwrap_or_default();
                    let rolled_back_by = summaries
                        .iter()
                        .find(|o| o.rollback_of.as_ref() == Some(&r.deployment_id))
                        .map(|o| o.deployment_id.as_str());
                    rollout_view(r, extra, tasks, &starts, rolled_back_by, now)
                })
                .collect();
            ServiceView {
                heading: format!("{} ({})", arn.name(), arn.cluster()),
                name: arn.name().to_owned(),
                cluster: arn.cluster().to_owned(),
                note: None,
                rollouts: views,
                loose_alerts: loose.remove(&arn).unwrap_or_default(),
            }
        })
        .collect();
    Page {
        title: "rollout-watcher: rollouts".to_owned(),
        subtitle: None,
        services,
    }
}

fn start_of(r: &RolloutSummary) -> Timestamp {
    r.started_at
        .or(r.first_running_at)
        .or(r.finished_at)
        .unwrap_or_default()
}

fn rollout_view(
    r: &RolloutSummary,
    extra: PerRollout,
    tasks: &ServiceTasks,
    starts: &HashMap<String, Timestamp>,
    rolled_back_by: Option<&str>,
    now: Option<Timestamp>,
) -> RolloutView {
    let first_effect = extra
        .band
        .iter()
        .map(|b| b.1)
        .chain(extra.alerts.iter().map(|a| a.at))
        .min();
    let start = r.started_at.or(first_effect).unwrap_or_else(|| start_of(r));
    let last_effect = extra
        .band
        .iter()
        .map(|b| b.1)
        .chain(extra.alerts.iter().map(|a| a.at))
        .max();
    let known_end = tasks.last_event.max(now).max(last_effect).unwrap_or(start);
    let end = r.finished_at.unwrap_or(known_end).max(start);
    // The measured interval is [start, end]; the axis adds a margin either side so the
    // first task starting and the last one stopping are visible, not on the frame.
    // The right margin is wider: a terminal state's name is written there.
    let length = end.since(start).0.max(MIN_SPAN.0);
    let pad = Millis((length / 12).max(2_000));
    let axis_end = start
        .plus(Millis(length + length / 7))
        .max(lanes_end(tasks, start, end));
    let span = (Timestamp::from_millis(start.as_millis() - pad.0), axis_end);
    let windows = lanes::zero_windows(tasks, (start, end));
    let (lanes, hidden_lanes) = lanes::choose(
        tasks,
        &Rollout {
            deployment: r.deployment_id.as_str(),
            start,
            rolled_back_by,
            others: starts,
        },
        span,
        &windows,
    );
    RolloutView {
        summary: r.clone(),
        span,
        band: extra.band,
        stages: {
            let mut stages = extra.stages;
            stages.sort_by_key(|s| s.at);
            stages
        },
        alerts: extra.alerts,
        lanes,
        hidden_lanes,
        serving: lanes::serving(tasks, span),
        zero_windows: windows,
    }
}

/// The axis runs a little past the rollout's end when its old tasks were still
/// draining then (ECS reports COMPLETED before the last old task has stopped).
fn lanes_end(tasks: &ServiceTasks, start: Timestamp, end: Timestamp) -> Timestamp {
    let limit = end.plus(Millis(end.since(start).0 / 4));
    tasks
        .all()
        .filter_map(|(_, _, t)| t.stopped_at)
        .filter(|s| *s > end && *s <= limit)
        .max()
        .map_or(end, |s| s.plus(Millis(2_000)))
}
