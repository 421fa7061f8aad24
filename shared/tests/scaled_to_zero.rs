//! A service that was down is then scaled to zero: the zero-running page closes
//! because no task is wanted any more, not because one serves again. What the
//! on-call engineer reads (the title, the SNS subject, the headline a chat message
//! leads with) must say so.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{Alert, AlertName, AlertStatus, Observation, ServiceState, Settings};
use rollout_watcher::message;
use rollout_watcher::model::{ServiceArn, Timestamp};

const SVC: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";

fn at(s: u32) -> Timestamp {
    Timestamp::parse(&format!("2026-05-01T12:{:02}:{:02}Z", s / 60, s % 60)).unwrap()
}

/// What the sweeper hands the state each minute: time, then ECS's counts.
fn sweep(state: &mut ServiceState, desired: u32, running: u32, s: u32) -> Vec<Alert> {
    let settings = Settings::default();
    let obs = Observation {
        desired,
        running,
        at: at(s),
    };
    let mut fx = state.tick(obs.at, &settings);
    fx.extend(state.observe(obs, &settings));
    fx.alerts().cloned().collect()
}

/// ECS reports 0 of 2 running for two minutes (the page fires); someone then sets
/// the desired count to 0. The resolution says the desired count is 0, in its title,
/// subject and headline, never "serving again".
#[test]
fn a_page_closed_by_scaling_to_zero_does_not_say_serving_again() {
    // given: a service down past the grace
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    let mut alerts = Vec::new();
    for s in [0, 60, 120] {
        alerts.extend(sweep(&mut state, 2, 0, s));
    }
    assert_eq!(
        alerts
            .iter()
            .map(|a| (a.alert, a.status))
            .collect::<Vec<_>>(),
        [(AlertName::ZeroRunningTasks, AlertStatus::Firing)]
    );

    // when: the desired count becomes 0
    let resolved = sweep(&mut state, 0, 0, 180);

    // then
    let [r] = resolved.as_slice() else {
        panic!("{resolved:?}")
    };
    assert_eq!(
        (r.alert, r.status),
        (AlertName::ZeroRunningTasks, AlertStatus::Resolved)
    );
    assert!(
        r.summary.contains("desired count is now 0"),
        "{}",
        r.summary
    );
    assert_eq!(r.at, at(180), "closed when the desired count of 0 was seen");
    assert_eq!(
        r.details.downtime_s, None,
        "no \"downtime 0 s\" for a service that was down"
    );
    let subject = message::subject(r, None);
    for text in [r.title.as_str(), subject.as_str(), r.headline()] {
        assert!(!text.contains("serving again"), "{text}");
        assert!(text.contains("desired count 0"), "{text}");
    }
}

/// The ordinary resolution, a task serving again, keeps its words.
#[test]
fn a_page_closed_by_a_serving_task_says_serving_again() {
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    for s in [0, 60, 120] {
        sweep(&mut state, 2, 0, s);
    }

    let resolved = sweep(&mut state, 2, 1, 180);

    let [r] = resolved.as_slice() else {
        panic!("{resolved:?}")
    };
    assert_eq!(r.status, AlertStatus::Resolved);
    assert_eq!(r.headline(), "serving again");
    assert!(r.title.contains("serving again after"), "{}", r.title);
}
