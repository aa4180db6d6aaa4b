use super::*;
use crate::model::EventType::*;
use crate::model::{InvocationOutput, OperationAction::*, OperationStatus};

#[test]
fn a_wait_fires_at_its_scheduled_end() {
    let mut h = Harness::new();
    let response = h.ok(vec![wait_start("w1", 3600)], at(1));
    let op = &response.new_execution_state.operations[0];
    assert_eq!(op.status, OperationStatus::Started);
    assert_eq!(
        op.wait_details.as_ref().unwrap().scheduled_end_timestamp,
        Some(at(3601))
    );
    let started = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(started["WaitStartedDetails"]["Duration"], 3600);
    assert_eq!(
        started["WaitStartedDetails"]["ScheduledEndTimestamp"],
        at(3601).as_millis()
    );
    h.complete(
        InvocationOutcome::Returned(InvocationOutput::pending()),
        at(1),
    );
    assert_eq!(h.record.next_wake_up(), Some(at(3601)));
    assert_eq!(h.record.next_wake_up_excluding_deadlines(), Some(at(3601)));
    assert!(!h.record.needs_invocation());

    assert!(!h.record.fire_due(at(3600)));
    assert!(h.record.fire_due(at(3601)));
    assert!(!h.record.fire_due(at(3602)), "a timer fires once");
    let op = h.op("w1");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.end_timestamp, Some(at(3601)));
    let succeeded = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(succeeded["EventType"], "WaitSucceeded");
    assert_eq!(
        succeeded["WaitSucceededDetails"],
        serde_json::json!({"Duration": 3600})
    );
    assert_eq!(succeeded["EventTimestamp"], at(3601).as_millis());
    assert!(h.record.needs_invocation());
    assert_eq!(h.record.next_wake_up(), None);
    assert_eq!(
        h.event_types(),
        [WaitStarted, InvocationCompleted, WaitSucceeded]
    );
}

#[test]
fn a_due_wait_shows_up_in_the_next_checkpoint_delta() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 1), step("s1", Start)], T0);
    let response = h.ok(vec![step_succeed("s1", "1")], at(2));
    assert_eq!(ids(&response), ["w1", "s1"]);
    assert_eq!(
        response.new_execution_state.operations[0].status,
        OperationStatus::Succeeded
    );
    let response = h.ok(vec![], at(3));
    assert!(ids(&response).is_empty(), "changes are reported once");
}

#[test]
fn cancel_ends_a_started_wait() {
    let mut h = Harness::new();
    h.ok(vec![wait_start("w1", 10)], T0);
    h.ok(vec![update("w1", OperationType::Wait, Cancel)], at(1));
    assert_eq!(h.op("w1").status, OperationStatus::Cancelled);
    assert_eq!(h.last_event().event_type, EventType::WaitCancelled);
    assert_eq!(h.record.next_wake_up(), None);
    assert!(!h.record.fire_due(at(20)));
    assert!(
        h.rejected(vec![update("w1", OperationType::Wait, Cancel)])
            .contains("status CANCELLED")
    );
}

#[test]
fn illegal_wait_updates_are_rejected() {
    let mut h = Harness::new();
    let no_options = update("w1", OperationType::Wait, Start);
    assert!(
        h.rejected(vec![no_options])
            .contains("WaitOptions.WaitSeconds is required")
    );
    assert!(
        h.rejected(vec![wait_start("w1", 0)])
            .contains("between 1 and")
    );
    assert!(
        h.rejected(vec![wait_start("w1", MAX_DELAY_SECONDS + 1)])
            .contains("between 1 and")
    );
    assert!(
        h.rejected(vec![update("w1", OperationType::Wait, Cancel)])
            .contains("new WAIT")
    );
    h.ok(vec![wait_start("w1", 5)], T0);
    assert!(
        h.rejected(vec![wait_start("w1", 5)])
            .contains("START is not allowed on a WAIT")
    );
    assert!(
        h.rejected(vec![update("w1", OperationType::Wait, Succeed)])
            .contains("SUCCEED")
    );
}
