//! The one seam between the SDK and a backend.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{ExecutionState, OperationUpdate};

/// What a checkpoint call returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckpointResponse {
    /// The token for the next call. `None` once the execution has ended.
    pub checkpoint_token: Option<String>,
    /// Operations that changed since the caller last saw them: the ones it
    /// just updated and any the service changed meanwhile (a fired timer, a
    /// retry that became READY, a completed callback).
    pub new_execution_state: ExecutionState,
}

/// Where an execution's checkpoints go.
///
/// # Contract
/// - **Atomicity.** A `checkpoint` call applies all of its updates or none.
/// - **Fencing.** Each token is good for exactly one successful call. A call
///   with any other token fails with [`StoreError::StaleToken`] and changes
///   nothing; that is how two runners of one execution are kept apart.
/// - **Ordering.** Updates apply in the order given; a batch may carry START
///   followed by one closing update for the same STEP or CONTEXT.
/// - **Validation.** Illegal transitions and oversized payloads fail with
///   [`StoreError::Rejected`] and change nothing.
/// - **Deltas.** The response lists every operation changed since the
///   caller's previous call, including changes made by the service.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Records `updates` for `execution_arn` and returns the next token.
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError>;

    /// Reads one page of the execution's visible operations, from `marker`.
    ///
    /// Only the running invocation may read: `checkpoint_token` must be its
    /// current token.
    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError>;
}

#[async_trait]
impl<T: CheckpointStore + ?Sized> CheckpointStore for Arc<T> {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        (**self)
            .checkpoint(execution_arn, checkpoint_token, updates)
            .await
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        (**self)
            .state(execution_arn, checkpoint_token, marker)
            .await
    }
}

#[async_trait]
impl<T: CheckpointStore + ?Sized> CheckpointStore for Box<T> {
    async fn checkpoint(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointResponse, StoreError> {
        (**self)
            .checkpoint(execution_arn, checkpoint_token, updates)
            .await
    }

    async fn state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, StoreError> {
        (**self)
            .state(execution_arn, checkpoint_token, marker)
            .await
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The token was already used or belongs to another invocation.
    #[error("stale checkpoint token for execution {execution_arn}: another invocation owns it now")]
    StaleToken {
        /// The execution.
        execution_arn: String,
    },
    /// No such execution.
    #[error("execution {execution_arn} not found")]
    NotFound {
        /// The execution.
        execution_arn: String,
    },
    /// The updates break the service rules; nothing was recorded.
    #[error("checkpoint rejected: {message}")]
    Rejected {
        /// What rule was broken.
        message: String,
    },
    /// The execution has already ended.
    #[error("execution {execution_arn} has already ended")]
    ExecutionEnded {
        /// The execution.
        execution_arn: String,
    },
    /// The backend asked us to slow down.
    #[error("throttled by the backend")]
    Throttled,
    /// The backend does not support this call.
    #[error("not supported by this backend: {what}")]
    Unsupported {
        /// What is missing.
        what: String,
    },
    /// The backend failed; `retryable` says whether trying again may help.
    #[error("backend error: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// Whether a later try may succeed.
        retryable: bool,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// Whether another invocation may succeed where this one failed
    /// (the service should re-invoke rather than fail the execution).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::StaleToken { .. } | Self::Throttled => true,
            Self::Backend { retryable, .. } => *retryable,
            Self::NotFound { .. }
            | Self::Rejected { .. }
            | Self::ExecutionEnded { .. }
            | Self::Unsupported { .. } => false,
        }
    }
}
