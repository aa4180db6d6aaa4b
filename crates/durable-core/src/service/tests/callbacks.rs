use super::*;
use crate::model::{
    CallbackOptions, ExecutionStatus, InvocationOutput, OperationAction::*, OperationStatus,
};

fn callback_start(id: &str, timeout: Option<u64>, heartbeat: Option<u64>) -> OperationUpdate {
    OperationUpdate {
        callback_options: Some(CallbackOptions {
            timeout_seconds: timeout,
            heartbeat_timeout_seconds: heartbeat,
        }),
        ..update(id, OperationType::Callback, Start)
    }
}

/// Starts callback `cb` and suspends; returns its callback id.
fn suspended_on_callback(h: &mut Harness, timeout: Option<u64>, heartbeat: Option<u64>) -> String {
    let response = h.ok(vec![callback_start("cb", timeout, heartbeat)], T0);
    let callback_id = response.new_execution_state.operations[0]
        .callback_details
        .as_ref()
        .and_then(|d| d.callback_id.clone())
        .unwrap();
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    callback_id
}

#[test]
fn callback_start_assigns_an_id_that_leads_back() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, Some(30), Some(5));
    let reference = parse_callback_id(&callback_id).unwrap();
    assert_eq!(
        (
            reference.execution_arn.as_str(),
            reference.operation_id.as_str()
        ),
        (h.record.arn(), "cb")
    );
    let json = serde_json::to_value(&h.record.history()[1]).unwrap();
    assert_eq!(json["EventType"], "CallbackStarted");
    assert_eq!(
        json["CallbackStartedDetails"]["CallbackId"],
        callback_id.as_str()
    );
    assert_eq!(json["CallbackStartedDetails"]["Timeout"], 30);
    assert_eq!(json["CallbackStartedDetails"]["HeartbeatTimeout"], 5);
    assert_eq!(h.record.next_wake_up(), Some(at(5)));
    assert_eq!(h.record.next_wake_up_excluding_deadlines(), None);
    h.begin(T0);
    assert!(
        h.rejected(vec![callback_start("cb", None, None)])
            .contains("START is not allowed on a CALLBACK")
    );
}

#[test]
fn callback_success_wakes_the_execution() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, None, None);
    assert!(!h.record.needs_invocation());
    h.record
        .callback_succeeded(&h.config, &callback_id, "{\"ok\":true}".into(), at(1))
        .unwrap();
    let op = h.op("cb");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.result(), Some("{\"ok\":true}"));
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["CallbackSucceededDetails"]["Result"]["Payload"],
        "{\"ok\":true}"
    );
    assert!(h.record.needs_invocation());
    let again = h
        .record
        .callback_succeeded(&h.config, &callback_id, "x".into(), at(2));
    assert!(matches!(
        again,
        Err(ServiceError::CallbackNotActive {
            status: OperationStatus::Succeeded,
            ..
        })
    ));
    assert!(matches!(
        h.record.callback_heartbeat(&callback_id, at(2)),
        Err(ServiceError::CallbackNotActive { .. })
    ));
}

#[test]
fn an_empty_callback_success_has_no_payload() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, None, None);
    h.record
        .callback_succeeded(&h.config, &callback_id, String::new(), at(1))
        .unwrap();
    let op = h.op("cb");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.result(), None);
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(json["EventType"], "CallbackSucceeded");
    assert!(
        json["CallbackSucceededDetails"]["Result"]
            .get("Payload")
            .is_none()
    );
    assert!(h.record.needs_invocation());
}

#[test]
fn callback_failure_records_the_error() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, None, None);
    h.record
        .callback_failed(&callback_id, boom(), at(1))
        .unwrap();
    assert_eq!(h.op("cb").status, OperationStatus::Failed);
    assert_eq!(h.op("cb").error(), Some(&boom()));
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["CallbackFailedDetails"]["Error"]["Payload"]["ErrorType"],
        "Boom"
    );
}

#[test]
fn unknown_callback_ids_are_not_found() {
    let mut h = Harness::new();
    suspended_on_callback(&mut h, None, None);
    let other = ExecutionRecord::start(execution_arn("fn", "x", "y"), "x", "fn", None, T0);
    for id in [
        "garbage",
        &super::super::ids::new_callback_id(other.arn(), "cb"),
    ] {
        assert!(matches!(
            h.record.callback_succeeded(&h.config, id, "1".into(), T0),
            Err(ServiceError::CallbackNotFound { .. })
        ));
    }
    let forged = super::super::ids::new_callback_id(h.record.arn(), "cb");
    assert!(matches!(
        h.record.callback_failed(&forged, boom(), T0),
        Err(ServiceError::CallbackNotFound { .. })
    ));
}

