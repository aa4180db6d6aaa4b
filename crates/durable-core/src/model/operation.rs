//! Operation records: what the service remembers about each durable operation.

use serde::{Deserialize, Serialize};

use super::{OperationStatus, OperationSubType, OperationType, Timestamp};

/// An error as the service stores it. Every member is optional on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Machine-readable type, such as `StepError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Extra data, usually JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack frames, if the producer sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

impl ErrorObject {
    /// An error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_message: Some(message.into()),
            error_type: Some(error_type.into()),
            error_data: None,
            stack_trace: None,
        }
    }
}

/// One durable operation as recorded by the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Operation {
    /// Unique id within the execution.
    pub id: String,
    /// The enclosing context, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// User-given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind of operation.
    #[serde(rename = "Type")]
    pub operation_type: OperationType,
    /// The SDK construct behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<OperationSubType>,
    /// When it started.
    pub start_timestamp: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    /// Current state.
    pub status: OperationStatus,
    /// For `EXECUTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_details: Option<ExecutionDetails>,
    /// For `CONTEXT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_details: Option<ContextDetails>,
    /// For `STEP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_details: Option<StepDetails>,
    /// For `WAIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_details: Option<WaitDetails>,
    /// For `CALLBACK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_details: Option<CallbackDetails>,
    /// For `CHAINED_INVOKE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke_details: Option<ChainedInvokeDetails>,
}

impl Operation {
    /// A bare record with no details.
    pub fn new(
        id: impl Into<String>,
        operation_type: OperationType,
        status: OperationStatus,
        start: Timestamp,
    ) -> Self {
        Self {
            id: id.into(),
            parent_id: None,
            name: None,
            operation_type,
            sub_type: None,
            start_timestamp: start,
            end_timestamp: None,
            status,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        }
    }

    /// The recorded result payload, whatever the operation type.
    pub fn result(&self) -> Option<&str> {
        match self.operation_type {
            OperationType::Step => self.step_details.as_ref()?.result.as_deref(),
            OperationType::Context => self.context_details.as_ref()?.result.as_deref(),
            OperationType::Callback => self.callback_details.as_ref()?.result.as_deref(),
            OperationType::ChainedInvoke => self.chained_invoke_details.as_ref()?.result.as_deref(),
            OperationType::Execution | OperationType::Wait => None,
        }
    }

    /// The recorded error, whatever the operation type.
    pub fn error(&self) -> Option<&ErrorObject> {
        match self.operation_type {
            OperationType::Step => self.step_details.as_ref()?.error.as_ref(),
            OperationType::Context => self.context_details.as_ref()?.error.as_ref(),
            OperationType::Callback => self.callback_details.as_ref()?.error.as_ref(),
            OperationType::ChainedInvoke => self.chained_invoke_details.as_ref()?.error.as_ref(),
            OperationType::Execution | OperationType::Wait => None,
        }
    }
}

/// Details of the `EXECUTION` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionDetails {
    /// The execution's input, as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<String>,
}

/// Details of a `CONTEXT` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextDetails {
    /// The result was too large to store: children are replayed to rebuild it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
    /// Serialized result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error, when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// Details of a `STEP` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDetails {
    /// Attempts closed so far (by RETRY, SUCCEED or FAIL).
    #[serde(default)]
    pub attempt: u32,
    /// When a PENDING step becomes READY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_timestamp: Option<Timestamp>,
    /// Serialized result (or carried state of `wait_for_condition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error of the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// Details of a `WAIT` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitDetails {
    /// When the wait ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
}

/// Details of a `CALLBACK` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackDetails {
    /// The id external systems use to complete the callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// The raw result sent by the external system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error, when failed or timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// Details of a `CHAINED_INVOKE` operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeDetails {
    /// Serialized result of the invoked execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error of the invoked execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}
