use std::time::Duration;

use super::*;
use crate::model::EventType::*;
use crate::model::{ExecutionStatus, InvocationOutput, OperationAction::Start, OperationStatus};

fn crash() -> InvocationOutcome {
    InvocationOutcome::Failed(ErrorObject::new("Runtime.ExitError", "the process died"))
}

#[test]
fn start_records_the_execution_operation_and_event() {
    let arn = execution_arn("fn", "n", "abc");
    let mut record = ExecutionRecord::start(arn.clone(), "n", "fn", Some("{\"a\":1}".into()), T0);
    assert_eq!(record.status(), ExecutionStatus::Running);
    assert!(record.needs_invocation());
    let op = record.operation("abc").unwrap();
    assert_eq!(
        (op.operation_type, op.status),
        (OperationType::Execution, OperationStatus::Started)
    );
    assert_eq!(
        op.execution_details
            .as_ref()
            .unwrap()
            .input_payload
            .as_deref(),
        Some("{\"a\":1}")
    );
    let json = serde_json::to_value(&record.history()[0]).unwrap();
    assert_eq!(json["EventType"], "ExecutionStarted");
    assert_eq!(json["EventId"], 1);
    assert_eq!(json["Id"], "abc");
    assert_eq!(
        json["ExecutionStartedDetails"]["Input"],
        serde_json::json!({"Payload": "{\"a\":1}", "Truncated": false})
    );

    let config = ServiceConfig::default();
    let envelope = record.begin_invocation(&config, "r1", T0).unwrap();
    assert_eq!(envelope.durable_execution_arn, arn);
    assert_eq!(envelope.initial_execution_state.operations.len(), 1);
    assert_eq!(envelope.updated_operation_ids, Some(vec![]));
    assert!(!record.needs_invocation());
    assert_eq!(record.active_invocation().unwrap().request_id, "r1");
    assert!(matches!(
        record.begin_invocation(&config, "r2", T0),
        Err(ServiceError::InvocationInProgress { .. })
    ));
}

#[test]
fn success_and_failure_end_the_execution_after_invocation_completed() {
    let mut h = Harness::new();
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::succeeded(Some("42".into()))),
        at(2),
    );
    assert_eq!(h.record.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        (h.record.result(), h.record.end_timestamp()),
        (Some("42"), Some(at(2)))
    );
    let completed = serde_json::to_value(&h.record.history()[1]).unwrap();
    assert_eq!(completed["EventType"], "InvocationCompleted");
    assert_eq!(
        completed["InvocationCompletedDetails"]["StartTimestamp"],
        T0.as_millis()
    );
    assert_eq!(
        completed["InvocationCompletedDetails"]["EndTimestamp"],
        at(2).as_millis()
    );
    assert_eq!(
        completed["InvocationCompletedDetails"]["RequestId"],
        "req-1"
    );
    assert!(
        completed["InvocationCompletedDetails"]
            .get("Error")
            .is_none()
    );
    assert_eq!(h.last_event().event_type, EventType::ExecutionSucceeded);
    assert!(!h.record.needs_invocation());
    assert!(matches!(
        h.record.complete_invocation(&h.config, crash(), at(3)),
        Err(ServiceError::NoActiveInvocation { .. })
    ));

    let mut h = Harness::new();
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::failed(Some(boom()))),
        T0,
    );
    assert_eq!(h.record.status(), ExecutionStatus::Failed);
    assert_eq!(h.record.error(), Some(&boom()));
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(json["EventType"], "ExecutionFailed");
    assert_eq!(
        json["ExecutionFailedDetails"]["Error"]["Payload"]["ErrorType"],
        "Boom"
    );
}

#[test]
fn pending_with_nothing_pending_fails_the_execution() {
    let mut h = Harness::new();
    h.ok(vec![step("s1", Start)], T0);
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    assert_eq!(h.record.status(), ExecutionStatus::Failed);
    assert_eq!(
        h.record.error().unwrap().error_type.as_deref(),
        Some(NOTHING_PENDING_ERROR)
    );
    assert_eq!(
        h.event_types(),
        [StepStarted, InvocationCompleted, ExecutionFailed]
    );
}

#[test]
fn pending_with_a_pending_operation_suspends() {
    for pending in [
        wait_start("w", 5),
        update("cb", OperationType::Callback, Start),
        OperationUpdate {
            chained_invoke_options: Some(crate::model::ChainedInvokeOptions {
                function_name: "other".into(),
                tenant_id: None,
            }),
            ..update("ci", OperationType::ChainedInvoke, Start)
        },
    ] {
        let mut h = Harness::new();
        h.ok(vec![pending], T0);
        h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
        assert_eq!(h.record.status(), ExecutionStatus::Running);
        assert!(!h.record.needs_invocation());
    }
}

#[test]
fn pending_with_a_ready_step_invokes_again() {
    let mut h = Harness::new();
    h.ok(
        vec![step("s1", Start), step_retry("s1", 1, Some(boom()))],
        T0,
    );
    h.ok(vec![], at(1));
    assert_eq!(h.op("s1").status, OperationStatus::Ready);
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(1),
    );
    assert!(h.record.needs_invocation());
}

