//! What an execution looks like from outside.

use durable_core::model::{ErrorObject, Event, ExecutionStatus, Operation, OperationType};
use durable_core::service::ExecutionRecord;

/// The state of one execution at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSnapshot {
    /// The execution's ARN.
    pub arn: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// Its result (JSON text), once succeeded.
    pub result: Option<String>,
    /// Its error, once failed, stopped or timed out.
    pub error: Option<ErrorObject>,
    /// Every operation, in first-start order (children of completed
    /// contexts included).
    pub operations: Vec<Operation>,
    /// The history, in the shape of `GetDurableExecutionHistory`.
    pub history: Vec<Event>,
    /// How many invocations ran.
    pub invocations: usize,
}

impl ExecutionSnapshot {
    /// The snapshot of `record`.
    pub fn from_record(record: &ExecutionRecord) -> Self {
        Self {
            arn: record.arn().to_owned(),
            status: record.status(),
            result: record.result().map(str::to_owned),
            error: record.error().cloned(),
            operations: record.operations().to_vec(),
            history: record.history().to_vec(),
            invocations: usize::try_from(record.invocation_count()).unwrap_or(usize::MAX),
        }
    }

    /// Whether the execution has ended.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The operation with this id.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// The first operation with this name.
    pub fn operation_by_name(&self, name: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|op| op.name.as_deref() == Some(name))
    }

    /// The callback id of the first callback operation named `name`.
    pub fn callback_id(&self, name: &str) -> Option<&str> {
        self.operations
            .iter()
            .filter(|op| op.operation_type == OperationType::Callback)
            .find(|op| op.name.as_deref() == Some(name))
            .and_then(|op| op.callback_details.as_ref()?.callback_id.as_deref())
    }
}
