//! Bad input gives a clear error and changes nothing: a stale token, an
//! unknown callback id, a corrupt stored record.

use durable_core::StoreError;
use durable_core::model::{
    ErrorObject, OperationAction, OperationSubType, OperationType, OperationUpdate, WaitOptions,
};

use super::*;

fn step_start(id: &str) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Step),
        ..OperationUpdate::new(id, OperationType::Step, OperationAction::Start)
    }
}

fn wait_start(id: &str, seconds: u64) -> OperationUpdate {
    OperationUpdate {
        sub_type: Some(OperationSubType::Wait),
        wait_options: Some(WaitOptions {
            wait_seconds: seconds,
        }),
        ..OperationUpdate::new(id, OperationType::Wait, OperationAction::Start)
    }
}

#[tokio::test]
async fn stale_tokens_are_rejected_and_change_nothing() {
    let (service, _clock) = service();
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let first = service.begin_invocation(&arn, "r1").await.unwrap();
    let response = service
        .checkpoint(&arn, &first.checkpoint_token, vec![wait_start("w1", 60)])
        .await
        .unwrap();
    let next = response.checkpoint_token.unwrap();
    let before = service.describe(&arn).await.unwrap();

    let reused = service
        .checkpoint(&arn, &first.checkpoint_token, vec![step_start("s2")])
        .await;
    match reused {
        Err(StoreError::StaleToken { execution_arn }) => assert_eq!(execution_arn, arn),
        other => panic!("a used token must be stale, got {other:?}"),
    }
    assert!(matches!(
        service.state(&arn, &first.checkpoint_token, None).await,
        Err(StoreError::StaleToken { .. })
    ));
    assert_eq!(
        service.describe(&arn).await.unwrap(),
        before,
        "nothing changed"
    );

    // The next invocation's tokens fence the previous one out.
    service
        .complete_invocation(
            &arn,
            InvocationOutcome::Returned(InvocationOutput::pending()),
        )
        .await
        .unwrap();
    let second = service.begin_invocation(&arn, "r2").await.unwrap();
    let error = service
        .checkpoint(&arn, &next, vec![step_start("s2")])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("stale checkpoint token"),
        "{error}"
    );
    assert!(error.is_retryable());
    service
        .checkpoint(&arn, &second.checkpoint_token, vec![step_start("s2")])
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_callback_ids_are_clear_errors() {
    let (service, _clock) = service();
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let before = service.describe(&arn).await.unwrap();
    let error = service
        .callback_succeed("no-such-id", "1")
        .await
        .unwrap_err();
    assert!(matches!(error, RuntimeError::UnknownCallback { .. }));
    assert_eq!(
        error.to_string(),
        "unknown callback id \"no-such-id\": no execution has a callback with this id"
    );
    let failure = ErrorObject::new("Nope", "no");
    assert!(matches!(
        service.callback_fail("no-such-id", failure).await,
        Err(RuntimeError::UnknownCallback { .. })
    ));
    assert!(matches!(
        service.callback_heartbeat("").await,
        Err(RuntimeError::UnknownCallback { .. })
    ));
    assert_eq!(service.describe(&arn).await.unwrap(), before);
}

#[tokio::test]
async fn a_corrupt_stored_record_is_a_clear_error() {
    let (service, _clock) = service();
    let arn = service.start_execution("fn", None, None).await.unwrap().arn;
    let envelope = service.begin_invocation(&arn, "r1").await.unwrap();
    assert!(
        service
            .persistence()
            .overwrite_header(&arn, "{\"status\": 42")
    );

    let error = service.describe(&arn).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RuntimeError::Corrupt { .. }), "{error:?}");
    assert!(message.starts_with(&format!("stored data of execution {arn} is corrupt")));
    assert!(message.contains("the header is unreadable"), "{message}");
    assert!(matches!(
        service.stop(&arn, None).await,
        Err(RuntimeError::Corrupt { .. })
    ));

    let error = service
        .checkpoint(&arn, &envelope.checkpoint_token, vec![step_start("s1")])
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::Backend {
            retryable: false,
            ..
        }
    ));
    assert!(error.to_string().contains("is corrupt"), "{error}");
    // History and listings do not need the header and still work.
    assert_eq!(
        service.history(&arn, None, 10).await.unwrap().items.len(),
        1
    );
}

#[tokio::test]
async fn missing_executions_are_clear_errors() {
    let (service, _clock) = service();
    let arn = "arn:durable:lambda:local:000000000000:function:f:$LATEST/durable-execution/n/x";
    for error in [
        service.describe(arn).await.unwrap_err(),
        service.begin_invocation(arn, "r").await.unwrap_err(),
        service.stop(arn, None).await.unwrap_err(),
        service.fire_due(arn).await.unwrap_err(),
        service.history(arn, None, 10).await.unwrap_err(),
    ] {
        assert_eq!(error.to_string(), format!("execution {arn} not found"));
    }
    assert!(matches!(
        service.checkpoint(arn, "t", vec![]).await,
        Err(StoreError::NotFound { .. })
    ));
}
