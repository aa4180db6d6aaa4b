//! Errors of backends and of the service.

use durable_core::StoreError;
use durable_core::service::ServiceError;

/// The error of a boxed underlying cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a [`Persistence`](crate::Persistence) call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistenceError {
    /// The execution changed since the caller loaded it (or, from
    /// `create_execution`, its ARN is taken): nothing was written. Load it
    /// again and re-apply the rule; never resend the same delta.
    #[error("execution {arn} was changed by someone else: it is no longer at version {expected}")]
    Conflict {
        /// The execution.
        arn: String,
        /// The version the caller expected.
        expected: u64,
    },
    /// No execution has this ARN.
    #[error("execution {arn} not found")]
    NotFound {
        /// The execution.
        arn: String,
    },
    /// What is stored for the execution cannot be read back.
    #[error("stored data of execution {arn} is corrupt: {message}")]
    Corrupt {
        /// The execution.
        arn: String,
        /// What is wrong.
        message: String,
    },
    /// A delta that does not fit the stored execution (events that do not
    /// continue the history, an operation moving to another position). A
    /// bug in the caller; nothing was written.
    #[error("invalid delta for execution {arn}: {message}")]
    InvalidDelta {
        /// The execution.
        arn: String,
        /// What does not fit.
        message: String,
    },
    /// A page marker this backend did not issue.
    #[error("invalid page marker {marker:?}")]
    InvalidMarker {
        /// The marker.
        marker: String,
    },
    /// The backend failed (I/O, the database, the network).
    #[error("backend failure: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// Whether trying again later may succeed.
        retryable: bool,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl PersistenceError {
    /// A backend failure caused by `source`.
    pub fn backend(
        message: impl Into<String>,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Backend {
            message: message.into(),
            retryable,
            source: Some(source.into()),
        }
    }
}

/// Why a [`Service`](crate::Service) call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No execution has this ARN.
    #[error("execution {arn} not found")]
    ExecutionNotFound {
        /// The execution.
        arn: String,
    },
    /// No execution has a callback with this id.
    #[error("unknown callback id {callback_id:?}: no execution has a callback with this id")]
    UnknownCallback {
        /// The callback id.
        callback_id: String,
    },
    /// The checkpoint token was already used or belongs to another invocation.
    #[error(
        "stale checkpoint token for execution {arn}: it was already used or belongs to another invocation"
    )]
    StaleToken {
        /// The execution.
        arn: String,
    },
    /// What is stored for the execution cannot be read back; nothing was changed.
    #[error("stored data of execution {arn} is corrupt: {message}")]
    Corrupt {
        /// The execution.
        arn: String,
        /// What is wrong.
        message: String,
    },
    /// Every attempt to commit conflicted with another writer; nothing was
    /// changed. Trying again later may succeed.
    #[error("execution {arn} kept changing: gave up after {attempts} conflicting commits")]
    Contention {
        /// The execution.
        arn: String,
        /// How many commits were tried.
        attempts: u32,
    },
    /// The request itself is invalid (a bad name, input that is not JSON).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// A page marker that was not issued for this listing.
    #[error("invalid page marker {marker:?}")]
    InvalidMarker {
        /// The marker.
        marker: String,
    },
    /// The service rules refused the request (an illegal transition, an
    /// ended execution, a callback that already completed…); nothing was
    /// changed.
    #[error(transparent)]
    Refused(ServiceError),
    /// The backend failed.
    #[error("backend failure: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// Whether trying again later may succeed.
        retryable: bool,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl From<ServiceError> for RuntimeError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::StaleToken { execution_arn } => Self::StaleToken { arn: execution_arn },
            ServiceError::ExecutionNotFound { execution_arn } => {
                Self::ExecutionNotFound { arn: execution_arn }
            }
            ServiceError::CallbackNotFound { callback_id } => Self::UnknownCallback { callback_id },
            ServiceError::InvalidMarker { marker } => Self::InvalidMarker { marker },
            other => Self::Refused(other),
        }
    }
}

impl From<PersistenceError> for RuntimeError {
    fn from(error: PersistenceError) -> Self {
        match error {
            PersistenceError::Conflict { arn, .. } => Self::Contention { arn, attempts: 1 },
            PersistenceError::NotFound { arn } => Self::ExecutionNotFound { arn },
            PersistenceError::Corrupt { arn, message } => Self::Corrupt { arn, message },
            PersistenceError::InvalidMarker { marker } => Self::InvalidMarker { marker },
            PersistenceError::Backend {
                message,
                retryable,
                source,
            } => Self::Backend {
                message,
                retryable,
                source,
            },
            error @ PersistenceError::InvalidDelta { .. } => Self::Backend {
                message: error.to_string(),
                retryable: false,
                source: Some(Box::new(error)),
            },
        }
    }
}

/// How a handler sees a service failure: a stale token or contention is
/// retryable (the service invokes again), a corrupt record is not.
impl From<RuntimeError> for StoreError {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::ExecutionNotFound { arn } => Self::NotFound { execution_arn: arn },
            RuntimeError::StaleToken { arn } => Self::StaleToken { execution_arn: arn },
            RuntimeError::Refused(error) => error.into(),
            RuntimeError::Backend {
                message,
                retryable,
                source,
            } => Self::Backend {
                message,
                retryable,
                source,
            },
            error @ (RuntimeError::Corrupt { .. } | RuntimeError::Contention { .. }) => {
                Self::Backend {
                    message: error.to_string(),
                    retryable: matches!(error, RuntimeError::Contention { .. }),
                    source: Some(Box::new(error)),
                }
            }
            error @ (RuntimeError::UnknownCallback { .. }
            | RuntimeError::InvalidRequest { .. }
            | RuntimeError::InvalidMarker { .. }) => Self::Rejected {
                message: error.to_string(),
            },
        }
    }
}