#[test]
fn failed_invocations_are_retried_then_fail_the_execution() {
    let mut h = Harness::new();
    h.complete(crash(), T0);
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"],
        "Runtime.ExitError"
    );
    assert_eq!(h.record.status(), ExecutionStatus::Running);
    assert!(!h.record.needs_invocation(), "backoff first");
    assert_eq!(h.record.next_wake_up(), Some(at(5)));
    assert_eq!(h.record.timers()[0].kind, TimerKind::InvocationRetry);
    assert!(h.record.fire_due(at(5)));
    assert!(h.record.needs_invocation());
    for attempt in 2..=5 {
        h.begin(at(5 * attempt));
        h.complete(crash(), at(5 * attempt));
        h.record.fire_due(at(5 * attempt + 5));
    }
    assert_eq!(h.record.status(), ExecutionStatus::Failed);
    let error = h.record.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Runtime.ExitError"));
    assert!(
        error
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("5 invocations failed in a row")
    );
    assert_eq!(h.record.invocation_count(), 5);
}

#[test]
fn a_successful_invocation_resets_the_failure_count() {
    let config = ServiceConfig {
        max_consecutive_failed_invocations: 2,
        failed_invocation_backoff: Duration::ZERO,
        ..ServiceConfig::default()
    };
    let mut h = Harness::with_config(config);
    h.complete(crash(), T0);
    assert!(h.record.needs_invocation(), "no backoff configured");
    h.begin(T0);
    h.ok(vec![wait_start("w", 1)], T0);
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    h.record.fire_due(at(1));
    h.begin(at(1));
    h.complete(crash(), at(1));
    assert_eq!(h.record.status(), ExecutionStatus::Running);
    h.begin(at(1));
    h.complete(crash(), at(1));
    assert_eq!(h.record.status(), ExecutionStatus::Failed);
}

#[test]
fn executions_time_out() {
    let new = NewExecution {
        arn: execution_arn("fn", "n", "abc"),
        name: "n".into(),
        function_name: "fn".into(),
        input: None,
        execution_timeout_seconds: Some(60),
    };
    let mut record = ExecutionRecord::create(new, T0);
    assert_eq!(
        serde_json::to_value(&record.history()[0]).unwrap()["ExecutionStartedDetails"]["ExecutionTimeout"],
        60
    );
    assert_eq!(record.next_wake_up(), Some(at(60)));
    assert_eq!(record.next_wake_up_excluding_deadlines(), None);
    assert!(!record.fire_due(at(59)));
    assert!(record.fire_due(at(60)));
    assert_eq!(record.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        record.error().unwrap().error_type.as_deref(),
        Some(EXECUTION_TIMEOUT_ERROR)
    );
    assert_eq!(
        record.history().last().unwrap().event_type,
        EventType::ExecutionTimedOut
    );
    assert_eq!(record.next_wake_up(), None);
}

#[test]
fn stop_ends_the_execution_and_fences_the_invocation() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w", 100)], T0);
    h.record.stop(Some(boom()), at(1)).unwrap();
    assert_eq!(h.record.status(), ExecutionStatus::Stopped);
    assert_eq!(h.op("exec-id").status, OperationStatus::Stopped);
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(json["EventType"], "ExecutionStopped");
    assert_eq!(
        json["ExecutionStoppedDetails"]["Error"]["Payload"]["ErrorType"],
        "Boom"
    );
    assert!(matches!(
        h.checkpoint(vec![], at(1)),
        Err(ServiceError::ExecutionEnded { .. })
    ));
    assert!(matches!(
        h.record.stop(None, at(2)),
        Err(ServiceError::ExecutionEnded { .. })
    ));
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(2),
    );
    assert_eq!(h.record.status(), ExecutionStatus::Stopped);
    assert_eq!(h.last_event().event_type, EventType::InvocationCompleted);
    assert_eq!(h.record.next_wake_up(), None);
    assert!(!h.record.fire_due(at(200)));
}

#[test]
fn updated_operation_ids_list_changes_made_while_suspended() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("a", 1), wait_start("b", 5)], T0);
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    h.record.fire_due(at(1));
    let envelope = h.begin(at(1));
    assert_eq!(envelope.updated_operation_ids, Some(vec!["a".to_owned()]));
}

#[test]
fn changes_delivered_in_a_delta_need_no_new_invocation() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("a", 1), wait_start("b", 5)], T0);
    // "a" fires during the invocation and reaches it through the delta.
    let response = h.ok(vec![], at(1));
    assert_eq!(ids(&response), ["a"]);
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(1),
    );
    assert!(!h.record.needs_invocation());
    assert_eq!(h.record.next_wake_up(), Some(at(5)));
}

#[test]
fn changes_after_the_last_checkpoint_invoke_again() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("a", 1), wait_start("b", 5)], T0);
    assert!(
        h.record.fire_due(at(1)),
        "fired while the invocation still runs"
    );
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(1),
    );
    assert!(h.record.needs_invocation());
    let envelope = h.begin(at(1));
    assert_eq!(
        envelope.updated_operation_ids,
        Some(vec![]),
        "not changed while suspended"
    );
}
