use super::*;

const SAMPLE: &str =
    include_str!("../../../../../shared/reference/samples/invocation-envelope.json");

#[test]
fn sample_envelope_round_trips() {
    let input: InvocationInput = serde_json::from_str(SAMPLE).unwrap();
    assert_eq!(input.initial_execution_state.operations.len(), 3);
    let exec = &input.initial_execution_state.operations[0];
    assert_eq!(exec.operation_type, OperationType::Execution);
    assert_eq!(
        exec.execution_details
            .as_ref()
            .unwrap()
            .input_payload
            .as_deref(),
        Some(r#"{"hello":"world"}"#)
    );
    let step = &input.initial_execution_state.operations[1];
    assert_eq!(step.sub_type, Some(OperationSubType::Step));
    assert_eq!(step.result(), Some("\"hello\""));
    assert_eq!(step.step_details.as_ref().unwrap().attempt, 1);
    let wait = &input.initial_execution_state.operations[2];
    assert_eq!(
        wait.wait_details.as_ref().unwrap().scheduled_end_timestamp,
        Some(Timestamp::from_millis(1_795_817_381_838))
    );
    assert_eq!(input.initial_execution_state.next_page(), None);
    assert_eq!(
        input.updated_operation_ids.as_deref(),
        Some(&["w1".to_owned()][..])
    );

    let original: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let mut again = serde_json::to_value(&input).unwrap();
    // An empty NextMarker is dropped on the way back; everything else is kept.
    again["InitialExecutionState"]["NextMarker"] = serde_json::json!("");
    assert_eq!(again, original);
}

#[test]
fn update_uses_wire_names() {
    let mut update = OperationUpdate::new("1", OperationType::Step, OperationAction::Retry);
    update.sub_type = Some(OperationSubType::Step);
    update.error = Some(ErrorObject::new("StepError", "boom"));
    update.step_options = Some(StepOptions {
        next_attempt_delay_seconds: Some(3),
    });
    let json = serde_json::to_value(&update).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "Id": "1", "Type": "STEP", "SubType": "Step", "Action": "RETRY",
            "Error": {"ErrorMessage": "boom", "ErrorType": "StepError"},
            "StepOptions": {"NextAttemptDelaySeconds": 3}
        })
    );
    let back: OperationUpdate = serde_json::from_value(json).unwrap();
    assert_eq!(back, update);
}

#[test]
fn event_details_member_is_named_after_the_type() {
    let event = Event {
        event_type: EventType::StepFailed,
        event_id: 3,
        event_timestamp: Timestamp::from_millis(5),
        id: Some("1".into()),
        name: None,
        sub_type: Some(OperationSubType::Step),
        parent_id: None,
        details: EventDetails {
            error: Some(EventError {
                payload: ErrorObject::new("E", "m"),
                truncated: false,
            }),
            retry_details: Some(RetryDetails {
                current_attempt: 1,
                next_attempt_delay_seconds: Some(1),
            }),
            ..EventDetails::default()
        },
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"],
        1
    );
    assert_eq!(
        json["StepFailedDetails"]["Error"]["Payload"]["ErrorType"],
        "E"
    );
    assert_eq!(json["EventType"], "StepFailed");
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn unknown_subtypes_are_kept() {
    let sub: OperationSubType = serde_json::from_str("\"Custom\"").unwrap();
    assert_eq!(sub, OperationSubType::Other("Custom".into()));
    assert_eq!(serde_json::to_string(&sub).unwrap(), "\"Custom\"");
    assert_eq!(
        OperationSubType::MapIteration.operation_type(),
        Some(OperationType::Context)
    );
}

#[test]
fn malformed_envelope_is_an_error() {
    assert!(serde_json::from_str::<InvocationInput>(r#"{"CheckpointToken":"t"}"#).is_err());
    assert!(serde_json::from_str::<InvocationInput>(
        r#"{"DurableExecutionArn":"a","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"Id":"x"}]}}"#
    )
    .is_err());
}
