//! Opening databases: paths and URLs, pragmas, migrations, reopening.

use durable_runtime::kit::{T0, Tracked, wait_start};
use durable_runtime::{Delta, Persistence, PersistenceError};

use super::TestDir;
use crate::{DEFAULT_PATH, MIGRATOR, SqlitePersistence};

#[tokio::test]
async fn files_open_in_wal_mode_with_foreign_keys_and_the_schema() {
    let dir = TestDir::new("pragmas");
    let store = dir.fresh().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(foreign_keys, 1);
    let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(busy_timeout >= 1000, "{busy_timeout}");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, i64::try_from(MIGRATOR.iter().count()).unwrap());
    assert_eq!(DEFAULT_PATH, "durable.db");
}

#[tokio::test]
async fn urls_open_too_and_reopening_keeps_the_data() {
    let dir = TestDir::new("url");
    let path = dir.file("by-url.db");
    let store = SqlitePersistence::open(&format!("sqlite://{path}"))
        .await
        .unwrap();
    let tracked = Tracked::create(&store, "orders", "kept", T0).await;
    store.close().await;
    let reopened = SqlitePersistence::open(&path).await.unwrap();
    let stored = reopened.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.record.identity(), tracked.record.identity());
    let error = SqlitePersistence::open("sqlite://x.db?mode=nonsense")
        .await
        .unwrap_err();
    assert!(
        matches!(error, crate::OpenError::InvalidLocation { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn misfit_deltas_name_what_does_not_fit() {
    let dir = TestDir::new("misfit");
    let store = dir.fresh().await;
    let mut tracked = Tracked::create(&store, "orders", "misfit", T0).await;
    tracked.begin(&store, T0).await;
    tracked
        .checkpoint(&store, vec![wait_start("w1", 10)], T0)
        .await;
    let mut moved = Delta::capture(&mut tracked.record.clone(), T0);
    moved.operations = vec![durable_core::service::ChangedOperation {
        position: 7,
        operation: tracked.record.operation("w1").unwrap().clone(),
    }];
    let error = store
        .commit(tracked.arn(), tracked.version, moved.clone())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("\"w1\" is at position 1, not 7"),
        "{error}"
    );
    let mut taken = moved.clone();
    let mut other = tracked.record.operation("w1").unwrap().clone();
    other.id = "new".into();
    taken.operations = vec![durable_core::service::ChangedOperation {
        position: 1,
        operation: other,
    }];
    let error = store
        .commit(tracked.arn(), tracked.version, taken)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("position 1 of new operation \"new\" is taken"),
        "{error}"
    );
    moved.operations.clear();
    moved.events = tracked.record.history()[1..2].to_vec();
    let error = store
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
    let stored = store.load(tracked.arn()).await.unwrap().unwrap();
    assert_eq!(stored.version, tracked.version, "nothing was written");
    assert_eq!(stored.record.operations(), tracked.record.operations());
}

#[tokio::test]
async fn claims_and_callback_lookups_use_their_indexes() {
    let dir = TestDir::new("plans");
    let store = dir.fresh().await;
    let plan = |sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sql)
                .bind("w")
                .bind(2)
                .bind(1)
                .bind(10)
                .fetch_all(&pool)
                .await
                .unwrap();
            rows.into_iter()
                .map(|(_, _, _, detail)| detail)
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let claim = plan(explain_claim()).await;
    assert!(claim.contains("executions_due_at"), "{claim}");
    let callbacks: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN SELECT arn FROM callbacks WHERE callback_id = ?")
            .bind("c")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let detail = &callbacks[0].3;
    assert!(detail.contains("PRIMARY KEY"), "{detail}");
}

/// The claim statement under `EXPLAIN QUERY PLAN`.
fn explain_claim() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| format!("EXPLAIN QUERY PLAN {}", crate::lease::CLAIM_DUE))
}
