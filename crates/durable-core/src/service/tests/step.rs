use super::*;
use crate::model::EventType::*;
use crate::model::{InvocationOutput, OperationAction::*, OperationStatus, RetryDetails};

#[test]
fn start_then_succeed_in_one_batch() {
    let mut h = Harness::new();
    let response = h.ok(vec![step("s1", Start), step_succeed("s1", "\"hi\"")], at(1));
    assert_eq!(ids(&response), ["s1"]);
    let op = h.op("s1");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.start_timestamp, at(1));
    assert_eq!(op.end_timestamp, Some(at(1)));
    let details = op.step_details.as_ref().unwrap();
    assert_eq!(
        (details.attempt, details.result.as_deref()),
        (1, Some("\"hi\""))
    );
    assert_eq!(
        h.event_types(),
        [EventType::StepStarted, EventType::StepSucceeded]
    );
    let event = h.last_event();
    assert_eq!(event.event_id, 3);
    assert_eq!(event.id.as_deref(), Some("s1"));
    assert_eq!(event.sub_type, Some(OperationSubType::Step));
    assert_eq!(event.event_timestamp, at(1));
    let json = serde_json::to_value(event).unwrap();
    assert_eq!(
        json["StepSucceededDetails"],
        serde_json::json!({"Result": {"Payload": "\"hi\"", "Truncated": false}, "RetryDetails": {"CurrentAttempt": 1}})
    );
}

#[test]
fn start_alone_records_a_started_step() {
    let mut h = Harness::new();
    let mut start = step("s1", Start);
    start.name = Some("fetch".into());
    h.ok(vec![start], T0);
    let op = h.op("s1");
    assert_eq!(op.status, OperationStatus::Started);
    assert_eq!(op.name.as_deref(), Some("fetch"));
    assert_eq!(op.step_details.as_ref().unwrap().attempt, 0);
    let event = h.last_event();
    assert_eq!(event.event_type, EventType::StepStarted);
    assert_eq!(event.name.as_deref(), Some("fetch"));
    assert_eq!(
        serde_json::to_value(event).unwrap()["StepStartedDetails"],
        serde_json::json!({})
    );
}

#[test]
fn retry_then_succeed_counts_attempts_and_records_the_expected_events() {
    let mut h = Harness::new();
    h.ok(
        vec![step("s1", Start), step_retry("s1", 3, Some(boom()))],
        T0,
    );
    let op = h.op("s1");
    assert_eq!(op.status, OperationStatus::Pending);
    let details = op.step_details.as_ref().unwrap();
    assert_eq!(details.attempt, 1);
    assert_eq!(details.next_attempt_timestamp, Some(at(3)));
    assert_eq!(details.error, Some(boom()));
    let failed = h.last_event();
    assert_eq!(failed.event_type, EventType::StepFailed);
    assert_eq!(failed.details.error.as_ref().unwrap().payload, boom());
    assert_eq!(
        failed.details.retry_details,
        Some(RetryDetails {
            current_attempt: 1,
            next_attempt_delay_seconds: Some(3)
        })
    );
    assert_eq!(h.record.next_wake_up(), Some(at(3)));

    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    assert!(!h.record.needs_invocation());
    assert!(!h.record.fire_due(at(2)));
    assert!(h.record.fire_due(at(3)));
    assert_eq!(h.op("s1").status, OperationStatus::Ready);
    assert!(h.record.needs_invocation());

    let envelope = h.begin(at(3));
    assert_eq!(
        envelope.updated_operation_ids.as_deref(),
        Some(&["s1".to_owned()][..])
    );
    let ready = &envelope.initial_execution_state.operations[1];
    assert_eq!(
        (ready.id.as_str(), ready.status),
        ("s1", OperationStatus::Ready)
    );
    h.ok(vec![step("s1", Start), step_succeed("s1", "\"ok\"")], at(3));
    let succeeded = h.last_event();
    assert_eq!(succeeded.event_type, EventType::StepSucceeded);
    assert_eq!(
        succeeded.details.retry_details,
        Some(RetryDetails {
            current_attempt: 2,
            next_attempt_delay_seconds: None
        })
    );
    assert_eq!(h.op("s1").step_details.as_ref().unwrap().attempt, 2);
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::succeeded(Some("\"ok\"".into()))),
        at(3),
    );

    assert_eq!(
        h.event_types(),
        [
            StepStarted,
            StepFailed,
            InvocationCompleted,
            StepStarted,
            StepSucceeded,
            InvocationCompleted,
            ExecutionSucceeded
        ]
    );
    let ids: Vec<u64> = h.record.history().iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
}

