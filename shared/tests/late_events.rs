//! How long the watcher remembers what it keeps only for late events: a finished
//! rollout, its deployment's task figures, the id of a task it forgot. AWS's retries
//! bring events at most `LATE_LIMIT` late (ECS's and EventBridge's retries, Lambda's
//! or the FIFO queue's), so within that a late copy changes nothing, and past it the
//! state holds none of it: a service rolling once a day keeps a few days of its past,
//! not its whole history. An event later still (a dead-letter queue redriven days
//! after) is not applied: no ghost rollout, no second page.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/story.rs"]
mod story;

use rollout_watcher::core::{Effects, LATE_LIMIT, ServiceState, Settings};
use rollout_watcher::model::{Input, ServiceArn, Timestamp};
use serde_json::json;
use story::*;

/// D1 rolls out on day 0 (task A1); D2 replaces it on day 1 (task B1, A1 stopped).
fn two_days() -> (ServiceState, Settings) {
    let settings = Settings::default();
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    for i in [
        deployment(D1, "SERVICE_DEPLOYMENT_IN_PROGRESS", 600, 0),
        task(A1, D1, 3, 601, 601, false, 0),
        deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 0),
        deployment(D2, "SERVICE_DEPLOYMENT_IN_PROGRESS", DAY + 600, 0),
        task(B1, D2, 3, DAY + 601, DAY + 601, false, 0),
        task(A1, D1, 5, 601, DAY + 603, true, 0),
        deployment(D2, "SERVICE_DEPLOYMENT_COMPLETED", DAY + 605, 0),
    ] {
        let _ = state.apply(&i, &settings);
    }
    (state, settings)
}

#[test]
fn late_copies_within_the_limit_change_nothing() {
    // given D1 finished at 10:05 on day 0, D2 on day 1, and A1 stopped and forgotten
    let (mut state, settings) = two_days();
    let _ = state.tick(at(DAY + 700), &settings);
    assert_eq!(held(&state).2, vec![A1.to_owned()]);

    // when, a minute before the limit, ECS sends D1's completion and A1's stop again
    let edge = at(605).plus(LATE_LIMIT);
    let _ = state.tick(Timestamp::from_millis(edge.as_millis() - 60_000), &settings);
    let completed = state.apply(
        &deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 1),
        &settings,
    );
    let stopped = state.apply(&task(A1, D1, 5, 601, DAY + 603, true, 1), &settings);
    let running = state.apply(&task(A1, D1, 3, 601, 601, false, 1), &settings);

    // then each is recognised as a copy: no alert, no transition, no metric
    for fx in [completed, stopped, running] {
        assert!(fx.duplicate && fx.items.is_empty(), "{fx:?}");
    }
    assert_eq!(state.serving_now(), 1);
}

#[test]
fn past_the_limit_the_service_holds_nothing_kept_for_late_events() {
    // given the same two days
    let (mut state, settings) = two_days();
    let (rollouts, deployments, _) = held(&state);
    assert_eq!((rollouts.len(), deployments.len()), (2, 2));

    // when the service's clock is past the limit for D1 but not for D2
    let _ = state.tick(at(DAY + 700), &settings);
    let _ = state.tick(at(606).plus(LATE_LIMIT), &settings);

    // then D1's rollout is gone; its figures (A1 stopped on day 1), D2 and A1's id stay
    let (rollouts, deployments, forgotten) = held(&state);
    assert_eq!(rollouts, vec![D2.to_owned()]);
    assert_eq!(deployments, vec![D1.to_owned(), D2.to_owned()]);
    assert_eq!(forgotten, vec![A1.to_owned()]);

    // and once past it for D2 and for A1's id, only the running task remains
    let _ = state.tick(at(DAY + 701).plus(LATE_LIMIT), &settings);
    assert_eq!(held(&state), (vec![], vec![], vec![]));
    assert_eq!(state.serving_now(), 1);
    assert_eq!(state.task_count(), 1);
}

