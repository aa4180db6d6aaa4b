//! Racing claims and commits, from one store and from two stores on one file.

use std::collections::HashSet;
use std::sync::Arc;

use durable_runtime::kit::{T0, Tracked, at};
use durable_runtime::{Delta, Persistence, PersistenceError};

use super::TestDir;
use crate::SqlitePersistence;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_claims_never_share_an_execution() {
    let dir = TestDir::new("race");
    let path = dir.file("shared.db");
    let first = Arc::new(SqlitePersistence::open(&path).await.unwrap());
    let second = Arc::new(SqlitePersistence::open(&path).await.unwrap());
    for i in 0..40 {
        Tracked::create(&*first, "orders", &format!("o{i}"), T0).await;
    }
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let store = if w % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for _ in 0..40 {
                    let owner = format!("w{w}");
                    let claimed = store.claim_due(T0, &owner, at(60), 3).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_commits_at_one_version_have_one_winner() {
    let dir = TestDir::new("race-commit");
    let path = dir.file("shared.db");
    let first = Arc::new(SqlitePersistence::open(&path).await.unwrap());
    let second = Arc::new(SqlitePersistence::open(&path).await.unwrap());
    let tracked = Tracked::create(&*first, "orders", "contended", T0).await;
    let arn = tracked.arn().to_owned();
    // Every racer loads version 1 before any of them commits.
    let mut deltas = Vec::new();
    for i in 0..8 {
        let mut stored = first.load(&arn).await.unwrap().unwrap();
        stored.record.stop(None, at(i)).unwrap();
        deltas.push((stored.version, Delta::capture(&mut stored.record, at(i))));
    }
    let racers: Vec<_> = deltas
        .into_iter()
        .enumerate()
        .map(|(i, (version, delta))| {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let arn = arn.clone();
            tokio::spawn(async move { store.commit(&arn, version, delta).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(version) => {
                assert_eq!(version, 2);
                won += 1;
            }
            Err(PersistenceError::Conflict { expected: 1, .. }) => {}
            Err(other) => panic!("a losing commit must conflict, got {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one commit at version 1 wins");
    let stored = second.load(&arn).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    let history = second.history_page(&arn, None, 100).await.unwrap();
    assert_eq!(
        history.items.len(),
        2,
        "one start and one stop: {history:?}"
    );
}
