//! A batch with a service whose stored item cannot be decoded (edited by hand, or
//! written by a newer version the function was rolled back from): no retry mends
//! it, so its messages go back to the queue, and on to the dead-letter queue after
//! the queue's receives, where they wait for the item to be mended and a redrive.
//! The other services of the batch must not share that fate.

use super::*;

/// api's item cannot be decoded. Its start comes first in the batch, then web's and
/// jobs': api's message alone goes back (read once, not in rounds: no pause mends
/// it); web and jobs are applied and their starts published, where they went back
/// with it on every try and, past the queue's receives, to the dead-letter queue
/// unapplied.
#[tokio::test]
async fn an_unreadable_item_hands_back_its_service_alone() {
    let w = world(safe());
    *w.store.corrupt.lock().unwrap() = Some(ServiceArn::parse(API).unwrap());
    let messages = starts(&["api", "web", "jobs"]);
    let batch = queued(&messages);
    let out = w.handle_batch(&batch, "req-1").await;
    assert_eq!(out.failed, ["m-0"]);
    assert_eq!(w.store.corrupt_reads.load(Ordering::SeqCst), 1);
    assert_eq!((out.services, out.applied), (2, 2));
    let mut published: Vec<String> = w
        .notifier
        .published()
        .iter()
        .map(|a| format!("{} {}", a.service, a.alert.as_str()))
        .collect();
    published.sort_unstable();
    assert_eq!(
        published,
        [
            format!("{JOBS} deployment_started"),
            format!("{SVC} deployment_started")
        ]
    );
}
