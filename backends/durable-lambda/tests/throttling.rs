//! Throttled checkpoint calls are retried with backoff, then reported as
//! `Throttled` (retryable: the service invokes again). A fake service
//! answers 429 the way `dex-local-runner` shapes its errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use durable_core::{CheckpointStore, StoreError};
use durable_lambda::LambdaStore;
use durable_lambda::testing::client_for;
use serde_json::json;

/// Serves a checkpoint route that throttles the first `throttled` calls.
async fn fake_service(throttled: usize) -> std::io::Result<(String, Arc<AtomicUsize>)> {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = Router::new().route(
        "/2025-12-01/durable-executions/{arn}/checkpoint",
        post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < throttled {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        axum::Json(json!({"Type": "TooManyRequestsException", "message": "Rate exceeded"})),
                    )
                } else {
                    (
                        StatusCode::OK,
                        axum::Json(json!({"CheckpointToken": "next", "NewExecutionState": {"Operations": []}})),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, seen))
}

#[tokio::test]
async fn a_throttled_checkpoint_is_retried_with_the_same_token() {
    let (url, seen) = fake_service(2).await.unwrap();
    let store = LambdaStore::new(client_for(&url));
    let response = store
        .checkpoint("fn/exec", "token", Vec::new())
        .await
        .unwrap();
    assert_eq!(response.checkpoint_token.as_deref(), Some("next"));
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(store.calls().checkpoints(), 3);
}

#[tokio::test]
async fn persistent_throttling_ends_the_invocation_with_a_retryable_error() {
    let (url, seen) = fake_service(usize::MAX).await.unwrap();
    let store = LambdaStore::new(client_for(&url));
    let error = store
        .checkpoint("fn/exec", "token", Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Throttled), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}
