//! Creating executions and committing deltas: idempotency, atomicity,
//! fencing.

use durable_core::model::{Event, ExecutionStatus};
use durable_core::service::{ExecutionRecord, NewExecution};

use super::{T0, Tracked, at, new_record, step_start, step_succeed, wait_start};
use crate::delta::{Created, Creation, Delta};
use crate::error::PersistenceError;
use crate::persistence::Persistence;

/// The whole history of `arn`, read in pages of 2.
pub(super) async fn full_history(persistence: &impl Persistence, arn: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = persistence
            .history_page(arn, marker.as_deref(), 2)
            .await
            .unwrap();
        events.extend(page.items);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return events,
        }
    }
}

/// Checks that the stored execution is exactly `tracked`'s record.
async fn assert_stored(persistence: &impl Persistence, tracked: &Tracked) {
    let stored = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.version, tracked.version, "stored version");
    assert_eq!(stored.record.identity(), tracked.record.identity());
    assert_eq!(stored.record.header(), tracked.record.header());
    assert_eq!(stored.record.operations(), tracked.record.operations());
    assert_eq!(
        full_history(persistence, tracked.arn()).await,
        tracked.record.history()
    );
}

/// Creating an execution is idempotent by (function name, execution name).
pub async fn creation_is_idempotent_by_name(persistence: &impl Persistence) {
    let first = Tracked::create(persistence, "orders", "order-1", T0).await;
    let mut again = new_record("orders", "order-1", at(5));
    let created = persistence
        .create_execution(Creation::capture(&mut again, at(5)))
        .await
        .unwrap();
    assert_eq!(
        created,
        Created {
            arn: first.arn().to_owned(),
            created: false,
        }
    );
    assert!(
        persistence.load(again.arn()).await.unwrap().is_none(),
        "a repeated name writes nothing"
    );
    assert_stored(persistence, &first).await;

    let other = Tracked::create(persistence, "refunds", "order-1", T0).await;
    assert_ne!(other.arn(), first.arn(), "names are unique per function");

    let mut clash = ExecutionRecord::create(
        NewExecution {
            arn: first.arn().to_owned(),
            name: "order-2".to_owned(),
            function_name: "orders".to_owned(),
            input: None,
            execution_timeout_seconds: None,
        },
        T0,
    );
    match persistence
        .create_execution(Creation::capture(&mut clash, T0))
        .await
    {
        Err(PersistenceError::Conflict { expected: 0, .. }) => {}
        other => panic!("a taken ARN must be a conflict, got {other:?}"),
    }
    assert_stored(persistence, &first).await;
}

/// A commit at a stale version fails with `Conflict` and changes nothing.
pub async fn commits_are_fenced_by_version(persistence: &impl Persistence) {
    let mut tracked = Tracked::create(persistence, "orders", "fenced", T0).await;
    tracked.begin(persistence, T0).await;
    let mut rival = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(rival.version, tracked.version);

    tracked
        .checkpoint(
            persistence,
            vec![wait_start("w1", 10), step_start("s1")],
            at(1),
        )
        .await;
    rival.record.stop(None, at(2)).unwrap();
    let delta = Delta::capture(&mut rival.record, at(2));
    match persistence
        .commit(tracked.arn(), rival.version, delta.clone())
        .await
    {
        Err(PersistenceError::Conflict { arn, expected }) => {
            assert_eq!(arn, tracked.arn());
            assert_eq!(expected, rival.version);
        }
        other => panic!("a stale version must conflict, got {other:?}"),
    }
    match persistence
        .commit(tracked.arn(), tracked.version + 1, delta)
        .await
    {
        Err(PersistenceError::Conflict { .. }) => {}
        other => panic!("a future version must conflict, got {other:?}"),
    }
    assert_stored(persistence, &tracked).await;
    let stored = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.record.status(), ExecutionStatus::Running);

    // Loading again and re-applying the rule succeeds.
    let mut fresh = stored;
    fresh.record.stop(None, at(3)).unwrap();
    let delta = Delta::capture(&mut fresh.record, at(3));
    let version = persistence
        .commit(tracked.arn(), fresh.version, delta)
        .await
        .unwrap();
    assert_eq!(version, fresh.version + 1);
    let stopped = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stopped.record.status(), ExecutionStatus::Stopped);
}

/// Operations and events come back exactly as committed, large payloads
/// included, across a whole execution.
pub async fn commits_round_trip_operations_and_events(persistence: &impl Persistence) {
    let mut tracked = Tracked::create(persistence, "orders", "round-trip", T0).await;
    assert_stored(persistence, &tracked).await;
    tracked.begin(persistence, T0).await;
    let large = format!("\"{}\"", "x".repeat(200 * 1024));
    tracked
        .checkpoint(
            persistence,
            vec![step_start("s1"), step_succeed("s1", &large)],
            at(1),
        )
        .await;
    tracked
        .checkpoint(persistence, vec![wait_start("w1", 60)], at(1))
        .await;
    assert_stored(persistence, &tracked).await;
    tracked.suspend(persistence, at(1)).await;
    assert!(tracked.record.fire_due(at(61)));
    tracked.commit(persistence, at(61)).await;
    assert_stored(persistence, &tracked).await;
    tracked.begin(persistence, at(61)).await;
    tracked
        .checkpoint(
            persistence,
            vec![step_start("s2"), step_succeed("s2", "2")],
            at(62),
        )
        .await;
    tracked.succeed(persistence, "\"done\"", at(62)).await;
    assert_stored(persistence, &tracked).await;
    let stored = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.record.status(), ExecutionStatus::Succeeded);
    assert_eq!(stored.record.result(), Some("\"done\""));
    let s1 = stored.record.operation("s1").unwrap();
    assert_eq!(
        s1.step_details.as_ref().unwrap().result.as_deref(),
        Some(large.as_str())
    );
    let ids: Vec<&str> = stored
        .record
        .operations()
        .iter()
        .map(|op| op.id.as_str())
        .collect();
    assert_eq!(
        ids[1..],
        ["s1", "w1", "s2"],
        "operations keep first-start order"
    );
}

/// A delta whose events do not continue the history is refused, and
/// nothing of it is written.
pub async fn deltas_that_do_not_fit_are_refused(persistence: &impl Persistence) {
    let mut tracked = Tracked::create(persistence, "orders", "misfit", T0).await;
    tracked.begin(persistence, T0).await;
    let mut stale = tracked.record.clone();
    let token = tracked.token.clone().unwrap();
    tracked
        .checkpoint(persistence, vec![wait_start("w1", 10)], at(1))
        .await;
    // A change computed from the state before that checkpoint: its event
    // id and operation position are taken now.
    stale
        .checkpoint(&tracked.config, &token, vec![step_start("s9")], at(1))
        .unwrap();
    let delta = Delta::capture(&mut stale, at(1));
    assert_eq!(delta.events[0].event_id, 2);
    let result = persistence
        .commit(tracked.arn(), tracked.version, delta)
        .await;
    assert!(
        result.is_err(),
        "a delta with taken event ids must fail, got {result:?}"
    );
    assert_stored(persistence, &tracked).await;
}
