//! Errors seen by workflow code and by the runtimes that drive it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::model::ErrorObject;
use crate::store::StoreError;

/// The error type of durable handlers and operations.
///
/// Any `std::error::Error` converts into it with `?`, keeping its type name
/// (`std::any::type_name`) as the recorded `ErrorType`. Errors returned by
/// durable operations are rebuilt from what was recorded, so the first run
/// and every replay see the same value.
///
/// It deliberately does not implement `std::error::Error` itself, so that the
/// blanket conversion from every error type can exist (as with `anyhow`).
#[derive(Clone)]
pub struct DurableError {
    kind: ErrorKind,
    error_type: Cow<'static, str>,
    message: String,
    data: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Where a [`DurableError`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Raised by workflow code.
    Application,
    /// A step failed for good (retries exhausted or not retryable).
    Step,
    /// An at-most-once step was interrupted before it recorded an outcome.
    StepInterrupted,
    /// A child context failed.
    ChildContext,
    /// A callback failed or timed out.
    Callback,
    /// A chained invoke failed.
    Invoke,
    /// A `wait_for_condition` failed.
    WaitForCondition,
    /// Replay found recorded operations that differ from what the code does.
    NonDeterministic,
    /// A value could not be serialized or deserialized.
    Serdes,
    /// The options given to an operation are invalid.
    InvalidConfig,
    /// The service rejected a checkpoint (an illegal transition, a payload
    /// over the size limit).
    CheckpointRejected,
}

impl DurableError {
    /// An application error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with_kind(ErrorKind::Application, error_type.into(), message)
    }

    /// An application error with just a message (`ErrorType` is `Error`).
    pub fn message(message: impl Into<String>) -> Self {
        Self::with_kind(ErrorKind::Application, "Error", message)
    }

    pub(crate) fn with_kind(
        kind: ErrorKind,
        error_type: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            error_type: error_type.into(),
            message: message.into(),
            data: None,
            source: None,
        }
    }

    /// Rebuilds an error from its recorded form.
    pub fn from_error_object(kind: ErrorKind, object: &ErrorObject) -> Self {
        Self {
            kind,
            error_type: Cow::Owned(object.error_type.clone().unwrap_or_else(|| "Error".into())),
            message: object.error_message.clone().unwrap_or_default(),
            data: object.error_data.clone(),
            source: None,
        }
    }

    /// Attaches extra data (recorded as `ErrorData`).
    #[must_use]
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Where the error came from.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The recorded error type: the Rust type name for converted errors.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The message.
    pub fn message_text(&self) -> &str {
        &self.message
    }

    /// Extra data, if any.
    pub fn data(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// The original error, when this value was converted from one in this
    /// attempt. Errors rebuilt from history have none.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The original error as `E`, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref()?.downcast_ref::<E>()
    }

    /// Whether the original error was an `E`, judged by the live value or,
    /// for errors rebuilt from history, by the recorded type name.
    pub fn is<E: std::error::Error + 'static>(&self) -> bool {
        self.downcast_ref::<E>().is_some() || self.error_type == std::any::type_name::<E>()
    }

    /// The form recorded in checkpoints and returned to the service.
    pub fn to_error_object(&self) -> ErrorObject {
        ErrorObject {
            error_message: Some(self.message.clone()),
            error_type: Some(self.error_type.clone().into_owned()),
            error_data: self.data.clone(),
            stack_trace: None,
        }
    }

    /// The same error rebuilt as a failure of a `kind` operation.
    pub(crate) fn rebuilt_as(&self, kind: ErrorKind) -> Self {
        Self::from_error_object(kind, &self.to_error_object())
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for DurableError {
    fn from(error: E) -> Self {
        Self {
            kind: ErrorKind::Application,
            error_type: Cow::Borrowed(std::any::type_name::<E>()),
            message: error.to_string(),
            data: None,
            source: Some(Arc::new(error)),
        }
    }
}

impl fmt::Debug for DurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableError")
            .field("kind", &self.kind)
            .field("error_type", &self.error_type)
            .field("message", &self.message)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// Why an invocation could not produce an outcome. The service should invoke
/// again (Lambda does so when a handler returns an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvocationError {
    /// The envelope is unusable.
    #[error("unexpected payload provided to start the durable execution: {0}")]
    InvalidEnvelope(String),
    /// A checkpoint or state call failed.
    #[error("checkpoint failed: {0}")]
    Checkpoint(#[from] StoreError),
}
