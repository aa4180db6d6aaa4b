//! [`CliError`]: every way a command fails, worded for the person at the
//! terminal.

use std::error::Error as _;
use std::process::ExitCode;

use durable_runtime::RuntimeError;
use durable_sqlite::OpenError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--database` names a backend this build does not support.
    #[error(
        "unsupported database {url:?}: only SQLite is supported for now (a `sqlite:` URL or a file path)"
    )]
    UnsupportedDatabase {
        /// The URL given.
        url: String,
    },
    /// `--database` names a directory.
    #[error("cannot open database {location:?}: it is a directory, not a SQLite database file")]
    DatabaseIsDirectory {
        /// The location given.
        location: String,
    },
    /// The database could not be opened or prepared.
    #[error(
        "cannot open database {location:?}: {reason} (does its directory exist, and may you write there?)"
    )]
    Open {
        /// The location given.
        location: String,
        /// The underlying cause, in words.
        reason: String,
        /// The underlying error.
        #[source]
        source: Box<OpenError>,
    },
    /// No execution has this ARN.
    #[error("no execution with ARN {arn:?} in this database")]
    UnknownExecution {
        /// The ARN given.
        arn: String,
    },
    /// No execution has a callback with this id.
    #[error(
        "unknown callback id {callback_id:?}: no execution in this database has a callback with this id"
    )]
    UnknownCallback {
        /// The callback id given.
        callback_id: String,
    },
    /// `--input` is not JSON.
    #[error("--input is not valid JSON: {reason}")]
    BadInput {
        /// What the JSON parser said.
        reason: String,
    },
    /// `--status` is not an execution status.
    #[error("unknown status {status:?}: expected RUNNING, SUCCEEDED, FAILED, TIMED_OUT or STOPPED")]
    BadStatus {
        /// The status given.
        status: String,
    },
    /// The service refused or failed the request.
    #[error(transparent)]
    Runtime(Box<RuntimeError>),
    /// Output could not be produced.
    #[error("cannot write JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<RuntimeError> for CliError {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::ExecutionNotFound { arn } => Self::UnknownExecution { arn },
            RuntimeError::UnknownCallback { callback_id } => Self::UnknownCallback { callback_id },
            other => Self::Runtime(Box::new(other)),
        }
    }
}

impl CliError {
    /// The message, followed by the underlying causes it does not already
    /// mention.
    pub fn report(&self) -> String {
        let mut report = self.to_string();
        if matches!(self, Self::Open { .. }) {
            // The message already ends with the innermost cause.
            return report;
        }
        let mut cause = self.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !report.contains(&text) {
                report.push_str("\n  caused by: ");
                report.push_str(&text);
            }
            cause = error.source();
        }
        report
    }

    /// The process exit code: 2 for things the user typed wrong, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::UnsupportedDatabase { .. }
            | Self::BadInput { .. }
            | Self::BadStatus { .. }
            | Self::UnknownExecution { .. }
            | Self::UnknownCallback { .. } => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

/// The innermost cause of `error`, in words: what a user can act on.
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}
