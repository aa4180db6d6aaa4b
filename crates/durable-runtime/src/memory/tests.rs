use std::collections::HashSet;
use std::sync::Arc;

use super::*;
use crate::kit::{self, T0, Tracked, at, wait_start};

#[tokio::test]
async fn creation_is_idempotent_by_name() {
    kit::creation_is_idempotent_by_name(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn commits_are_fenced_by_version() {
    kit::commits_are_fenced_by_version(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn commits_round_trip_operations_and_events() {
    kit::commits_round_trip_operations_and_events(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn deltas_that_do_not_fit_are_refused() {
    kit::deltas_that_do_not_fit_are_refused(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn claims_take_due_executions_with_a_lease() {
    kit::claims_take_due_executions_with_a_lease(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn expired_leases_are_taken_over() {
    kit::expired_leases_are_taken_over(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn leases_and_versions_are_independent() {
    kit::leases_and_versions_are_independent(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn callbacks_are_found_by_id() {
    kit::callbacks_are_found_by_id(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn history_is_paged_in_order() {
    kit::history_is_paged_in_order(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn executions_are_listed_in_creation_order() {
    kit::executions_are_listed_in_creation_order(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn unknown_executions_are_reported() {
    kit::unknown_executions_are_reported(&MemoryPersistence::new()).await;
}

#[tokio::test]
async fn the_whole_kit_runs_through_arc() {
    kit::run_all(async || Arc::new(MemoryPersistence::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_claims_never_share_an_execution() {
    let persistence = Arc::new(MemoryPersistence::new());
    for i in 0..40 {
        Tracked::create(&*persistence, "orders", &format!("o{i}"), T0).await;
    }
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let persistence = persistence.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                // Bounded, so a backend that hands out leased executions
                // fails the test instead of looping forever.
                for _ in 0..40 {
                    let owner = format!("w{w}");
                    let claimed = persistence.claim_due(T0, &owner, at(60), 3).await.unwrap();
                    if claimed.is_empty() {
                        break;
                    }
                    mine.extend(claimed);
                    tokio::task::yield_now().await;
                }
                mine
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for worker in workers {
        for arn in worker.await.unwrap() {
            assert!(seen.insert(arn), "two workers claimed one execution");
        }
    }
    assert_eq!(seen.len(), 40);
    assert_eq!(persistence.len(), 40);
}

#[tokio::test]
async fn misfit_deltas_name_what_does_not_fit() {
    let persistence = MemoryPersistence::new();
    let mut tracked = Tracked::create(&persistence, "orders", "misfit", T0).await;
    tracked.begin(&persistence, T0).await;
    tracked
        .checkpoint(&persistence, vec![wait_start("w1", 10)], T0)
        .await;
    let mut moved = Delta::capture(&mut tracked.record.clone(), T0);
    moved.operations = vec![durable_core::service::ChangedOperation {
        position: 7,
        operation: tracked.record.operation("w1").unwrap().clone(),
    }];
    let error = persistence
        .commit(tracked.arn(), tracked.version, moved.clone())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("\"w1\" is at position 1, not 7"),
        "{error}"
    );
    moved.operations.clear();
    moved.events = tracked.record.history()[1..2].to_vec();
    let error = persistence
        .commit(tracked.arn(), tracked.version, moved)
        .await
        .unwrap_err();
    assert!(matches!(error, PersistenceError::InvalidDelta { .. }));
    assert!(
        error
            .to_string()
            .contains("event id 2 does not continue the history (expected 3)"),
        "{error}"
    );
    let stored = persistence.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.version, tracked.version);
}

#[tokio::test]
async fn corrupt_rows_are_clear_errors() {
    let persistence = MemoryPersistence::new();
    let tracked = Tracked::create(&persistence, "orders", "corrupt", T0).await;
    assert!(persistence.overwrite_header(tracked.arn(), "{not json"));
    let error = persistence.load(tracked.arn()).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, PersistenceError::Corrupt { .. }));
    assert!(message.contains(tracked.arn()), "{message}");
    assert!(message.contains("the header is unreadable"), "{message}");

    let other = Tracked::create(&persistence, "orders", "no-exec-op", T0).await;
    let step = r#"{"Id":"x","Type":"STEP","StartTimestamp":0,"Status":"STARTED"}"#;
    assert!(persistence.overwrite_operation(other.arn(), 0, step));
    let message = persistence.load(other.arn()).await.unwrap_err().to_string();
    assert!(message.contains("EXECUTION operation"), "{message}");
    assert!(message.contains("is missing"), "{message}");

    assert!(!persistence.overwrite_header("nope", "{}"));
    assert!(!persistence.overwrite_operation(other.arn(), 9, "{}"));
}
