//! Bad data and bad requests give clear errors and change nothing.

use durable_runtime::kit::{T0, Tracked};
use durable_runtime::{ListFilter, Persistence, PersistenceError, RuntimeError, Service};

use super::fresh;

/// Runs `sql` with `arn` bound to its one parameter, as a broken disk or a
/// bad migration would.
async fn vandalize(store: &crate::PostgresPersistence, sql: &'static str, arn: &str) {
    let done = sqlx::query(sql)
        .bind(arn)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

fn assert_corrupt(error: &PersistenceError, arn: &str, what: &str) {
    assert!(
        matches!(error, PersistenceError::Corrupt { .. }),
        "expected Corrupt, got {error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(arn), "{message}");
    assert!(message.contains(what), "{message}");
}

#[tokio::test]
async fn a_corrupt_header_is_a_clear_error() {
    let store = fresh().await;
    let tracked = Tracked::create(&store, "orders", "corrupt", T0).await;
    let arn = tracked.arn();
    vandalize(
        &store,
        "UPDATE executions SET header = '{not json' WHERE arn = $1",
        arn,
    )
    .await;
    let error = store.load(arn).await.unwrap_err();
    assert_corrupt(&error, arn, "the header is unreadable");

    let service = Service::new(store.clone());
    match service.describe(arn).await {
        Err(RuntimeError::Corrupt { arn: bad, message }) => {
            assert_eq!(bad, arn);
            assert!(message.contains("the header is unreadable"), "{message}");
        }
        other => panic!("expected a corrupt execution, got {other:?}"),
    }
    assert!(service.stop(arn, None).await.is_err());
    let version: i64 = sqlx::query_scalar("SELECT version FROM executions WHERE arn = $1")
        .bind(arn)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(version, 1, "nothing was written");
}

#[tokio::test]
async fn corrupt_operations_events_and_statuses_are_clear_errors() {
    let store = fresh().await;
    let mut tracked = Tracked::create(&store, "orders", "parts", T0).await;
    tracked.begin(&store, T0).await;
    let arn = tracked.arn();

    vandalize(
        &store,
        "UPDATE events SET body = 'garbage' WHERE arn = $1 AND event_id = 1",
        arn,
    )
    .await;
    let error = store.history_page(arn, None, 10).await.unwrap_err();
    assert_corrupt(&error, arn, "event 1 is unreadable");

    vandalize(
        &store,
        "UPDATE operations SET body = '[]' WHERE arn = $1 AND position = 0",
        arn,
    )
    .await;
    let error = store.load(arn).await.unwrap_err();
    assert_corrupt(&error, arn, "the operation at position 0 is unreadable");

    vandalize(
        &store,
        "UPDATE executions SET status = 'DONE?' WHERE arn = $1",
        arn,
    )
    .await;
    let error = store
        .list(&ListFilter::default(), None, 10)
        .await
        .unwrap_err();
    assert_corrupt(&error, arn, "the status \"DONE?\" is unknown");
}

#[tokio::test]
async fn a_missing_execution_operation_is_a_clear_error() {
    let store = fresh().await;
    let tracked = Tracked::create(&store, "orders", "no-exec-op", T0).await;
    let arn = tracked.arn();
    vandalize(
        &store,
        r#"UPDATE operations SET body = '{"Id":"x","Type":"STEP","StartTimestamp":0,"Status":"STARTED"}' WHERE arn = $1 AND position = 0"#,
        arn,
    )
    .await;
    let error = store.load(arn).await.unwrap_err();
    assert_corrupt(&error, arn, "is missing");
}

#[tokio::test]
async fn unknown_callbacks_and_stale_versions_change_nothing() {
    let store = fresh().await;
    let service = Service::new(store.clone());
    let arn = service
        .start_execution("orders", Some("o1"), Some("{}".into()))
        .await
        .unwrap()
        .arn;
    match service.callback_succeed("no-such-callback", "1").await {
        Err(RuntimeError::UnknownCallback { callback_id }) => {
            assert_eq!(callback_id, "no-such-callback");
        }
        other => panic!("expected an unknown callback, got {other:?}"),
    }
    let mut stored = store.load(&arn).await.unwrap().unwrap();
    stored.record.stop(None, T0).unwrap();
    let delta = durable_runtime::Delta::capture(&mut stored.record, T0);
    match store.commit(&arn, stored.version + 5, delta).await {
        Err(PersistenceError::Conflict { expected, .. }) => assert_eq!(expected, 6),
        other => panic!("a stale version must conflict, got {other:?}"),
    }
    let described = service.describe(&arn).await.unwrap();
    assert_eq!(described.version, 1, "nothing was written");
    assert_eq!(described.status.as_str(), "RUNNING");
}

#[tokio::test]
async fn unreachable_servers_and_bad_urls_are_clear_errors() {
    let error = crate::PostgresPersistence::connect("postgres://u@h:notaport/db")
        .await
        .unwrap_err();
    assert!(
        matches!(error, crate::ConnectError::InvalidUrl { .. }),
        "{error:?}"
    );
    let config = crate::PostgresConfig::new("postgres://postgres@127.0.0.1:1/x")
        .unwrap()
        .acquire_timeout(std::time::Duration::from_secs(2));
    let error = crate::PostgresPersistence::connect_with(&config)
        .await
        .unwrap_err();
    assert!(
        matches!(error, crate::ConnectError::Connect { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("127.0.0.1:1/x"), "{error}");
}