#[test]
fn a_retry_carrying_state_is_a_successful_check() {
    let mut h = Harness::new();
    let mut start = step("w1", Start);
    start.sub_type = Some(OperationSubType::WaitForCondition);
    let mut retry = step_retry("w1", 2, None);
    retry.sub_type = Some(OperationSubType::WaitForCondition);
    retry.payload = Some("1".into());
    h.ok(vec![start, retry], T0);
    let details = h.op("w1").step_details.clone().unwrap();
    assert_eq!(details.result.as_deref(), Some("1"));
    let event = h.last_event();
    assert_eq!(event.event_type, EventType::StepSucceeded);
    assert_eq!(event.sub_type, Some(OperationSubType::WaitForCondition));
    assert_eq!(
        event.details.result.as_ref().unwrap().payload.as_deref(),
        Some("1")
    );
    assert_eq!(
        event
            .details
            .retry_details
            .unwrap()
            .next_attempt_delay_seconds,
        Some(2)
    );
}

#[test]
fn fail_records_the_error() {
    let mut h = Harness::new();
    h.ok(vec![step("s1", Start)], T0);
    h.ok(
        vec![OperationUpdate {
            error: Some(boom()),
            ..step("s1", Fail)
        }],
        at(1),
    );
    let op = h.op("s1");
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(op.step_details.as_ref().unwrap().attempt, 1);
    assert_eq!(op.error(), Some(&boom()));
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["StepFailedDetails"]["Error"]["Payload"]["ErrorType"],
        "Boom"
    );
    assert_eq!(
        json["StepFailedDetails"]["RetryDetails"],
        serde_json::json!({"CurrentAttempt": 1})
    );
}

#[test]
fn a_ready_step_may_close_without_a_new_start() {
    let mut h = Harness::new();
    h.ok(
        vec![step("s1", Start), step_retry("s1", 1, Some(boom()))],
        T0,
    );
    h.record.fire_due(at(1));
    h.ok(vec![step_succeed("s1", "2")], at(1));
    assert_eq!(h.op("s1").status, OperationStatus::Succeeded);
}

#[test]
fn illegal_step_transitions_are_rejected() {
    let mut h = Harness::new();
    assert!(
        h.rejected(vec![step_succeed("new", "1")])
            .contains("SUCCEED is not allowed on a new STEP")
    );
    assert!(
        h.rejected(vec![step_retry("new", 1, None)])
            .contains("new STEP")
    );
    assert!(h.rejected(vec![step("s", Cancel)]).contains("CANCEL"));
    h.ok(vec![step("s1", Start)], T0);
    assert!(
        h.rejected(vec![step("s1", Start)])
            .contains("status STARTED")
    );
    assert!(
        h.rejected(vec![step("s1", Retry)])
            .contains("StepOptions.NextAttemptDelaySeconds is required")
    );
    assert!(
        h.rejected(vec![step_retry("s1", 0, None)])
            .contains("between 1 and")
    );
    let both = OperationUpdate {
        payload: Some("1".into()),
        ..step_retry("s1", 1, Some(boom()))
    };
    assert!(h.rejected(vec![both]).contains("not both"));
    let fail_with_payload = OperationUpdate {
        payload: Some("1".into()),
        ..step("s1", Fail)
    };
    assert!(
        h.rejected(vec![fail_with_payload])
            .contains("FAIL cannot carry a Payload")
    );
    let succeed_with_error = OperationUpdate {
        error: Some(boom()),
        ..step("s1", Succeed)
    };
    assert!(
        h.rejected(vec![succeed_with_error])
            .contains("SUCCEED cannot carry an Error")
    );
    let start_with_payload = OperationUpdate {
        payload: Some("1".into()),
        ..step("s2", Start)
    };
    assert!(
        h.rejected(vec![start_with_payload])
            .contains("cannot carry a Payload")
    );

    h.ok(vec![step_retry("s1", 5, Some(boom()))], T0);
    assert!(
        h.rejected(vec![step_succeed("s1", "1")])
            .contains("status PENDING")
    );
    assert!(
        h.rejected(vec![step("s1", Start)])
            .contains("status PENDING")
    );
    h.record.fire_due(at(5));
    h.ok(vec![step_succeed("s1", "1")], at(5));
    assert!(
        h.rejected(vec![step("s1", Start)])
            .contains("status SUCCEEDED")
    );
    assert!(
        h.rejected(vec![step_succeed("s1", "1")])
            .contains("status SUCCEEDED")
    );
}

#[test]
fn oversized_payloads_are_rejected() {
    let config = ServiceConfig {
        max_operation_payload_bytes: 10,
        ..ServiceConfig::default()
    };
    let mut h = Harness::with_config(config);
    let message = h.rejected(vec![
        step("s1", Start),
        step_succeed("s1", "\"far too long\""),
    ]);
    assert!(
        message.contains("more than the limit of 10 bytes"),
        "{message}"
    );
    assert!(h.record.operation("s1").is_none());
    h.ok(vec![step("s1", Start), step_succeed("s1", "\"short\"")], T0);
}
