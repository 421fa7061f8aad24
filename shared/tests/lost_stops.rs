//! Tasks whose STOPPED event never came (lost, or a stream with holes): once a
//! completed rollout of another deployment is let go (`LATE_LIMIT` after it
//! completed), ECS had stopped them and no event of theirs can be applied any more,
//! so they stop counting as serving, unless no other task would serve.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/story.rs"]
#[allow(dead_code)]
mod story;

use rollout_watcher::core::{LATE_LIMIT, ServiceState, Settings};
use rollout_watcher::model::ServiceArn;
use story::*;

/// D1 runs A1 from day 0; on day 1 D2 replaces it (task B1) and completes, but A1's
/// stop events never come (lost, or a stream with holes).
fn a_stop_lost(with_b1: bool) -> (ServiceState, Settings) {
    let settings = Settings::default();
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    let mut story = vec![
        deployment(D1, "SERVICE_DEPLOYMENT_IN_PROGRESS", 600, 0),
        task(A1, D1, 3, 601, 601, false, 0),
        deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 0),
        deployment(D2, "SERVICE_DEPLOYMENT_IN_PROGRESS", DAY + 600, 0),
    ];
    if with_b1 {
        story.push(task(B1, D2, 3, DAY + 601, DAY + 601, false, 0));
    }
    story.push(deployment(D2, "SERVICE_DEPLOYMENT_COMPLETED", DAY + 605, 0));
    for i in &story {
        let _ = state.apply(i, &settings);
    }
    (state, settings)
}

#[test]
fn a_task_whose_stop_was_lost_stops_counting_once_its_replacement_is_let_go() {
    // given A1 still counted as serving beside B1 after D2 completed
    let (mut state, settings) = a_stop_lost(true);
    let _ = state.tick(at(DAY + 700), &settings);
    assert_eq!(state.serving_now(), 2);

    // when D2's completion is more than the limit behind the service's clock
    let fx = state.tick(at(DAY + 606).plus(LATE_LIMIT), &settings);

    // then A1 is let go: B1 alone serves, the gauge says so, and nobody is paged
    assert_eq!(alerts(std::slice::from_ref(&fx)), Vec::<String>::new());
    let gauge: Vec<f64> = fx
        .metrics()
        .filter(|m| m.name.as_str() == "RunningTaskCount")
        .map(|m| m.value)
        .collect();
    assert_eq!(gauge, vec![1.0]);
    assert_eq!((state.serving_now(), state.task_count()), (1, 1));
}

#[test]
fn a_task_whose_stop_was_lost_is_kept_when_no_other_task_would_serve() {
    // given D2 completed without a task event the watcher saw: A1 alone serves
    let (mut state, settings) = a_stop_lost(false);

    // when D2's completion is more than the limit behind the service's clock
    let fx = state.tick(at(DAY + 606).plus(LATE_LIMIT), &settings);
    let later = state.tick(at(DAY + 900).plus(LATE_LIMIT), &settings);

    // then A1 still counts: no zero window opens on a guess, nobody is paged
    assert_eq!(alerts(&[fx, later]), Vec::<String>::new());
    assert_eq!(state.serving_now(), 1);
}
