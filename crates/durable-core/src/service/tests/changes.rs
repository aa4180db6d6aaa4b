//! Change tracking: `take_changes` and `from_parts`.

use super::*;
use crate::model::EventType::*;
use crate::model::{ExecutionStatus, InvocationOutput, OperationAction::*, OperationStatus};

fn changed_ids(changes: &RecordChanges) -> Vec<(u64, &str)> {
    changes
        .operations
        .iter()
        .map(|c| (c.position, c.operation.id.as_str()))
        .collect()
}

fn event_types(changes: &RecordChanges) -> Vec<EventType> {
    changes.events.iter().map(|e| e.event_type).collect()
}

/// The record rebuilt from its parts, as a backend would load it.
fn reload(record: &ExecutionRecord) -> ExecutionRecord {
    ExecutionRecord::from_parts(
        record.identity(),
        record.header(),
        record.operations().to_vec(),
    )
    .unwrap()
}

#[test]
fn a_new_record_is_all_changes_once() {
    let arn = execution_arn("fn", "exec", "exec-id");
    let mut record = ExecutionRecord::start(arn, "exec", "fn", None, T0);
    let changes = record.take_changes();
    assert_eq!(changed_ids(&changes), [(0, "exec-id")]);
    assert_eq!(event_types(&changes), [ExecutionStarted]);
    assert_eq!(changes.events[0].event_id, 1);
    assert_eq!(changes.header.history_len(), 1);
    assert_eq!(changes.header.status(), ExecutionStatus::Running);
    let again = record.take_changes();
    assert!(again.operations.is_empty() && again.events.is_empty());
}

#[test]
fn checkpoints_list_only_what_they_touched() {
    let mut h = Harness::new();
    let _ = h.record.take_changes();
    h.ok(vec![step("s1", Start), wait_start("w1", 10)], T0);
    let changes = h.record.take_changes();
    assert_eq!(changed_ids(&changes), [(1, "s1"), (2, "w1")]);
    assert_eq!(event_types(&changes), [StepStarted, WaitStarted]);
    assert_eq!(changes.events[0].event_id, 2, "ExecutionStarted is event 1");

    h.ok(vec![step_succeed("s1", "1")], at(1));
    let changes = h.record.take_changes();
    assert_eq!(changed_ids(&changes), [(1, "s1")]);
    assert_eq!(event_types(&changes), [StepSucceeded]);
    assert_eq!(changes.header.history_len(), 4);

    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(1),
    );
    assert!(h.record.fire_due(at(10)));
    let changes = h.record.take_changes();
    assert_eq!(changed_ids(&changes), [(2, "w1")]);
    assert_eq!(event_types(&changes), [InvocationCompleted, WaitSucceeded]);
    assert_eq!(
        changes.operations[0].operation.status,
        OperationStatus::Succeeded
    );
}

#[test]
fn a_refused_rule_lists_nothing() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 5)], T0);
    let _ = h.record.take_changes();
    h.rejected(vec![wait_start("w1", 5)]);
    assert!(h.record.checkpoint(&h.config, "stale", vec![], T0).is_err());
    let changes = h.record.take_changes();
    assert!(changes.operations.is_empty());
    assert!(changes.events.is_empty());
}

#[test]
fn changes_do_not_grow_with_the_history() {
    let mut h = Harness::new();
    for i in 0..500 {
        h.ok(
            vec![
                step(&format!("s{i}"), Start),
                step_succeed(&format!("s{i}"), "1"),
            ],
            T0,
        );
    }
    let _ = h.record.take_changes();
    h.ok(vec![step("last", Start), step_succeed("last", "2")], at(1));
    let changes = h.record.take_changes();
    assert_eq!(changed_ids(&changes), [(501, "last")]);
    assert_eq!(event_types(&changes), [StepStarted, StepSucceeded]);
    assert_eq!(changes.events[0].event_id, 1002);
}

#[test]
fn a_rebuilt_record_behaves_like_the_original() {
    let mut h = Harness::new();
    h.ok(vec![step("s1", Start), wait_start("w1", 10)], T0);
    let mut rebuilt = reload(&h.record);
    assert!(rebuilt.history().is_empty(), "the history is not loaded");
    assert_eq!(rebuilt.history_len(), h.record.history_len());
    assert_eq!(rebuilt.operations(), h.record.operations());
    assert_eq!(rebuilt.next_wake_up(), Some(at(10)));
    let changes = rebuilt.take_changes();
    assert!(changes.operations.is_empty() && changes.events.is_empty());
    assert_eq!(changes.header, h.record.header());

    // The same rule on both gives the same changes, event ids included.
    let _ = h.record.take_changes();
    let token = h.token.clone();
    let update = || vec![step_succeed("s1", "\"done\"")];
    h.record
        .checkpoint(&h.config, &token, update(), at(2))
        .unwrap();
    rebuilt
        .checkpoint(&h.config, &token, update(), at(2))
        .unwrap();
    let (a, b) = (h.record.take_changes(), rebuilt.take_changes());
    assert_eq!(a.operations, b.operations);
    assert_eq!(a.events, b.events);
    assert_eq!(b.events[0].event_id, 4);
    assert_eq!(rebuilt.history_len(), 4);
    // Tokens are random, so compare the rest of the header.
    assert_eq!(a.header.token_sequence, b.header.token_sequence);
    assert_eq!(a.header.status, b.header.status);
    assert_eq!(a.header.timers, b.header.timers);
}

#[test]
fn headers_survive_serialization() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 10), step("s1", Start)], T0);
    let header = h.record.header();
    let json = serde_json::to_string(&header).unwrap();
    let back: ExecutionHeader = serde_json::from_str(&json).unwrap();
    assert_eq!(back, header);
    let identity: ExecutionIdentity =
        serde_json::from_str(&serde_json::to_string(&h.record.identity()).unwrap()).unwrap();
    let rebuilt =
        ExecutionRecord::from_parts(identity, back, h.record.operations().to_vec()).unwrap();
    assert_eq!(rebuilt.timers(), h.record.timers());
}

#[test]
fn a_deserialized_record_has_no_changes() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 10)], T0);
    let json = serde_json::to_string(&h.record).unwrap();
    let mut back: ExecutionRecord = serde_json::from_str(&json).unwrap();
    let changes = back.take_changes();
    assert!(changes.operations.is_empty() && changes.events.is_empty());
    assert_eq!(back.history_len(), 2);
}

#[test]
fn inconsistent_parts_are_refused() {
    let h = Harness::new();
    let ops = h.record.operations().to_vec();
    let error =
        ExecutionRecord::from_parts(h.record.identity(), h.record.header(), vec![]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("EXECUTION operation \"exec-id\" is missing")
    );
    assert!(error.to_string().contains(h.record.arn()));

    let twice = vec![ops[0].clone(), ops[0].clone()];
    let error =
        ExecutionRecord::from_parts(h.record.identity(), h.record.header(), twice).unwrap_err();
    assert!(error.message.contains("share an id"), "{error}");

    let mut wrong = ops.clone();
    wrong[0].operation_type = OperationType::Step;
    let error =
        ExecutionRecord::from_parts(h.record.identity(), h.record.header(), wrong).unwrap_err();
    assert!(error.message.contains("is a STEP"), "{error}");

    let mut header = h.record.header();
    header.history_len = 0;
    let error = ExecutionRecord::from_parts(h.record.identity(), header, ops).unwrap_err();
    assert!(error.message.contains("history is empty"), "{error}");
}