#[test]
fn an_item_as_the_previous_release_stores_it_loads_and_gives_the_same_alerts() {
    // given a service's item as the previous release writes it (the format is the
    // same: ids as strings, tasks keyed by their id, forgotten tasks as bare ids)
    let (mut state, settings, said) = failed_then_replaced();
    let doc = serde_json::to_value(&state).unwrap();
    assert_eq!(doc["forgotten_tasks"], json!([C1, A1]));
    assert_eq!(doc["tasks"][E1]["d"], json!(D4));
    assert_eq!(
        doc["recent_events"][0],
        json!(format!("d-{D1}-SERVICE_DEPLOYMENT_IN_PROGRESS-0"))
    );
    assert_eq!(
        alerts(&said)
            .iter()
            .filter(|a| *a == "deployment_failed:firing")
            .count(),
        1
    );
    let text = doc.to_string();
    let mut loaded: ServiceState = serde_json::from_str(&text).unwrap();

    // when the same events follow for the loaded item and for the state held in
    // memory: D5 fails on day 4 with a crash, and copies of old events come again
    let d5 = "ecs-svc/5000";
    let next = [
        deployment(d5, "SERVICE_DEPLOYMENT_IN_PROGRESS", 4 * DAY + 600, 0),
        task(B1, d5, 3, 4 * DAY + 601, 4 * DAY + 601, false, 0),
        crash(B1, d5, 5, 4 * DAY + 601, 4 * DAY + 603, 0),
        deployment(d5, "SERVICE_DEPLOYMENT_FAILED", 4 * DAY + 610, 0),
        task(A1, D1, 5, 601, 3 * DAY + 603, true, 1),
        deployment(D4, "SERVICE_DEPLOYMENT_COMPLETED", 3 * DAY + 605, 1),
    ];
    let run = |s: &mut ServiceState| -> Vec<Effects> {
        let mut out: Vec<Effects> = next.iter().map(|i| s.apply(i, &settings)).collect();
        out.push(s.tick(at(4 * DAY + 700), &settings));
        out
    };
    let from_item = run(&mut loaded);
    let in_memory = run(&mut state);

    // then both say the same, D5's failure once, and write the same item back
    assert_eq!(alerts(&from_item), alerts(&in_memory));
    assert_eq!(from_item, in_memory);
    assert!(alerts(&from_item).contains(&"deployment_failed:firing".to_owned()));
    assert_eq!(
        serde_json::to_string(&loaded).unwrap(),
        serde_json::to_string(&state).unwrap()
    );
}

/// Day 0: D1 rolls out (task A1). Day 1: D3 fails (its task C1 crashes), A1 serves
/// on. Day 3: D4 replaces D1 (task E1, A1 stopped), and by 16:40 the service's clock
/// is more than `LATE_LIMIT` past all of day 1.
fn failed_then_replaced() -> (ServiceState, Settings, Vec<Effects>) {
    let settings = Settings::default();
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    let story = [
        deployment(D1, "SERVICE_DEPLOYMENT_IN_PROGRESS", 600, 0),
        task(A1, D1, 3, 601, 601, false, 0),
        deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 0),
        deployment(D3, "SERVICE_DEPLOYMENT_IN_PROGRESS", DAY + 600, 0),
        task(C1, D3, 3, DAY + 601, DAY + 601, false, 0),
        crash(C1, D3, 5, DAY + 601, DAY + 603, 0),
        deployment(D3, "SERVICE_DEPLOYMENT_FAILED", DAY + 610, 0),
        deployment(D4, "SERVICE_DEPLOYMENT_IN_PROGRESS", 3 * DAY + 600, 0),
        task(E1, D4, 3, 3 * DAY + 601, 3 * DAY + 601, false, 0),
        task(A1, D1, 5, 601, 3 * DAY + 603, true, 0),
        deployment(D4, "SERVICE_DEPLOYMENT_COMPLETED", 3 * DAY + 605, 0),
    ];
    let mut said: Vec<Effects> = story.iter().map(|i| state.apply(i, &settings)).collect();
    said.push(state.tick(at(3 * DAY + 1000), &settings));
    (state, settings, said)
}

