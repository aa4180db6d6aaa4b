use super::*;
use crate::model::EventType::*;
use crate::model::{ExecutionStatus, InvocationOutput, OperationAction::*, OperationStatus};

#[test]
fn an_invalid_update_leaves_the_whole_batch_unapplied() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w0", 100)], T0);
    let history = h.record.history().len();
    let before = h.record.clone();
    let error = h
        .checkpoint(vec![step("s1", Start), step_succeed("s2", "1")], T0)
        .unwrap_err();
    assert!(
        matches!(&error, ServiceError::InvalidUpdate { index: 1, operation_id, .. } if operation_id == "s2"),
        "{error:?}"
    );
    assert!(
        h.record.operation("s1").is_none(),
        "the valid first update was not applied"
    );
    assert_eq!(h.record.history().len(), history);
    assert_eq!(h.record, before);
    // The token was not used up by the rejected call.
    h.ok(vec![step("s1", Start)], T0);
}

#[test]
fn tokens_are_single_use() {
    let mut h = Harness::new();
    let first = h.token.clone();
    h.ok(vec![step("s1", Start)], T0);
    let stale = h.record.checkpoint(&h.config, &first, vec![], T0);
    assert!(matches!(stale, Err(ServiceError::StaleToken { .. })));
    let guessed = h.record.checkpoint(&h.config, "made-up", vec![], T0);
    assert!(matches!(guessed, Err(ServiceError::StaleToken { .. })));
    assert!(matches!(
        h.record.state(&h.config, &first, None),
        Err(ServiceError::StaleToken { .. })
    ));
    let current = h.token.clone();
    h.record.state(&h.config, &current, None).unwrap();
    h.ok(vec![], T0);
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::succeeded(None)),
        T0,
    );
    let ended = h.record.checkpoint(&h.config, &h.token, vec![], T0);
    assert!(matches!(ended, Err(ServiceError::ExecutionEnded { .. })));
}

#[test]
fn a_finished_invocation_token_is_stale() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 1)], T0);
    let token = h.token.clone();
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    let stale = h.record.checkpoint(&h.config, &token, vec![], T0);
    assert!(matches!(stale, Err(ServiceError::StaleToken { .. })));
    let envelope = h.begin(at(1));
    assert_ne!(envelope.checkpoint_token, token);
}

#[test]
fn one_update_per_id_except_start_and_close() {
    let mut h = Harness::new();
    let message = h.rejected(vec![
        step("s1", Start),
        step_succeed("s1", "1"),
        step_succeed("s1", "2"),
    ]);
    assert!(
        message.contains("already updates this operation"),
        "{message}"
    );
    assert!(
        h.rejected(vec![step("s1", Start), step("s1", Start)])
            .contains("already updates")
    );
    let wait_twice = vec![
        wait_start("w1", 5),
        update("w1", OperationType::Wait, Cancel),
    ];
    assert!(h.rejected(wait_twice).contains("already updates"));
    h.ok(vec![step("s1", Start)], T0);
    assert!(
        h.rejected(vec![step_succeed("s1", "1"), step_succeed("s1", "1")])
            .contains("already updates")
    );
    h.ok(
        vec![
            context("c1", Start),
            OperationUpdate {
                error: Some(boom()),
                ..context("c1", Fail)
            },
        ],
        T0,
    );
}

#[test]
fn recorded_identity_cannot_change() {
    let mut h = Harness::new();
    let mut start = step("s1", Start);
    start.name = Some("a".into());
    h.ok(vec![start], T0);
    let renamed = OperationUpdate {
        name: Some("b".into()),
        ..step_succeed("s1", "1")
    };
    assert!(
        h.rejected(vec![renamed])
            .contains("inconsistent operation: recorded Name")
    );
    let resubtyped = OperationUpdate {
        sub_type: Some(OperationSubType::WaitForCondition),
        ..step_succeed("s1", "1")
    };
    assert!(h.rejected(vec![resubtyped]).contains("recorded SubType"));
    let retyped = wait_start("s1", 1);
    assert!(
        h.rejected(vec![retyped])
            .contains("recorded as STEP, updated as WAIT")
    );
    h.ok(vec![context("c1", Start)], T0);
    assert!(
        h.rejected(vec![child(step_succeed("s1", "1"), "c1")])
            .contains("recorded ParentId")
    );
    // Leaving the identity out is fine.
    let mut bare = step_succeed("s1", "1");
    bare.sub_type = None;
    h.ok(vec![bare], T0);
}

#[test]
fn ids_names_and_subtypes_are_checked() {
    let mut h = Harness::new();
    assert!(
        h.rejected(vec![step("has space", Start)])
            .contains("letters, digits")
    );
    assert!(
        h.rejected(vec![step(&"x".repeat(65), Start)])
            .contains("1 to 64")
    );
    assert!(h.rejected(vec![step("", Start)]).contains("1 to 64"));
    assert!(
        h.rejected(vec![OperationUpdate {
            name: Some(String::new()),
            ..step("s1", Start)
        }])
        .contains("Name")
    );
    let wrong = OperationUpdate {
        sub_type: Some(OperationSubType::Wait),
        ..step("s1", Start)
    };
    assert!(
        h.rejected(vec![wrong])
            .contains("SubType Wait belongs to WAIT operations")
    );
    assert!(
        h.rejected(vec![step("exec-id", Start)])
            .contains("names the EXECUTION operation")
    );
    let custom = OperationUpdate {
        sub_type: Some(OperationSubType::Other("Custom".into())),
        ..step("s1", Start)
    };
    h.ok(vec![custom], T0);
}

