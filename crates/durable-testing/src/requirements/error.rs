//! Errors of the requirements harness.

use std::path::PathBuf;

/// Something went wrong while loading, running or reporting requirements.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A requirement file is not valid YAML.
    #[error("{}: invalid YAML: {source}", path.display())]
    Yaml {
        /// The requirement file.
        path: PathBuf,
        /// What the YAML parser said.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// A requirement file is valid YAML but not a valid requirement.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The requirement file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The backend failed to start or drive an execution.
    #[error("{context}: {source}")]
    Backend {
        /// What the harness was doing.
        context: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A report could not be serialized.
    #[error("cannot serialize the report: {0}")]
    Json(#[from] serde_json::Error),
}

impl HarnessError {
    /// A backend error, with what the harness was doing when it happened.
    pub fn backend(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}
