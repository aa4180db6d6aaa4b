//! The wire model, serde-compatible with the JSON of the Lambda durable API
//! (`PascalCase` members, `SCREAMING_SNAKE_CASE` enums).

mod enums;
mod envelope;
mod event;
mod operation;
mod timestamp;
mod update;

pub use enums::{
    ExecutionStatus, InvocationStatus, OperationAction, OperationStatus, OperationSubType,
    OperationType,
};
pub use envelope::{ExecutionState, InvocationInput, InvocationOutput};
pub use event::{Event, EventDetails, EventError, EventPayload, EventType, RetryDetails};
pub use operation::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, ExecutionDetails,
    Operation, StepDetails, WaitDetails,
};
pub use timestamp::Timestamp;
pub use update::{
    CallbackOptions, ChainedInvokeOptions, ContextOptions, OperationUpdate, StepOptions,
    WaitOptions,
};

#[cfg(test)]
mod tests;
