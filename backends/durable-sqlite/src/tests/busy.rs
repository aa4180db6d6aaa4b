//! A database another connection holds gives retryable errors, and nothing
//! is written.

use std::time::Duration;

use durable_runtime::kit::{T0, Tracked, at};
use durable_runtime::{Delta, Persistence, PersistenceError};

use super::TestDir;
use crate::{SqliteConfig, SqlitePersistence};

fn assert_retryable<T: std::fmt::Debug>(result: Result<T, PersistenceError>, what: &str) {
    match result {
        Err(PersistenceError::Backend {
            retryable: true,
            message,
            ..
        }) => assert!(!message.is_empty()),
        other => panic!("{what}: expected a retryable backend error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_held_write_lock_is_retryable_and_writes_nothing() {
    let dir = TestDir::new("busy");
    let path = dir.file("busy.db");
    let config = SqliteConfig::new(path.clone()).busy_timeout(Duration::from_millis(50));
    let store = SqlitePersistence::open_with(&config).await.unwrap();
    let tracked = Tracked::create(&store, "orders", "busy", T0).await;
    let arn = tracked.arn();

    // Another process takes the write lock and keeps it.
    let holder = SqlitePersistence::open(&path).await.unwrap();
    let lock = holder.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();

    let mut stored = store.load(arn).await.unwrap().unwrap();
    stored.record.stop(None, at(1)).unwrap();
    let delta = Delta::capture(&mut stored.record, at(1));
    assert_retryable(store.commit(arn, 1, delta.clone()).await, "commit");
    assert_retryable(store.claim_due(T0, "w", at(30), 10).await, "claim");
    assert_eq!(store.load(arn).await.unwrap().unwrap().version, 1);

    lock.rollback().await.unwrap();
    assert_eq!(
        store.commit(arn, 1, delta).await.unwrap(),
        2,
        "the same commit succeeds once the lock is gone"
    );
}
