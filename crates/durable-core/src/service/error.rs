//! Why a service rule refused a request.

use crate::model::OperationStatus;
use crate::store::StoreError;

/// Why the service refused a request. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The checkpoint token is not the current one of a running invocation.
    #[error(
        "invalid checkpoint token for execution {execution_arn}: it was already used or belongs to another invocation"
    )]
    StaleToken {
        /// The execution.
        execution_arn: String,
    },
    /// No such execution.
    #[error("execution {execution_arn} not found")]
    ExecutionNotFound {
        /// The execution.
        execution_arn: String,
    },
    /// The execution has ended (or its result is already recorded).
    #[error("execution {execution_arn} has already ended")]
    ExecutionEnded {
        /// The execution.
        execution_arn: String,
    },
    /// One update of a checkpoint batch breaks the rules; the batch was not applied.
    #[error("invalid update #{index} (Id {operation_id:?}): {message}")]
    InvalidUpdate {
        /// Position of the update in the batch, from 0.
        index: usize,
        /// The update's operation id.
        operation_id: String,
        /// What rule it breaks.
        message: String,
    },
    /// A state page marker that this service did not issue.
    #[error("invalid page marker {marker:?}")]
    InvalidMarker {
        /// The marker.
        marker: String,
    },
    /// An invocation is already running for the execution.
    #[error("an invocation of execution {execution_arn} is already running")]
    InvocationInProgress {
        /// The execution.
        execution_arn: String,
    },
    /// No invocation of the execution is running.
    #[error("no invocation of execution {execution_arn} is running")]
    NoActiveInvocation {
        /// The execution.
        execution_arn: String,
    },
    /// No callback has this id.
    #[error("callback {callback_id:?} not found")]
    CallbackNotFound {
        /// The callback id.
        callback_id: String,
    },
    /// The callback has already completed, failed or timed out.
    #[error("callback {callback_id:?} is not active (status {status})")]
    CallbackNotActive {
        /// The callback id.
        callback_id: String,
        /// Its status.
        status: OperationStatus,
    },
    /// No operation has this id, or it is of another type.
    #[error("operation {operation_id:?} not found in execution {execution_arn}")]
    OperationNotFound {
        /// The execution.
        execution_arn: String,
        /// The operation id.
        operation_id: String,
    },
    /// The operation is not in a state that allows the request.
    #[error("operation {operation_id:?} is not active (status {status})")]
    OperationNotActive {
        /// The operation id.
        operation_id: String,
        /// Its status.
        status: OperationStatus,
    },
    /// A payload is larger than the configured limit.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl From<ServiceError> for StoreError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::StaleToken { execution_arn } => Self::StaleToken { execution_arn },
            ServiceError::ExecutionNotFound { execution_arn } => Self::NotFound { execution_arn },
            ServiceError::ExecutionEnded { execution_arn } => {
                Self::ExecutionEnded { execution_arn }
            }
            other => Self::Rejected {
                message: other.to_string(),
            },
        }
    }
}