#[test]
fn callbacks_time_out() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, Some(10), None);
    assert!(!h.record.fire_due(at(9)));
    assert!(h.record.fire_due(at(10)));
    let op = h.op("cb");
    assert_eq!(op.status, OperationStatus::TimedOut);
    assert_eq!(
        op.error().unwrap().error_type.as_deref(),
        Some(CALLBACK_TIMEOUT_ERROR)
    );
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(json["EventType"], "CallbackTimedOut");
    assert_eq!(
        json["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"],
        "Callback.Timeout"
    );
    assert!(h.record.needs_invocation());
    assert!(matches!(
        h.record
            .callback_succeeded(&h.config, &callback_id, "1".into(), at(11)),
        Err(ServiceError::CallbackNotActive {
            status: OperationStatus::TimedOut,
            ..
        })
    ));
}

#[test]
fn heartbeats_push_the_heartbeat_deadline() {
    let mut h = Harness::new();
    let callback_id = suspended_on_callback(&mut h, Some(100), Some(5));
    h.record.callback_heartbeat(&callback_id, at(4)).unwrap();
    assert_eq!(h.record.next_wake_up(), Some(at(9)));
    assert!(!h.record.fire_due(at(8)));
    // A result that arrives after the deadline finds the callback timed out.
    let late = h
        .record
        .callback_succeeded(&h.config, &callback_id, "1".into(), at(9));
    assert!(matches!(late, Err(ServiceError::CallbackNotActive { .. })));
    assert_eq!(
        h.op("cb").error().unwrap().error_type.as_deref(),
        Some(CALLBACK_HEARTBEAT_ERROR)
    );
}

#[test]
fn chained_invokes_are_recorded_and_completed() {
    let mut h = Harness::new();
    let start = OperationUpdate {
        payload: Some("\"in\"".into()),
        chained_invoke_options: Some(crate::model::ChainedInvokeOptions {
            function_name: "child-fn".into(),
            tenant_id: None,
        }),
        ..update("ci", OperationType::ChainedInvoke, Start)
    };
    assert!(
        h.rejected(vec![update("ci", OperationType::ChainedInvoke, Start)])
            .contains("FunctionName")
    );
    h.ok(vec![start], T0);
    let request = h.record.active_chained_invokes().next().unwrap().clone();
    assert_eq!(
        (request.function_name.as_str(), request.payload.as_deref()),
        ("child-fn", Some("\"in\""))
    );
    let json = serde_json::to_value(h.last_event()).unwrap();
    assert_eq!(
        json["ChainedInvokeStartedDetails"]["FunctionName"],
        "child-fn"
    );
    assert_eq!(
        json["ChainedInvokeStartedDetails"]["Input"]["Payload"],
        "\"in\""
    );
    assert_eq!(
        json["ChainedInvokeStartedDetails"]["DurableExecutionArn"],
        request.execution_arn.as_str()
    );
    h.complete(InvocationOutcome::Returned(InvocationOutput::pending()), T0);
    h.record
        .complete_chained_invoke(
            &h.config,
            "ci",
            ChainedInvokeResult::Succeeded(Some("\"out\"".into())),
            at(1),
        )
        .unwrap();
    assert_eq!(h.op("ci").result(), Some("\"out\""));
    assert_eq!(h.last_event().event_type, EventType::ChainedInvokeSucceeded);
    assert!(h.record.needs_invocation());
    assert!(h.record.active_chained_invokes().next().is_none());
    let again = h.record.complete_chained_invoke(
        &h.config,
        "ci",
        ChainedInvokeResult::Succeeded(None),
        at(1),
    );
    assert!(matches!(
        again,
        Err(ServiceError::OperationNotActive { .. })
    ));
    let missing = h.record.complete_chained_invoke(
        &h.config,
        "nope",
        ChainedInvokeResult::Succeeded(None),
        at(1),
    );
    assert!(matches!(
        missing,
        Err(ServiceError::OperationNotFound { .. })
    ));
    assert_eq!(h.record.status(), ExecutionStatus::Running);
}

#[test]
fn chained_invokes_can_be_cancelled() {
    let mut h = Harness::new();
    let start = OperationUpdate {
        chained_invoke_options: Some(crate::model::ChainedInvokeOptions {
            function_name: "f".into(),
            tenant_id: None,
        }),
        ..update("ci", OperationType::ChainedInvoke, Start)
    };
    h.ok(vec![start], T0);
    h.ok(vec![update("ci", OperationType::ChainedInvoke, Cancel)], T0);
    assert_eq!(h.op("ci").status, OperationStatus::Stopped);
    assert_eq!(h.last_event().event_type, EventType::ChainedInvokeStopped);
    assert!(h.record.active_chained_invokes().next().is_none());
}
