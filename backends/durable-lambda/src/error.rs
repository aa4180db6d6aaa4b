//! Errors of the Lambda entry point.

use durable_core::InvocationError;

/// Why an invocation could not produce an output for the service.
///
/// Returned to Lambda as a function error, so the durable service retries
/// the invocation (an output of FAILED would end the execution instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LambdaError {
    /// The event is not a durable invocation envelope.
    #[error(
        "unexpected payload provided to start the durable execution: {0}. \
         Check your resource configurations"
    )]
    InvalidEnvelope(String),
    /// The invocation failed (a stale checkpoint token, throttling, an
    /// unreachable service); another invocation may succeed.
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    /// The output could not be serialized.
    #[error("cannot serialize the invocation output: {0}")]
    Output(#[from] serde_json::Error),
}

impl LambdaError {
    /// The error type Lambda reports for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidEnvelope(_) => "InvalidEnvelopeError",
            Self::Invocation(InvocationError::Checkpoint(
                durable_core::StoreError::StaleToken { .. },
            )) => "StaleCheckpointTokenError",
            Self::Invocation(_) => "InvocationError",
            Self::Output(_) => "OutputSerializationError",
        }
    }
}

/// How Lambda reports the error: `errorType` and `errorMessage`.
impl From<LambdaError> for lambda_runtime::Diagnostic {
    fn from(error: LambdaError) -> Self {
        Self {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
