//! Turns `aws-sdk-lambda` failures into [`StoreError`]s.
//!
//! The service names its errors (`InvalidParameterValueException`,
//! `TooManyRequestsException`, ...); emulators such as `dex-local-runner`
//! put the name where the AWS crate does not look, so it reports them as
//! unhandled. Classification therefore falls back to the HTTP status and
//! the message.

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use durable_core::StoreError;

/// The service's message for a token that was used already or never issued.
const STALE_TOKEN_MESSAGE: &str = "invalid checkpoint token";

/// What a failed call says about itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The HTTP status, when a response came back.
    pub status: Option<u16>,
    /// The error code (`TooManyRequestsException`, ...), when known.
    pub code: Option<String>,
    /// The message, when known.
    pub message: String,
}

impl Failure {
    /// What `error` says about itself.
    pub fn of<E, R>(error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + HasStatusAndBody,
    {
        let status = error.raw_response().map(HasStatusAndBody::status);
        let body = error.raw_response().and_then(HasStatusAndBody::body_text);
        let code = error.code().map(str::to_owned).or_else(|| {
            body.as_deref()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                .and_then(|v| v.get("Type").and_then(|t| t.as_str()).map(str::to_owned))
        });
        let message = error
            .message()
            .map(str::to_owned)
            .or(body)
            .unwrap_or_else(|| aws_sdk_lambda::error::DisplayErrorContext(error).to_string());
        Self {
            status,
            code,
            message,
        }
    }

    /// The [`StoreError`] this failure means for `execution_arn`.
    pub fn into_store_error(self, execution_arn: &str) -> StoreError {
        let code = self.code.as_deref().unwrap_or("");
        let stale = self.message.to_lowercase().contains(STALE_TOKEN_MESSAGE);
        match self.status {
            _ if stale => StoreError::StaleToken {
                execution_arn: execution_arn.to_owned(),
            },
            Some(429) => StoreError::Throttled,
            _ if code.contains("TooManyRequests") => StoreError::Throttled,
            Some(404) => StoreError::NotFound {
                execution_arn: execution_arn.to_owned(),
            },
            _ if code.contains("ResourceNotFound") => StoreError::NotFound {
                execution_arn: execution_arn.to_owned(),
            },
            // Other client errors will fail again: the batch breaks a rule.
            Some(status) if (400..500).contains(&status) => StoreError::Rejected {
                message: format!("{code} (HTTP {status}): {}", self.message),
            },
            status => StoreError::Backend {
                message: match status {
                    Some(status) => format!("{code} (HTTP {status}): {}", self.message),
                    None => self.message,
                },
                retryable: true,
                source: None,
            },
        }
    }
}

/// Access to the raw response of a failed call.
pub(crate) trait HasStatusAndBody {
    /// The HTTP status.
    fn status(&self) -> u16;
    /// The body, when it is text already in memory.
    fn body_text(&self) -> Option<String>;
}

impl HasStatusAndBody for aws_sdk_lambda::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }

    fn body_text(&self) -> Option<String> {
        self.body()
            .bytes()
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: Option<u16>, code: Option<&str>, message: &str) -> StoreError {
        Failure {
            status,
            code: code.map(str::to_owned),
            message: message.to_owned(),
        }
        .into_store_error("arn")
    }

    #[test]
    fn stale_tokens_are_recognised_in_either_case() {
        for message in ["Invalid checkpoint token", "Invalid Checkpoint Token: used"] {
            assert!(matches!(
                failure(Some(400), Some("InvalidParameterValueException"), message),
                StoreError::StaleToken { .. }
            ));
        }
    }

    #[test]
    fn throttling_is_retryable_and_client_errors_are_not() {
        let throttled = failure(Some(429), None, "slow down");
        assert!(matches!(throttled, StoreError::Throttled));
        assert!(throttled.is_retryable());
        let rejected = failure(Some(400), Some("InvalidParameterValueException"), "bad");
        assert!(matches!(rejected, StoreError::Rejected { .. }));
        assert!(!rejected.is_retryable());
        assert!(failure(Some(503), None, "down").is_retryable());
        assert!(failure(None, None, "connection refused").is_retryable());
    }
}