/// Day 1's events as a dead-letter queue redrives them on day 3. Their ids are
/// other than the first copies' (ECS sends copies with ids of their own, and a busy
/// service remembers only its latest 64 ids), so only their time can tell.
fn day_one_redriven() -> Vec<Input> {
    vec![
        deployment(D3, "SERVICE_DEPLOYMENT_IN_PROGRESS", DAY + 600, 1),
        task(C1, D3, 3, DAY + 601, DAY + 601, false, 1),
        crash(C1, D3, 5, DAY + 601, DAY + 603, 1),
        deployment(D3, "SERVICE_DEPLOYMENT_FAILED", DAY + 610, 1),
    ]
}

#[test]
fn a_failed_rollout_redriven_days_after_it_was_let_go_pages_nobody() {
    // given D3 failed on day 1 and paged once; by day 3 the service let it go
    let (mut state, settings, said) = failed_then_replaced();
    let failed = alerts(&said)
        .iter()
        .filter(|a| *a == "deployment_failed:firing")
        .count();
    assert_eq!(failed, 1, "{:?}", alerts(&said));
    assert!(!held(&state).0.contains(&D3.to_owned()));
    let before = serde_json::to_value(&state).unwrap();

    // when an operator redrives day 1's events from a dead-letter queue on day 3
    let redriven: Vec<Effects> = day_one_redriven()
        .iter()
        .map(|i| state.apply(i, &settings))
        .collect();

    // then each is recognised as too late: the state is untouched, nothing is said
    for fx in &redriven {
        assert!(fx.late && fx.duplicate, "{fx:?}");
        assert!(fx.items.is_empty() && fx.rollouts.is_empty(), "{fx:?}");
    }
    assert_eq!(serde_json::to_value(&state).unwrap(), before);

    // and hours later no ghost rollout stalls, no task of D3 is counted as serving
    let later = state.tick(at(3 * DAY + 1200), &settings);
    assert_eq!(alerts(&[later]), Vec::<String>::new());
    assert_eq!(state.serving_now(), 1);
    assert_eq!(held(&state).0, vec![D4.to_owned()]);
}

#[test]
fn a_forgotten_tasks_events_redriven_past_the_limit_do_not_bring_it_back() {
    // given A1 stopped on day 3 and forgotten, and the service's clock 3 days later
    let (mut state, settings, _) = failed_then_replaced();
    let _ = state.tick(at(6 * DAY + 700), &settings);
    assert_eq!(held(&state).2, Vec::<String>::new());
    let before = serde_json::to_value(&state).unwrap();

    // when A1's RUNNING and STOPPED come again from a dead-letter queue
    let running = state.apply(&task(A1, D1, 3, 601, 601, false, 1), &settings);
    let stopped = state.apply(&task(A1, D1, 5, 601, 3 * DAY + 603, true, 1), &settings);

    // then neither counts: no serving ghost task, no crash, no zero window
    for fx in [running, stopped] {
        assert!(fx.late && fx.items.is_empty(), "{fx:?}");
    }
    assert_eq!(serde_json::to_value(&state).unwrap(), before);
    assert_eq!(state.serving_now(), 1);
    let later = state.tick(at(6 * DAY + 900), &settings);
    assert_eq!(alerts(&[later]), Vec::<String>::new());
}

#[test]
fn an_event_just_within_the_limit_is_still_applied() {
    // given a service whose clock stands at day 3, 16:40
    let (mut state, settings, _) = failed_then_replaced();
    let clock = state.clock().unwrap();

    // when a task of a new deployment reports RUNNING with a time a minute inside
    // the limit (a first delivery held back by retries, not a copy)
    let time = clock.as_millis() - LATE_LIMIT.0 + 60_000;
    let min = (time - at(0).as_millis()) / 60_000;
    let fx = state.apply(&task(B1, D2, 1, min, min, false, 0), &settings);

    // then it is applied as any event: the task is serving
    assert!(!fx.late && !fx.duplicate, "{fx:?}");
    assert_eq!(state.task_count(), 2);
}
