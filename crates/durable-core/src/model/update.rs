//! Operation updates: what the SDK asks the service to record.

use serde::{Deserialize, Serialize};

use super::{ErrorObject, OperationAction, OperationSubType, OperationType};

/// One change to one operation, sent in a checkpoint batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationUpdate {
    /// The operation's id.
    pub id: String,
    /// The enclosing context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// User-given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind of operation.
    #[serde(rename = "Type")]
    pub operation_type: OperationType,
    /// SDK construct behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<OperationSubType>,
    /// What to do.
    pub action: OperationAction,
    /// Serialized result or carried state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Error for FAIL or RETRY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// For CONTEXT SUCCEED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_options: Option<ContextOptions>,
    /// For STEP RETRY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_options: Option<StepOptions>,
    /// For WAIT START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_options: Option<WaitOptions>,
    /// For CALLBACK START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_options: Option<CallbackOptions>,
    /// For `CHAINED_INVOKE` START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke_options: Option<ChainedInvokeOptions>,
}

impl OperationUpdate {
    /// A bare update; fill in the rest with the struct fields.
    pub fn new(
        id: impl Into<String>,
        operation_type: OperationType,
        action: OperationAction,
    ) -> Self {
        Self {
            id: id.into(),
            parent_id: None,
            name: None,
            operation_type,
            sub_type: None,
            action,
            payload: None,
            error: None,
            context_options: None,
            step_options: None,
            wait_options: None,
            callback_options: None,
            chained_invoke_options: None,
        }
    }

    /// Approximate size on the wire, for batch limits.
    pub fn wire_size(&self) -> usize {
        let error = self.error.as_ref().map_or(0, |e| {
            e.error_message.as_ref().map_or(0, String::len)
                + e.error_type.as_ref().map_or(0, String::len)
                + e.error_data.as_ref().map_or(0, String::len)
                + e.stack_trace
                    .as_ref()
                    .map_or(0, |s| s.iter().map(String::len).sum())
        });
        200 + self.id.len()
            + self.name.as_ref().map_or(0, String::len)
            + self.payload.as_ref().map_or(0, String::len)
            + error
    }
}

/// Options of a CONTEXT update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextOptions {
    /// Replay the children to rebuild a result too large to store.
    #[serde(default)]
    pub replay_children: bool,
}

/// Options of a STEP RETRY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepOptions {
    /// Seconds until the next attempt (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<u64>,
}

/// Options of a WAIT START.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitOptions {
    /// Length of the wait in seconds (at least 1).
    pub wait_seconds: u64,
}

/// Options of a CALLBACK START. Zero or absent means no timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackOptions {
    /// Overall timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Longest gap between heartbeats in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_seconds: Option<u64>,
}

/// Options of a `CHAINED_INVOKE` START.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeOptions {
    /// The durable function to invoke.
    pub function_name: String,
    /// Tenant the invoked execution runs for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}