#[test]
fn execution_updates_record_the_outcome_for_the_end_of_the_invocation() {
    let mut h = Harness::new();
    let exec = |action| update("exec-id", OperationType::Execution, action);
    let result = |id: &str| OperationUpdate {
        payload: Some("\"big\"".into()),
        ..update(id, OperationType::Execution, Succeed)
    };
    assert!(
        h.rejected(vec![result("exec-id"), step("s1", Start)])
            .contains("must be the last")
    );
    assert!(
        h.rejected(vec![result("exec-id"), result("exec-id")])
            .contains("must be the last")
    );
    assert!(
        h.rejected(vec![result("other")])
            .contains("must name the EXECUTION operation")
    );
    assert!(
        h.rejected(vec![exec(Start)])
            .contains("not allowed on the EXECUTION operation")
    );
    let fail_with_payload = OperationUpdate {
        payload: Some("1".into()),
        ..exec(Fail)
    };
    assert!(
        h.rejected(vec![fail_with_payload])
            .contains("FAIL cannot carry a Payload")
    );

    let response = h.ok(
        vec![
            step("s1", Start),
            step_succeed("s1", "1"),
            result("execution-result-1700000000000"),
        ],
        T0,
    );
    assert_eq!(
        response.checkpoint_token, None,
        "no token once the outcome is recorded"
    );
    assert_eq!(ids(&response), ["s1"]);
    assert_eq!(h.record.status(), ExecutionStatus::Running);
    let after = h.record.checkpoint(&h.config, &h.token, vec![], T0);
    assert!(matches!(after, Err(ServiceError::ExecutionEnded { .. })));

    h.complete(
        InvocationOutcome::Returned(InvocationOutput::succeeded(Some(String::new()))),
        at(1),
    );
    assert_eq!(h.record.status(), ExecutionStatus::Succeeded);
    assert_eq!(h.record.result(), Some("\"big\""));
    assert_eq!(h.op("exec-id").status, OperationStatus::Succeeded);
    assert_eq!(
        h.event_types(),
        [
            StepStarted,
            StepSucceeded,
            InvocationCompleted,
            ExecutionSucceeded
        ]
    );
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["ExecutionSucceededDetails"]["Result"]["Payload"],
        "\"big\""
    );
}

#[test]
fn state_pages_through_visible_operations() {
    let config = ServiceConfig {
        page_size: 2,
        ..ServiceConfig::default()
    };
    let mut h = Harness::with_config(config);
    assert_eq!(h.envelope.initial_execution_state.next_marker, None);
    h.ok((1..=4).map(|i| step(&format!("s{i}"), Start)).collect(), T0);
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = h
            .record
            .state(&h.config, &h.token, marker.as_deref())
            .unwrap();
        assert!(page.operations.len() <= 2);
        seen.extend(page.operations.iter().map(|op| op.id.clone()));
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["exec-id", "s1", "s2", "s3", "s4"]);
    let bad = h.record.state(&h.config, &h.token, Some("zzz"));
    assert!(matches!(bad, Err(ServiceError::InvalidMarker { .. })));
    h.ok(vec![wait_start("w", 1)], T0);
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    let envelope = h.begin(at(1));
    assert_eq!(envelope.initial_execution_state.operations.len(), 2);
    assert_eq!(envelope.initial_execution_state.next_page(), Some("2"));
}

#[test]
fn records_survive_serialization() {
    let mut h = Harness::new();
    h.ok(vec![step("s1", Start), wait_start("w1", 10)], T0);
    let json = serde_json::to_string(&h.record).unwrap();
    let mut back: ExecutionRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h.record);
    assert_eq!(
        back.operation("w1").unwrap().status,
        OperationStatus::Started
    );
    assert_eq!(back.next_wake_up(), Some(at(10)));
    back.checkpoint(&h.config, &h.token, vec![step_succeed("s1", "1")], T0)
        .unwrap();
    assert_eq!(
        back.operation("s1").unwrap().status,
        OperationStatus::Succeeded
    );
}

#[test]
fn store_errors_keep_their_meaning() {
    use crate::store::StoreError;
    let stale: StoreError = ServiceError::StaleToken {
        execution_arn: "a".into(),
    }
    .into();
    assert!(matches!(stale, StoreError::StaleToken { .. }));
    let missing: StoreError = ServiceError::ExecutionNotFound {
        execution_arn: "a".into(),
    }
    .into();
    assert!(matches!(missing, StoreError::NotFound { .. }));
    let ended: StoreError = ServiceError::ExecutionEnded {
        execution_arn: "a".into(),
    }
    .into();
    assert!(matches!(ended, StoreError::ExecutionEnded { .. }));
    let invalid = ServiceError::InvalidUpdate {
        index: 0,
        operation_id: "x".into(),
        message: "m".into(),
    };
    assert!(
        matches!(StoreError::from(invalid), StoreError::Rejected { message } if message.contains("invalid update #0"))
    );
}

#[test]
fn a_checkpointed_outcome_survives_a_crash_of_its_invocation() {
    let mut h = Harness::new();
    let fail = OperationUpdate {
        error: Some(boom()),
        ..update("exec-id", OperationType::Execution, Fail)
    };
    h.ok(vec![fail], T0);
    let crash = ErrorObject::new("Runtime.ExitError", "died after the checkpoint");
    h.complete(InvocationOutcome::Failed(crash), at(1));
    assert_eq!(h.record.status(), ExecutionStatus::Failed);
    assert_eq!(h.record.error(), Some(&boom()));
    assert_eq!(h.event_types(), [InvocationCompleted, ExecutionFailed]);
}
