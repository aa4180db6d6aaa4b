//! The service's rules over the backend: stale tokens, unknown callback
//! ids, callback timeouts and heartbeats.

use durable_core::model::{
    CallbackOptions, ErrorObject, EventType, OperationStatus, OperationUpdate,
};
use durable_core::service::{CALLBACK_HEARTBEAT_ERROR, CALLBACK_TIMEOUT_ERROR};
use durable_core::{CheckpointStore, StoreError};

use super::clocked::Clocked;
use super::writes::full_history;
use super::{at, callback_start, step_start, wait_start};
use crate::error::RuntimeError;
use crate::persistence::Persistence;
use crate::service::ExecutionDescription;

/// START of a callback `id` with these timeouts, in seconds.
fn callback_with(id: &str, timeout: Option<u64>, heartbeat: Option<u64>) -> OperationUpdate {
    OperationUpdate {
        callback_options: Some(CallbackOptions {
            timeout_seconds: timeout,
            heartbeat_timeout_seconds: heartbeat,
        }),
        ..callback_start(id)
    }
}

/// The callback id of operation `id`.
fn callback_id(described: &ExecutionDescription, id: &str) -> String {
    described
        .operations
        .iter()
        .find(|op| op.id == id)
        .and_then(|op| op.callback_details.as_ref()?.callback_id.clone())
        .unwrap()
}

/// A checkpoint token the service already used is stale through the
/// [`CheckpointStore`]: nothing changes, not even the version.
pub async fn stale_tokens_are_rejected_by_the_service<P: Persistence + 'static>(persistence: P) {
    let kit = Clocked::new(persistence);
    let service = &kit.service;
    let arn = kit.start("orders", "stale").await;
    let envelope = service.begin_invocation(&arn, "r1").await.unwrap();
    let used = envelope.checkpoint_token;
    service
        .checkpoint(&arn, &used, vec![wait_start("w1", 60)])
        .await
        .unwrap();
    let before = kit.describe(&arn).await;
    let history = full_history(service.persistence(), &arn).await;

    kit.set(at(1));
    match service
        .checkpoint(&arn, &used, vec![step_start("s2")])
        .await
    {
        Err(StoreError::StaleToken { execution_arn }) => assert_eq!(execution_arn, arn),
        other => panic!("a used token must be stale, got {other:?}"),
    }
    let error = service
        .checkpoint(&arn, "forged", vec![])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("stale checkpoint token"),
        "{error}"
    );
    let after = kit.describe(&arn).await;
    assert_eq!(after.version, before.version, "the version is unchanged");
    assert_eq!(after, before, "nothing changed");
    assert_eq!(full_history(service.persistence(), &arn).await, history);
}

/// Completing, failing or heartbeating an unknown callback id is
/// `UnknownCallback` naming the id, and changes nothing.
pub async fn unknown_callback_ids_change_nothing<P: Persistence + 'static>(persistence: P) {
    let kit = Clocked::new(persistence);
    let service = &kit.service;
    let arn = kit.start("orders", "waiting").await;
    kit.run_pending(&arn, vec![callback_start("c1")]).await;
    let before = kit.describe(&arn).await;
    let history = full_history(service.persistence(), &arn).await;
    let known = callback_id(&before, "c1");
    let unknown = format!("{known}-unknown");

    let error = service.callback_succeed(&unknown, "1").await.unwrap_err();
    match &error {
        RuntimeError::UnknownCallback { callback_id } => assert_eq!(callback_id, &unknown),
        other => panic!("expected UnknownCallback, got {other:?}"),
    }
    assert!(error.to_string().contains(&unknown), "{error}");
    assert!(matches!(
        service.callback_succeed("no-such-callback", "1").await,
        Err(RuntimeError::UnknownCallback { .. })
    ));
    let failure = ErrorObject::new("Nope", "no");
    assert!(matches!(
        service.callback_fail(&unknown, failure).await,
        Err(RuntimeError::UnknownCallback { .. })
    ));
    assert!(matches!(
        service.callback_heartbeat(&unknown).await,
        Err(RuntimeError::UnknownCallback { .. })
    ));
    assert_eq!(kit.describe(&arn).await, before, "nothing changed");
    assert_eq!(full_history(service.persistence(), &arn).await, history);
}

/// A callback times out at its timeout with `Callback.Timeout`; heartbeats
/// push a heartbeat deadline out, and a missed one times the callback out
/// with `Callback.Heartbeat`.
pub async fn callbacks_time_out_and_heartbeats_push_the_deadline<P: Persistence + 'static>(
    persistence: P,
) {
    let kit = Clocked::new(persistence);
    let service = &kit.service;
    let timed = kit.start("orders", "timed").await;
    kit.run_pending(&timed, vec![callback_with("c1", Some(30), None)])
        .await;
    let beating = kit.start("orders", "beating").await;
    kit.run_pending(&beating, vec![callback_with("c1", Some(300), Some(10))])
        .await;
    let heartbeat_id = callback_id(&kit.describe(&beating).await, "c1");

    kit.set(at(8));
    service.callback_heartbeat(&heartbeat_id).await.unwrap();
    assert_eq!(kit.describe(&beating).await.next_wake_up, Some(at(18)));
    kit.set(at(15));
    for arn in [&timed, &beating] {
        assert!(!service.fire_due(arn).await.unwrap().needs_invocation);
    }
    let due = service
        .persistence()
        .claim_due(at(15), "w", at(16), 10)
        .await;
    assert!(due.unwrap().is_empty(), "nothing is due before a deadline");

    kit.set(at(18));
    let due = service
        .persistence()
        .claim_due(at(18), "w", at(19), 10)
        .await;
    assert_eq!(due.unwrap(), std::slice::from_ref(&beating));
    assert!(!service.fire_due(&timed).await.unwrap().needs_invocation);
    assert!(service.fire_due(&beating).await.unwrap().needs_invocation);
    kit.set(at(30));
    assert!(service.fire_due(&timed).await.unwrap().needs_invocation);

    for (arn, error_type, when) in [
        (&timed, CALLBACK_TIMEOUT_ERROR, at(30)),
        (&beating, CALLBACK_HEARTBEAT_ERROR, at(18)),
    ] {
        let described = kit.describe(arn).await;
        let callback = described.operations.iter().find(|op| op.id == "c1");
        let callback = callback.unwrap();
        assert_eq!(callback.status, OperationStatus::TimedOut, "{arn}");
        let error = callback.callback_details.as_ref().unwrap().error.as_ref();
        assert_eq!(
            error.and_then(|e| e.error_type.as_deref()),
            Some(error_type)
        );
        assert_eq!(callback.end_timestamp, Some(when));
        let history = full_history(service.persistence(), arn).await;
        assert_eq!(
            history.last().map(|e| (e.event_type, e.event_timestamp)),
            Some((EventType::CallbackTimedOut, when))
        );
        let id = callback_id(&described, "c1");
        assert!(
            service.callback_succeed(&id, "\"late\"").await.is_err(),
            "a timed-out callback cannot complete"
        );
    }
}
