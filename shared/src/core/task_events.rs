//! Task and service-action events: failures per deployment, draining, one-off alerts,
//! and the zero-task windows.

use crate::model::{
    ServiceAction, ServiceActionKind, TaskObservation, TaskStatus, Timestamp, task_definition_name,
};
use crate::policy::{self, AlertBuilder, short_task, task_console_url};

use super::config::Settings;
use super::effects::{AlertName, Effects, MetricName};
use super::service::ServiceState;
use super::stop::{StopClass, StopInfo};
use super::zero::ZeroWindow;

/// Service-action alerts without a rollout are keyed per hour, so a condition ECS
/// keeps reporting pages once an hour rather than once per event.
const HOUR_MS: i64 = 3_600_000;

impl ServiceState {
    pub(crate) fn on_task(
        &mut self,
        t: &TaskObservation,
        time: Timestamp,
        out: &mut Effects,
    ) -> bool {
        if self.forgotten_tasks.contains(&t.task_id) {
            return false;
        }
        let change = self.tasks.observe(t, time);
        // Any RUNNING report, even one overtaken by a newer version, proves the service
        // was serving (a lone STOPPED event does not: see `serving_seen`).
        let newly_serving = t.last_status == TaskStatus::Running && !self.serving_seen;
        self.serving_seen |= newly_serving;
        if change.stale {
            return newly_serving;
        }
        let dep = t
            .deployment
            .clone()
            .or_else(|| self.tasks.deployment_of(&t.task_id).cloned());
        if let Some(d) = &dep {
            let stats = self.deployments.entry(d.clone()).or_default();
            stats.last_seen = stats.last_seen.max(time);
            if stats.task_definition.is_none() {
                stats.task_definition.clone_from(&t.task_definition);
            }
            if let Some(s) = change.started {
                stats.first_running_at = Some(stats.first_running_at.map_or(s, |f| f.min(s)));
            }
        }
        if let Some(s) = change.started {
            self.tasks.real_task_started(s);
            self.first_serving = Some(self.first_serving.map_or(s, |f| f.min(s)));
        }
        if let Some(at) = change.stop_requested {
            let normal = change.stop.as_ref().is_none_or(|s| !s.class.is_failure());
            if normal {
                let newest = self
                    .rollout_at(at, dep.as_ref())
                    .map(|r| r.deployment.clone());
                if let Some(r) = newest.and_then(|id| self.rollouts.get_mut(&id)) {
                    r.draining_at = Some(r.draining_at.map_or(at, |d| d.min(at)));
                }
            }
        }
        if let Some(stop) = change.stop {
            let at = t.stopping_at.or(t.stopped_at).unwrap_or(time);
            self.on_stop(stop, dep.as_ref(), at, t, out);
        }
        true
    }

