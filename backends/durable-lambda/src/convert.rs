//! Conversions between the SDK's wire model and `aws-sdk-lambda`'s types.
//!
//! Both spell the same API; the SDK's model is serde-based (shared with the
//! envelope), the AWS crate's is builder-based.

use aws_sdk_lambda::primitives::DateTime;
use aws_sdk_lambda::types as aws;
use durable_core::model::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, ExecutionDetails,
    Operation, OperationUpdate, StepDetails, Timestamp, WaitDetails,
};
use serde::de::DeserializeOwned;

/// Why an operation from the service could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable operation from the durable API: {0}")]
pub struct ConversionError(String);

/// Reads a wire enum (`"STEP"`, `"SUCCEEDED"`, ...) into the SDK's model.
fn wire<T: DeserializeOwned>(what: &str, value: &str) -> Result<T, ConversionError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ConversionError(format!("unknown {what} {value:?}")))
}

fn timestamp(value: &DateTime) -> Result<Timestamp, ConversionError> {
    value
        .to_millis()
        .map(Timestamp::from_millis)
        .map_err(|e| ConversionError(format!("timestamp out of range: {e}")))
}

fn optional_timestamp(value: Option<&DateTime>) -> Result<Option<Timestamp>, ConversionError> {
    value.map(timestamp).transpose()
}

fn error_from_aws(error: &aws::ErrorObject) -> ErrorObject {
    ErrorObject {
        error_message: error.error_message().map(str::to_owned),
        error_type: error.error_type().map(str::to_owned),
        error_data: error.error_data().map(str::to_owned),
        stack_trace: error.stack_trace.clone(),
    }
}

fn error_to_aws(error: &ErrorObject) -> aws::ErrorObject {
    aws::ErrorObject::builder()
        .set_error_message(error.error_message.clone())
        .set_error_type(error.error_type.clone())
        .set_error_data(error.error_data.clone())
        .set_stack_trace(error.stack_trace.clone())
        .build()
}

