//! The invocation envelope a durable handler receives, and what it returns.

use serde::{Deserialize, Serialize};

use super::{ErrorObject, InvocationStatus, Operation};

/// One page of an execution's operations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionState {
    /// Operations on this page.
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// Marker of the next page; absent or empty when this is the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

impl ExecutionState {
    /// The marker of the next page, if there is one.
    pub fn next_page(&self) -> Option<&str> {
        self.next_marker.as_deref().filter(|m| !m.is_empty())
    }
}

/// The input of one invocation of a durable handler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationInput {
    /// The execution being run.
    pub durable_execution_arn: String,
    /// Token for the first checkpoint of this invocation.
    pub checkpoint_token: String,
    /// The first page of recorded operations.
    #[serde(default)]
    pub initial_execution_state: ExecutionState,
    /// Operations changed while the execution was suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_operation_ids: Option<Vec<String>>,
}

/// What one invocation returns to the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationOutput {
    /// How the invocation ended.
    pub status: InvocationStatus,
    /// The execution's result as a JSON string, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The execution's error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl InvocationOutput {
    /// The handler suspended.
    pub const fn pending() -> Self {
        Self {
            status: InvocationStatus::Pending,
            result: None,
            error: None,
        }
    }

    /// The execution succeeded.
    pub const fn succeeded(result: Option<String>) -> Self {
        Self {
            status: InvocationStatus::Succeeded,
            result,
            error: None,
        }
    }

    /// The execution failed.
    pub const fn failed(error: Option<ErrorObject>) -> Self {
        Self {
            status: InvocationStatus::Failed,
            result: None,
            error,
        }
    }
}