    fn on_stop(
        &mut self,
        stop: StopInfo,
        dep: Option<&crate::model::DeploymentId>,
        at: Timestamp,
        t: &TaskObservation,
        out: &mut Effects,
    ) {
        let (name, metric) = match stop.class {
            StopClass::HealthCheck => (
                AlertName::HealthCheckFailed,
                MetricName::HealthCheckFailures,
            ),
            StopClass::FailedToStart => {
                (AlertName::TaskFailedToStart, MetricName::TaskStartFailures)
            }
            _ => {
                if stop.class.is_failure()
                    && let Some(stats) = dep.and_then(|d| self.deployments.get_mut(d))
                {
                    stats.last_failure = Some(stop.clone());
                }
                self.last_stop = Some(stop);
                return;
            }
        };
        let threshold = self.threshold();
        let (n, td) = match dep.and_then(|d| self.deployments.get_mut(d)) {
            Some(stats) => {
                if stop.class == StopClass::HealthCheck {
                    stats.health_check_failures += 1;
                } else {
                    stats.start_failures += 1;
                }
                stats.last_failure = Some(stop.clone());
                let n = if stop.class == StopClass::HealthCheck {
                    stats.health_check_failures
                } else {
                    stats.start_failures
                };
                (n, stats.task_definition.clone())
            }
            None => (1, t.task_definition.clone()),
        };
        let svc = self.service.name().to_owned();
        let td_name = td.as_deref().map(task_definition_name).map(str::to_owned);
        let of_dep = dep
            .map(|d| format!(" of deployment {d}"))
            .unwrap_or_default();
        let td_text = td_name
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let reason = stop
            .reason
            .clone()
            .unwrap_or_else(|| stop.class.describe().to_owned());
        let exits = exit_text(&stop);
        let task = short_task(&stop.task_arn).to_owned();
        let url = task_console_url(&self.service, crate::model::task_id(&stop.task_arn));
        let e = AlertBuilder::new(&self.service, name, at)
            .deployment(dep)
            .occurrence(crate::model::task_id(&stop.task_arn))
            .details(|d| {
                d.task_definition = td_name.clone();
                d.task_arn = Some(stop.task_arn.clone());
                d.stop_reason = stop.reason.clone();
                d.stop_code = stop.code.clone();
                d.exits = stop.exits.clone();
                d.failures = Some(n);
                d.threshold = Some(threshold);
                d.console_url = url;
            })
            .build(
                &format!("task {task} {} ({n} of {threshold})", stop.class.describe()),
                format!(
                    "{svc}: task {task}{of_dep}{td_text} {} ({n} of {threshold} toward the circuit breaker): {reason}{exits}",
                    stop.class.describe()
                ),
            );
        out.items.push(e);
        out.items.push(policy::metric(
            &self.service,
            metric,
            1.0,
            at,
            dep,
            crate::model::task_id(&stop.task_arn),
        ));
        self.last_stop = Some(stop);
    }

    pub(crate) fn on_service_action(&mut self, a: &ServiceAction, out: &mut Effects) -> bool {
        let active = self.rollout_at(a.at, None).map(|r| r.deployment.clone());
        let (name, what) = match a.kind {
            ServiceActionKind::TaskStartImpaired => (
                AlertName::TaskStartImpaired,
                "ECS is unable to consistently start tasks (SERVICE_TASK_START_IMPAIRED)",
            ),
            ServiceActionKind::PlacementFailure => (
                AlertName::TaskPlacementFailed,
                "ECS cannot place a task (SERVICE_TASK_PLACEMENT_FAILURE)",
            ),
            ServiceActionKind::ConfigurationFailure => (
                AlertName::TaskPlacementFailed,
                "ECS cannot place a task because of a configuration error (SERVICE_TASK_CONFIGURATION_FAILURE)",
            ),
        };
        let reason_key = a.reason.as_deref().unwrap_or("");
        let occurrence = match &active {
            Some(_) => reason_key.to_owned(),
            None => format!("{}:{reason_key}", a.at.as_millis().div_euclid(HOUR_MS)),
        };
        let key = policy::dedup_key(&self.service, active.as_ref(), name.as_str(), &occurrence);
        if self.fired.contains(&key) {
            return false;
        }
        self.fired.push_back(key);
        let svc = self.service.name().to_owned();
        let during = active
            .as_ref()
            .map(|d| format!(" during deployment {d}"))
            .unwrap_or_default();
        let reason = a
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let e = AlertBuilder::new(&self.service, name, a.at)
            .deployment(active.as_ref())
            .occurrence(occurrence)
            .details(|d| d.reason = a.reason.clone())
            .build(
                what.split(" (").next().unwrap_or(what),
                format!("{svc}: {what}{during}{reason}."),
            );
        out.items.push(e);
        true
    }

