use super::*;
use crate::model::EventType::*;
use crate::model::{ContextOptions, InvocationOutput, OperationAction::*, OperationStatus};

fn context_succeed(id: &str, payload: Option<&str>, replay_children: bool) -> OperationUpdate {
    OperationUpdate {
        payload: payload.map(str::to_owned),
        context_options: Some(ContextOptions { replay_children }),
        ..context(id, Succeed)
    }
}

/// A context `c1` holding a succeeded step `c1s1` and a context `c1c2`
/// holding a step `c1c2s1`, all in one batch.
fn nested(h: &mut Harness) -> CheckpointResponse {
    h.ok(
        vec![
            context("c1", Start),
            child(step("c1s1", Start), "c1"),
            child(step_succeed("c1s1", "1"), "c1"),
            child(context("c1c2", Start), "c1"),
            child(step("c1c2s1", Start), "c1c2"),
        ],
        T0,
    )
}

#[test]
fn context_events_carry_the_result_only_when_there_is_one() {
    let mut h = Harness::new();
    h.ok(
        vec![
            context("c1", Start),
            context_succeed("c1", Some("\"r\""), false),
        ],
        T0,
    );
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["ContextSucceededDetails"],
        serde_json::json!({"Result": {"Payload": "\"r\"", "Truncated": false}})
    );
    assert_eq!(json["SubType"], "RunInChildContext");
    h.ok(
        vec![context("c2", Start), context_succeed("c2", None, false)],
        T0,
    );
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(json["ContextSucceededDetails"], serde_json::json!({}));
    h.ok(
        vec![
            context("c3", Start),
            OperationUpdate {
                error: Some(boom()),
                ..context("c3", Fail)
            },
        ],
        T0,
    );
    assert_eq!(h.op("c3").status, OperationStatus::Failed);
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["ContextFailedDetails"]["Error"]["Payload"]["ErrorMessage"],
        "it broke"
    );
    assert_eq!(
        h.event_types(),
        [
            ContextStarted,
            ContextSucceeded,
            ContextStarted,
            ContextSucceeded,
            ContextStarted,
            ContextFailed
        ]
    );
}

#[test]
fn children_carry_their_parent_id() {
    let mut h = Harness::new();
    let response = nested(&mut h);
    assert_eq!(ids(&response), ["c1", "c1s1", "c1c2", "c1c2s1"]);
    assert_eq!(h.op("c1c2s1").parent_id.as_deref(), Some("c1c2"));
    assert_eq!(h.last_event().parent_id.as_deref(), Some("c1c2"));
}

#[test]
fn children_of_a_completed_context_are_hidden() {
    let mut h = Harness::new();
    nested(&mut h);
    h.ok(
        vec![
            child(step_succeed("c1c2s1", "2"), "c1c2"),
            child(context_succeed("c1c2", Some("2"), false), "c1"),
        ],
        T0,
    );
    let response = h.ok(vec![context_succeed("c1", Some("3"), false)], T0);
    assert_eq!(ids(&response), ["c1"], "the delta leaves the children out");
    let state = h.record.state(&h.config, &h.token, None).unwrap();
    let visible: Vec<&str> = state.operations.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(visible, ["exec-id", "c1"]);
    assert_eq!(
        h.record.operations().len(),
        5,
        "hidden operations are still recorded"
    );

    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    let envelope = h.record.begin_invocation(&h.config, "r2", T0);
    // PENDING with nothing pending failed the execution.
    assert!(matches!(envelope, Err(ServiceError::ExecutionEnded { .. })));
}

#[test]
fn children_stay_visible_when_the_context_replays_them() {
    let mut h = Harness::new();
    nested(&mut h);
    h.ok(vec![context_succeed("c1", Some(""), true)], T0);
    h.ok(vec![wait_start("w1", 1)], T0);
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    let envelope = h.begin(at(1));
    let visible: Vec<&str> = envelope
        .initial_execution_state
        .operations
        .iter()
        .map(|op| op.id.as_str())
        .collect();
    assert_eq!(visible, ["exec-id", "c1", "c1s1", "c1c2", "c1c2s1", "w1"]);
    assert_eq!(
        h.op("c1").context_details.as_ref().unwrap().replay_children,
        Some(true)
    );
}

#[test]
fn parents_must_be_contexts_known_before_the_child() {
    let mut h = Harness::new();
    assert!(
        h.rejected(vec![child(step("s1", Start), "nope")])
            .contains("names no CONTEXT")
    );
    assert!(
        h.rejected(vec![child(step("s1", Start), "c1"), context("c1", Start)])
            .contains("names no CONTEXT"),
        "a parent started later in the batch does not count"
    );
    h.ok(vec![step("s0", Start)], T0);
    assert!(
        h.rejected(vec![child(step("s1", Start), "s0")])
            .contains("names a STEP operation, not a CONTEXT")
    );
    assert!(
        h.rejected(vec![child(context("c9", Start), "c9")])
            .contains("own parent")
    );
    h.ok(
        vec![context("c1", Start), child(step("s1", Start), "c1")],
        T0,
    );
}

#[test]
fn illegal_context_transitions_are_rejected() {
    let mut h = Harness::new();
    assert!(
        h.rejected(vec![context_succeed("c1", None, false)])
            .contains("new CONTEXT")
    );
    h.ok(vec![context("c1", Start)], T0);
    assert!(
        h.rejected(vec![context("c1", Start)])
            .contains("status STARTED")
    );
    assert!(h.rejected(vec![context("c1", Retry)]).contains("RETRY"));
    assert!(
        h.rejected(vec![OperationUpdate {
            payload: Some("1".into()),
            ..context("c1", Fail)
        }])
        .contains("FAIL cannot carry a Payload")
    );
    h.ok(vec![context_succeed("c1", None, false)], T0);
    assert!(
        h.rejected(vec![context_succeed("c1", None, false)])
            .contains("status SUCCEEDED")
    );
}
