//! Bad envelopes fail the invocation with a clear error before any call.

use durable_core::{DurableContext, DurableError, DurableFunction};
use durable_lambda::testing::client_for;
use durable_lambda::{LambdaError, LambdaStore, handle_event};
use serde_json::json;

fn function() -> DurableFunction {
    DurableFunction::new(|(): (), _ctx: DurableContext| async { Ok::<_, DurableError>(1) })
}

/// A store whose endpoint nobody listens on: no call may be made.
fn unreachable_store() -> LambdaStore {
    LambdaStore::new(client_for("http://127.0.0.1:9"))
}

#[tokio::test]
async fn a_malformed_envelope_is_rejected_with_what_is_wrong() {
    let store = unreachable_store();
    let error = handle_event(&function(), &store, json!({"orderId": 7}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, LambdaError::InvalidEnvelope(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("DurableExecutionArn is missing"),
        "{message}"
    );
    assert!(message.contains("DurableConfig"), "{message}");
    let error = handle_event(&function(), &store, json!("hello"), None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("got a string"), "{error}");
    assert_eq!(store.calls().checkpoints() + store.calls().state_reads(), 0);
}

#[tokio::test]
async fn a_missing_checkpoint_token_is_rejected() {
    let store = unreachable_store();
    let event = json!({
        "DurableExecutionArn": "fn/exec-1",
        "InitialExecutionState": {"Operations": []}
    });
    let error = handle_event(&function(), &store, event, None)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "InvalidEnvelopeError");
    assert!(
        error.to_string().contains("CheckpointToken is missing"),
        "{error}"
    );
    assert_eq!(store.calls().checkpoints(), 0);
}

#[tokio::test]
async fn an_unreadable_operation_in_the_envelope_is_rejected() {
    let store = unreachable_store();
    let event = json!({
        "DurableExecutionArn": "fn/exec-1",
        "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": [{"Id": "exec-1", "Type": "NOPE"}]}
    });
    let error = handle_event(&function(), &store, event, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, LambdaError::InvalidEnvelope(_)),
        "{error:?}"
    );
}