    /// Opens, updates, fires and closes the zero window from the task intervals.
    pub(crate) fn track_zero(&mut self, settings: &Settings, out: &mut Effects) {
        let Some(clock) = self.clock else { return };
        self.zero.repair(&self.tasks);
        let wanted = self.config.as_ref().and_then(|c| c.desired_count) != Some(0);
        let gap = (wanted
            && self.serving_seen
            && self.first_serving.is_some_and(|f| f <= clock)
            && self.tasks.serving_at(clock) == 0)
            .then(|| {
                self.tasks
                    .last_end_before(clock)
                    .max(self.pruned_last_end)
                    .unwrap_or(clock)
            });
        match (self.zero.open.take(), gap) {
            (None, Some(start)) => {
                let deployment = self.rollout_at(start, None).map(|r| r.deployment.clone());
                self.zero.open = Some(ZeroWindow {
                    start,
                    fired_key: None,
                    awaiting: false,
                    suppressed: false,
                    deployment,
                    last_stop: self.last_stop.clone(),
                });
            }
            (Some(mut w), Some(start)) => {
                w.start = start;
                self.zero.open = Some(w);
            }
            (Some(w), None) => self.close_zero(w, wanted, clock, out),
            (None, None) => {}
        }
        let fire = self.zero.open.as_mut().is_some_and(|w| {
            let due = w.fired_key.is_none() && !w.suppressed && !w.awaiting;
            let due = due && clock.since(w.start) >= settings.zero_grace;
            if due && settings.confirm_zero {
                w.awaiting = true;
                return false;
            }
            due
        });
        if fire {
            self.fire_zero(out);
        }
    }

    pub(crate) fn fire_zero(&mut self, out: &mut Effects) {
        let clock = self.clock.unwrap_or_default();
        let Some(w) = self.zero.open.as_mut() else {
            return;
        };
        w.fired_key = Some(w.start);
        let w = w.clone();
        let svc = self.service.name().to_owned();
        let for_ = clock.since(w.start).human();
        let during = w
            .deployment
            .as_ref()
            .map(|d| format!(" during deployment {d}"))
            .unwrap_or_default();
        let last = w.last_stop.as_ref().map(|s| {
            let reason = s
                .reason
                .clone()
                .unwrap_or_else(|| s.class.describe().to_owned());
            format!(
                " Last task {} stopped: {reason}{}",
                short_task(&s.task_arn),
                exit_text(s)
            )
        });
        let e = AlertBuilder::new(&self.service, AlertName::ZeroRunningTasks, clock)
            .deployment(w.deployment.as_ref())
            .occurrence(w.start.as_millis().to_string())
            .details(|d| {
                d.stop_reason = w.last_stop.as_ref().and_then(|s| s.reason.clone());
                d.stop_code = w.last_stop.as_ref().and_then(|s| s.code.clone());
                d.exits = w.last_stop.as_ref().map(|s| s.exits.clone()).unwrap_or_default();
                d.task_arn = w.last_stop.as_ref().map(|s| s.task_arn.clone());
            })
            .build(
                "0 tasks serving",
                format!(
                    "{svc}: 0 tasks serving for {for_} (since {}){during}; the service should run at least 1.{}",
                    w.start,
                    last.unwrap_or_default()
                ),
            );
        out.items.push(e);
    }

    fn close_zero(&mut self, w: ZeroWindow, wanted: bool, clock: Timestamp, out: &mut Effects) {
        let end = if wanted {
            self.tasks.gap_end_after(w.start).unwrap_or(clock)
        } else {
            w.start
        };
        let downtime = end.since(w.start);
        if downtime.0 > 0 {
            self.zero.record(w.start, end);
            out.items.push(policy::metric(
                &self.service,
                MetricName::ZeroTaskDowntime,
                downtime.as_secs_f64(),
                end,
                None,
                &w.start.as_millis().to_string(),
            ));
        }
        if let Some(key) = w.fired_key {
            let svc = self.service.name().to_owned();
            let text = if wanted {
                format!(
                    "{svc}: a task is serving again after {} of downtime (from {} to {end}).",
                    downtime.human(),
                    w.start
                )
            } else {
                format!("{svc}: the desired count is now 0; no task is expected to serve.")
            };
            let e = AlertBuilder::new(&self.service, AlertName::ZeroRunningTasks, end.max(w.start))
                .resolved()
                .deployment(w.deployment.as_ref())
                .occurrence(key.as_millis().to_string())
                .details(|d| d.downtime_s = Some(downtime.as_secs_f64()))
                .build(&format!("serving again after {}", downtime.human()), text);
            out.items.push(e);
        }
    }
}

fn exit_text(stop: &StopInfo) -> String {
    let codes: Vec<String> = stop
        .exits
        .iter()
        .filter_map(|e| e.exit_code.map(|c| format!("{} exited {c}", e.name)))
        .collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", codes.join(", "))
    }
}
