//! The history as the same page `replay --format html` draws: a section per service,
//! headed by its figures, an article per rollout with the numbers the table holds.
//!
//! The table keeps each finished rollout's summary, not its task events, so the
//! rollouts have no task lanes, serving counts or zero windows to draw: the page says
//! "No task events for this rollout" and shows the state, duration, downtime and
//! failures, which are the figures a week's review needs.

use std::collections::BTreeMap;

use rollout_watcher::core::RolloutState;
use rollout_watcher::model::ServiceArn;

use super::stats::{History, Row, Stats};
use crate::html::{Page, RolloutView, ServiceView};

/// The page for a history.
pub fn page(h: &History) -> Page {
    let mut by_service: BTreeMap<&ServiceArn, Vec<&Row>> = BTreeMap::new();
    for r in &h.rollouts {
        by_service.entry(&r.service).or_default().push(r);
    }
    let services = by_service
        .into_iter()
        .map(|(arn, rows)| ServiceView {
            heading: format!("{} ({})", arn.name(), arn.cluster()),
            name: arn.name().to_owned(),
            cluster: arn.cluster().to_owned(),
            note: h
                .services
                .iter()
                .find(|s| s.service.as_ref() == Some(arn))
                .map(figures),
            rollouts: rows.into_iter().map(|r| rollout(r, h)).collect(),
            loose_alerts: Vec::new(),
        })
        .collect();
    Page {
        title: "rollout-watcher history".to_owned(),
        subtitle: Some(format!(
            "{} to {} · all services: {}",
            h.since.to_rfc3339(),
            h.now.to_rfc3339(),
            figures(&h.all)
        )),
        services,
    }
}

/// A rollout from its summary: the band is what the summary knows (started, and
/// the state it is in), the span runs to its end or, while open, to now.
fn rollout(r: &Row, h: &History) -> RolloutView {
    let s = &r.summary;
    let start = s.started_at.or(s.first_running_at).unwrap_or(h.since);
    let end = s.finished_at.unwrap_or(h.now).max(start);
    let mut band = vec![(RolloutState::Started, start)];
    if s.state != RolloutState::Started {
        band.push((s.state, end));
    }
    RolloutView {
        summary: s.clone(),
        span: (start, end),
        band,
        stages: Vec::new(),
        alerts: Vec::new(),
        lanes: Vec::new(),
        hidden_lanes: 0,
        serving: Vec::new(),
        zero_windows: Vec::new(),
    }
}

/// One line of figures: rollouts, success and rollback rate, p50/p90, downtime.
fn figures(s: &Stats) -> String {
    let pct = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{:.0} %", r * 100.0));
    let secs = |d: Option<f64>| d.map_or_else(|| "-".to_owned(), |d| format!("{d:.0} s"));
    format!(
        "{} rollouts ({} completed, {} failed, {} rolled back, {} open); success {}, rollback {}; duration p50 {}, p90 {}; downtime {:.0} s",
        s.rollouts,
        s.completed,
        s.failed,
        s.rolled_back,
        s.open,
        pct(s.success_rate),
        pct(s.rollback_rate),
        secs(s.p50_duration_s),
        secs(s.p90_duration_s),
        s.total_downtime_s
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rollout_watcher::core::RolloutSummary;
    use rollout_watcher::model::{DeploymentId, Timestamp};

    use super::*;

    fn summary(service: &str, dep: &str, state: RolloutState, start: i64) -> RolloutSummary {
        RolloutSummary {
            service: ServiceArn::parse(service).unwrap_or_else(|| panic!("{service}")),
            deployment_id: DeploymentId::parse(dep).unwrap_or_else(|| panic!("{dep}")),
            state,
            started_at: Some(Timestamp::from_millis(start)),
            finished_at: Some(Timestamp::from_millis(start + 120_000)),
            duration_s: Some(120.0),
            downtime_s: if state == RolloutState::RolledBack {
                0.0
            } else {
                42.0
            },
            downtime_known: true,
            task_definition: Some("web:42".into()),
            rollback_of: None,
            health_check_failures: u32::from(state == RolloutState::RolledBack) * 3,
            start_failures: 0,
            crashes: 0,
            stalled: false,
            first_running_at: None,
        }
    }

    #[test]
    fn a_week_of_history_is_a_section_per_service_and_an_article_per_rollout() {
        const WEB: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
        const API: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api";
        let rows = vec![
            Row::of(
                &summary(WEB, "ecs-svc/1", RolloutState::Completed, 1_000_000),
                false,
            ),
            Row::of(
                &summary(WEB, "ecs-svc/2", RolloutState::Completed, 9_000_000),
                false,
            ),
            Row::of(
                &summary(API, "ecs-svc/3", RolloutState::RolledBack, 5_000_000),
                false,
            ),
        ];
        let h = History::new(
            Timestamp::from_millis(0),
            Timestamp::from_millis(20_000_000),
            rows,
        );
        let p = page(&h);
        assert_eq!(p.services.len(), 2);
        let web = p.services.iter().find(|s| s.name == "web").unwrap();
        assert_eq!(web.rollouts.len(), 2);
        assert!(
            web.note
                .as_deref()
                .unwrap()
                .starts_with("2 rollouts (2 completed"),
            "{:?}",
            web.note
        );
        let html = crate::html::document(&p);
        assert_eq!(html.matches("<article").count(), 3, "{html}");
        assert!(html.contains("No task events for this rollout"));
        assert!(html.contains("rolled back"), "{html}");
        assert!(!html.contains("<script"));
    }
}
