//! Reading the invocation envelope Lambda hands a durable function.
//!
//! The envelope's first page of operations comes inline; the rest is read
//! through `GetDurableExecutionState` by [`durable_core::invocation::run_with`]
//! before the handler starts. Timestamps may be epoch milliseconds or ISO
//! strings; the SDK's model reads both.

use durable_core::model::InvocationInput;
use serde_json::Value;

use crate::error::LambdaError;

/// Reads `event` as a durable invocation envelope.
///
/// # Errors
/// [`LambdaError::InvalidEnvelope`] when the event is not an envelope (the
/// function was invoked directly, or without durable execution configured),
/// naming what is missing or wrong.
///
/// # Example
/// ```
/// let event = serde_json::json!({
///     "DurableExecutionArn": "fn/exec-1",
///     "CheckpointToken": "token-1",
///     "InitialExecutionState": {"Operations": [{
///         "Id": "exec-1", "Type": "EXECUTION", "Status": "STARTED",
///         "StartTimestamp": 1_795_817_380_706_i64,
///         "ExecutionDetails": {"InputPayload": "{\"hello\":\"world\"}"}
///     }]}
/// });
/// let input = durable_lambda::parse_envelope(event).unwrap();
/// assert_eq!(input.checkpoint_token, "token-1");
/// ```
pub fn parse_envelope(event: Value) -> Result<InvocationInput, LambdaError> {
    let Value::Object(fields) = &event else {
        return Err(LambdaError::InvalidEnvelope(format!(
            "expected a JSON object with DurableExecutionArn and CheckpointToken, got {}",
            kind(&event)
        )));
    };
    for required in ["DurableExecutionArn", "CheckpointToken"] {
        match fields.get(required) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) => {
                return Err(LambdaError::InvalidEnvelope(format!("{required} is empty")));
            }
            Some(other) => {
                return Err(LambdaError::InvalidEnvelope(format!(
                    "{required} must be a string, got {}",
                    kind(other)
                )));
            }
            None => {
                return Err(LambdaError::InvalidEnvelope(format!(
                    "{required} is missing; is durable execution configured for this function \
                     (DurableConfig), and is it invoked through the durable service?"
                )));
            }
        }
    }
    serde_json::from_value(event).map_err(|e| LambdaError::InvalidEnvelope(e.to_string()))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use durable_core::model::Timestamp;
    use serde_json::json;

    use super::*;

    fn envelope(start: &Value) -> Value {
        json!({
            "DurableExecutionArn": "fn/exec-1",
            "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [{
                "Id": "exec-1", "Type": "EXECUTION", "Status": "STARTED",
                "StartTimestamp": start,
            }], "NextMarker": "page-2"},
            "UpdatedOperationIds": ["w1"]
        })
    }

    #[test]
    fn timestamps_may_be_millis_or_iso_strings() {
        let expected = Timestamp::from_millis(1_766_055_235_057);
        for start in [
            json!(1_766_055_235_057_i64),
            json!("2025-12-18T10:53:55.057Z"),
            json!("2025-12-18 10:53:55.057000+00:00"),
        ] {
            let input = parse_envelope(envelope(&start)).unwrap();
            let op = &input.initial_execution_state.operations[0];
            assert_eq!(op.start_timestamp, expected, "{start}");
            assert_eq!(input.initial_execution_state.next_page(), Some("page-2"));
        }
    }

    #[test]
    fn the_sample_from_the_emulator_parses() {
        let sample = include_str!("../tests/data/invocation-envelope.json");
        let input = parse_envelope(serde_json::from_str(sample).unwrap()).unwrap();
        assert_eq!(input.initial_execution_state.operations.len(), 3);
        assert_eq!(input.updated_operation_ids, Some(vec!["w1".to_owned()]));
    }

    #[test]
    fn malformed_envelopes_say_what_is_wrong() {
        let error = parse_envelope(json!({"hello": "world"})).unwrap_err();
        assert!(
            error.to_string().contains("DurableExecutionArn is missing"),
            "{error}"
        );
        let error = parse_envelope(json!({"DurableExecutionArn": "a"})).unwrap_err();
        assert!(
            error.to_string().contains("CheckpointToken is missing"),
            "{error}"
        );
        let error = parse_envelope(json!([1])).unwrap_err();
        assert!(error.to_string().contains("got an array"), "{error}");
        let error = parse_envelope(envelope(&json!("yesterday"))).unwrap_err();
        assert!(error.to_string().contains("yesterday"), "{error}");
    }
}