/// An operation from the service, in the SDK's model.
pub fn operation_from_aws(op: &aws::Operation) -> Result<Operation, ConversionError> {
    let mut out = Operation::new(
        op.id(),
        wire("operation type", op.r#type().as_str())?,
        wire("operation status", op.status().as_str())?,
        timestamp(op.start_timestamp())?,
    );
    out.parent_id = op.parent_id().map(str::to_owned);
    out.name = op.name().map(str::to_owned);
    out.sub_type = op.sub_type().map(|s| s.to_owned().into());
    out.end_timestamp = optional_timestamp(op.end_timestamp())?;
    out.execution_details = op.execution_details().map(|d| ExecutionDetails {
        input_payload: d.input_payload().map(str::to_owned),
    });
    out.context_details = op.context_details().map(|d| ContextDetails {
        replay_children: d.replay_children(),
        result: d.result().map(str::to_owned),
        error: d.error().map(error_from_aws),
    });
    out.step_details = op
        .step_details()
        .map(|d| -> Result<StepDetails, ConversionError> {
            Ok(StepDetails {
                attempt: u32::try_from(d.attempt()).unwrap_or(0),
                next_attempt_timestamp: optional_timestamp(d.next_attempt_timestamp())?,
                result: d.result().map(str::to_owned),
                error: d.error().map(error_from_aws),
            })
        })
        .transpose()?;
    out.wait_details = op
        .wait_details()
        .map(|d| -> Result<WaitDetails, ConversionError> {
            Ok(WaitDetails {
                scheduled_end_timestamp: optional_timestamp(d.scheduled_end_timestamp())?,
            })
        })
        .transpose()?;
    out.callback_details = op.callback_details().map(|d| CallbackDetails {
        callback_id: d.callback_id().map(str::to_owned),
        result: d.result().map(str::to_owned),
        error: d.error().map(error_from_aws),
    });
    out.chained_invoke_details = op.chained_invoke_details().map(|d| ChainedInvokeDetails {
        result: d.result().map(str::to_owned),
        error: d.error().map(error_from_aws),
    });
    Ok(out)
}

/// Operations from the service, in the SDK's model.
pub fn operations_from_aws(ops: &[aws::Operation]) -> Result<Vec<Operation>, ConversionError> {
    ops.iter().map(operation_from_aws).collect()
}

/// Seconds as the API's `i32`, saturating (the API caps them far below).
fn seconds(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// An update in `aws-sdk-lambda`'s shape.
pub fn update_to_aws(update: &OperationUpdate) -> Result<aws::OperationUpdate, ConversionError> {
    let mut builder = aws::OperationUpdate::builder()
        .id(&update.id)
        .set_parent_id(update.parent_id.clone())
        .set_name(update.name.clone())
        .r#type(aws::OperationType::from(update.operation_type.as_str()))
        .set_sub_type(update.sub_type.as_ref().map(|s| s.as_str().to_owned()))
        .action(aws::OperationAction::from(update.action.as_str()))
        .set_payload(update.payload.clone())
        .set_error(update.error.as_ref().map(error_to_aws));
    if let Some(options) = update.context_options {
        builder = builder.context_options(
            aws::ContextOptions::builder()
                .replay_children(options.replay_children)
                .build(),
        );
    }
    if let Some(options) = update.step_options {
        builder = builder.step_options(
            aws::StepOptions::builder()
                .set_next_attempt_delay_seconds(options.next_attempt_delay_seconds.map(seconds))
                .build(),
        );
    }
    if let Some(options) = update.wait_options {
        builder = builder.wait_options(
            aws::WaitOptions::builder()
                .wait_seconds(seconds(options.wait_seconds))
                .build(),
        );
    }
    if let Some(options) = update.callback_options {
        builder = builder.callback_options(
            aws::CallbackOptions::builder()
                .timeout_seconds(options.timeout_seconds.map_or(0, seconds))
                .heartbeat_timeout_seconds(options.heartbeat_timeout_seconds.map_or(0, seconds))
                .build(),
        );
    }
    if let Some(options) = &update.chained_invoke_options {
        builder = builder.chained_invoke_options(
            aws::ChainedInvokeOptions::builder()
                .function_name(&options.function_name)
                .set_tenant_id(options.tenant_id.clone())
                .build()
                .map_err(|e| ConversionError(e.to_string()))?,
        );
    }
    builder.build().map_err(|e| ConversionError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use durable_core::model::{OperationAction, OperationStatus, OperationType, WaitOptions};

    use super::*;

    #[test]
    fn operations_keep_their_fields() {
        let aws_op = aws::Operation::builder()
            .id("s1")
            .name("greet")
            .r#type(aws::OperationType::Step)
            .sub_type("Step")
            .status(aws::OperationStatus::Succeeded)
            .start_timestamp(DateTime::from_millis(1_795_817_380_830))
            .step_details(
                aws::StepDetails::builder()
                    .attempt(2)
                    .result("\"hello\"")
                    .build(),
            )
            .build()
            .unwrap();
        let op = operation_from_aws(&aws_op).unwrap();
        assert_eq!(op.operation_type, OperationType::Step);
        assert_eq!(op.status, OperationStatus::Succeeded);
        assert_eq!(
            op.start_timestamp,
            Timestamp::from_millis(1_795_817_380_830)
        );
        assert_eq!(op.result(), Some("\"hello\""));
        assert_eq!(op.step_details.unwrap().attempt, 2);
    }

    #[test]
    fn updates_keep_their_options() {
        let mut update = OperationUpdate::new("w1", OperationType::Wait, OperationAction::Start);
        update.wait_options = Some(WaitOptions { wait_seconds: 5 });
        let aws_update = update_to_aws(&update).unwrap();
        assert_eq!(aws_update.id(), "w1");
        assert_eq!(aws_update.r#type(), &aws::OperationType::Wait);
        assert_eq!(aws_update.wait_options().unwrap().wait_seconds(), Some(5));
    }
}
