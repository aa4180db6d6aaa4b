//! Why the local runner could not do what it was asked.

use durable_core::service::ServiceError;

/// Why the local runner could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// No function is registered under this name.
    #[error("no durable function is registered as {function_name:?}")]
    UnknownFunction {
        /// The name asked for.
        function_name: String,
    },
    /// The execution kept running past the invocation limit of one run call.
    #[error("execution {execution_arn} was still running after {limit} invocations")]
    TooManyInvocations {
        /// The execution.
        execution_arn: String,
        /// The limit.
        limit: usize,
    },
    /// The service refused a call (unknown execution, inactive callback, ...).
    #[error(transparent)]
    Service(#[from] ServiceError),
}
