use std::sync::Arc;
use std::time::Duration;

use durable_core::model::{
    CallbackOptions, ErrorObject, EventType, ExecutionStatus, InvocationOutput, OperationAction,
    OperationStatus, OperationType, OperationUpdate, Timestamp, WaitOptions,
};
use durable_core::service::{InvocationOutcome, ServiceConfig, ServiceError};
use durable_core::{CheckpointStore, StoreError};

use super::*;

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn store() -> (MemoryStore, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new(T0));
    (MemoryStore::with_clock(clock.clone()), clock)
}

fn wait(id: &str, seconds: u64) -> OperationUpdate {
    OperationUpdate {
        wait_options: Some(WaitOptions {
            wait_seconds: seconds,
        }),
        ..OperationUpdate::new(id, OperationType::Wait, OperationAction::Start)
    }
}

#[test]
fn virtual_clocks_move_only_when_told() {
    let clock = VirtualClock::new(T0);
    assert_eq!(clock.now(), T0);
    clock.advance(Duration::from_secs(2));
    assert_eq!(clock.now(), Timestamp::from_millis(T0.as_millis() + 2000));
    clock.advance_to(T0);
    assert_eq!(
        clock.now(),
        Timestamp::from_millis(T0.as_millis() + 2000),
        "advance_to never goes back"
    );
    clock.set(T0);
    assert_eq!(Clock::now(&clock), T0);
    assert!(SystemClock.now() > T0);
}

#[test]
fn starts_are_idempotent_by_name() {
    let (store, _) = store();
    let first = store.start_execution("fn", Some("order-1"), Some("1".into()));
    let again = store.start_execution("fn", Some("order-1"), Some("2".into()));
    assert_eq!(first, again);
    assert_ne!(first, store.start_execution("fn", Some("order-2"), None));
    assert_ne!(
        first,
        store.start_execution("other-fn", Some("order-1"), None)
    );
    assert_ne!(
        store.start_execution("fn", None, None),
        store.start_execution("fn", None, None)
    );
    assert_eq!(store.executions().len(), 5);
    let snapshot = store.describe(&first).unwrap();
    assert_eq!(snapshot.status, ExecutionStatus::Running);
    assert_eq!(
        snapshot.operations[0]
            .execution_details
            .as_ref()
            .unwrap()
            .input_payload
            .as_deref(),
        Some("1")
    );
    assert!(first.contains("/durable-execution/order-1/"));
    assert!(matches!(
        store.describe("nope"),
        Err(ServiceError::ExecutionNotFound { .. })
    ));
}

#[tokio::test]
async fn checkpoints_go_through_the_service_rules() {
    let (store, clock) = store();
    let arn = store.start_execution("fn", None, None);
    assert!(store.needs_invocation(&arn).unwrap());
    let envelope = store.begin_invocation(&arn, "r1").unwrap();
    let token = envelope.checkpoint_token;
    let response = store
        .checkpoint(&arn, &token, vec![wait("w1", 10)])
        .await
        .unwrap();
    let next = response.checkpoint_token.unwrap();
    assert_eq!(
        response.new_execution_state.operations[0].status,
        OperationStatus::Started
    );

    let stale = store.checkpoint(&arn, &token, vec![]).await;
    assert!(matches!(stale, Err(StoreError::StaleToken { .. })));
    let missing = store.checkpoint("nope", &next, vec![]).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })));
    let illegal = OperationUpdate::new("s1", OperationType::Step, OperationAction::Succeed);
    let rejected = store.checkpoint(&arn, &next, vec![illegal]).await;
    assert!(matches!(rejected, Err(StoreError::Rejected { .. })));

    // The wait is due by the next checkpoint: its delta reports it.
    clock.advance(Duration::from_secs(10));
    let response = store.checkpoint(&arn, &next, vec![]).await.unwrap();
    let ops = &response.new_execution_state.operations;
    assert_eq!(
        (ops[0].id.as_str(), ops[0].status),
        ("w1", OperationStatus::Succeeded)
    );
    let token = response.checkpoint_token.unwrap();
    let page = store.state(&arn, &token, None).await.unwrap();
    assert_eq!(page.operations.len(), 2);

    store
        .complete_invocation(
            &arn,
            InvocationOutcome::Returned(InvocationOutput::succeeded(None)),
        )
        .unwrap();
    let history = store.history(&arn).unwrap();
    let types: Vec<EventType> = history.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::ExecutionStarted,
            EventType::WaitStarted,
            EventType::WaitSucceeded,
            EventType::InvocationCompleted,
            EventType::ExecutionSucceeded
        ]
    );
}

#[tokio::test]
async fn timers_and_callbacks_are_managed_per_store() {
    let (store, clock) = store();
    let arn = store.start_execution("fn", None, None);
    let token = store.begin_invocation(&arn, "r1").unwrap().checkpoint_token;
    let callback = OperationUpdate {
        callback_options: Some(CallbackOptions {
            timeout_seconds: Some(60),
            heartbeat_timeout_seconds: None,
        }),
        ..OperationUpdate::new("cb", OperationType::Callback, OperationAction::Start)
    };
    let response = store
        .checkpoint(&arn, &token, vec![callback, wait("w1", 5)])
        .await
        .unwrap();
    let callback_id = response.new_execution_state.operations[0]
        .callback_details
        .as_ref()
        .unwrap()
        .callback_id
        .clone()
        .unwrap();
    store
        .complete_invocation(
            &arn,
            InvocationOutcome::Returned(InvocationOutput::pending()),
        )
        .unwrap();
    assert_eq!(
        store.next_wake_up(&arn).unwrap(),
        Some(T0.plus(Duration::from_secs(5)))
    );
    assert_eq!(
        store.next_wake_up_any(),
        Some(T0.plus(Duration::from_secs(5)))
    );
    assert!(!store.fire_due());
    clock.advance(Duration::from_secs(5));
    assert!(store.fire_due());
    assert!(store.needs_invocation(&arn).unwrap());

    store.send_callback_heartbeat(&callback_id).unwrap();
    store
        .send_callback_success(&callback_id, "{\"ok\":1}")
        .unwrap();
    assert!(matches!(
        store.send_callback_failure(&callback_id, ErrorObject::new("E", "m")),
        Err(ServiceError::CallbackNotActive { .. })
    ));
    assert!(matches!(
        store.send_callback_success("bogus", "1"),
        Err(ServiceError::CallbackNotFound { .. })
    ));
    let snapshot = store.describe(&arn).unwrap();
    assert_eq!(snapshot.callback_id("cb"), None, "unnamed");
    assert_eq!(
        snapshot.operation("cb").unwrap().result(),
        Some("{\"ok\":1}")
    );

    store.stop_execution(&arn, None).unwrap();
    assert_eq!(
        store.describe(&arn).unwrap().status,
        ExecutionStatus::Stopped
    );
    assert!(matches!(
        store.stop_execution(&arn, None),
        Err(ServiceError::ExecutionEnded { .. })
    ));
}

#[test]
fn configured_limits_apply() {
    let clock = Arc::new(VirtualClock::new(T0));
    let config = ServiceConfig {
        max_operation_payload_bytes: 4,
        ..ServiceConfig::default()
    };
    let store = MemoryStore::with_clock(clock).with_config(config.clone());
    assert_eq!(store.config(), &config);
    assert_eq!(store.clock().now(), T0);
}
