//! When the handler asks ECS for a service's configuration (DescribeServices): at a
//! rollout's start, unless what it holds was read after that start, and whenever what
//! it holds is older than `config_max_age`.

use super::*;

fn at(w: &World, time: &str) {
    w.clock.set(Timestamp::parse(time).unwrap());
}

/// The new deployment's first task event overtakes its IN_PROGRESS: the reading made
/// for the task describes the update that started the rollout, so the start asks
/// ECS nothing more, and the rollout is told as usual.
#[tokio::test]
async fn a_start_arriving_after_its_first_task_is_not_read_twice() {
    let w = world(safe());
    at(&w, "2026-03-02T10:00:05Z");
    let first_task = task(1, "ecs-svc/1", "PROVISIONING", 1, "2026-03-02T10:00:03Z");
    w.handle(&first_task, "req-1").await.unwrap();
    assert_eq!(w.inspector.describes(), 1, "a service never seen is read");

    at(&w, "2026-03-02T10:00:06Z");
    let [started, running, completed] = rollout();
    w.handle(&started, "req-2").await.unwrap();
    assert_eq!(
        w.inspector.describes(),
        1,
        "the reading of 10:00:05 already describes the rollout of 10:00:00"
    );
    for e in [&running, &completed] {
        w.handle(e, "req-3").await.unwrap();
    }
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    assert_eq!(w.inspector.describes(), 1);
}

/// A reading made before the rollout began may miss what the update changed (the
/// desired count, the strategy, the hooks): the start reads again, however fresh
/// the reading.
#[tokio::test]
async fn a_start_after_an_earlier_reading_reads_again() {
    let w = world(safe());
    at(&w, "2026-03-02T09:59:50Z");
    let old_task = task(1, "ecs-svc/0", "RUNNING", 3, "2026-03-02T09:59:48Z");
    w.handle(&old_task, "req-1").await.unwrap();
    assert_eq!(w.inspector.describes(), 1);

    at(&w, "2026-03-02T10:00:01Z");
    let [started, ..] = rollout();
    w.handle(&started, "req-2").await.unwrap();
    assert_eq!(
        w.inspector.describes(),
        2,
        "read at 09:59:50, before the rollout of 10:00:00"
    );
}

/// Within the clock margin a reading counts as taken before the start.
#[tokio::test]
async fn a_reading_within_a_second_of_the_start_is_read_again() {
    let w = world(safe());
    at(&w, "2026-03-02T10:00:00.500Z");
    let first_task = task(1, "ecs-svc/1", "PROVISIONING", 1, "2026-03-02T10:00:00Z");
    w.handle(&first_task, "req-1").await.unwrap();
    at(&w, "2026-03-02T10:00:02Z");
    let [started, ..] = rollout();
    w.handle(&started, "req-2").await.unwrap();
    assert_eq!(w.inspector.describes(), 2);
}
