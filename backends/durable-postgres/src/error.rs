//! Errors: connecting to a database, and database failures as
//! [`PersistenceError`]s.

use durable_runtime::PersistenceError;

/// Why a database could not be connected to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a valid `postgres:` URL.
    #[error("invalid PostgreSQL URL {url:?}: {source}")]
    InvalidUrl {
        /// The URL given, without its password.
        url: String,
        /// Why it is invalid.
        #[source]
        source: sqlx::Error,
    },
    /// A pool setting in the URL's query is not a whole number in range.
    #[error("invalid pool setting {setting:?} in PostgreSQL URL {url:?}")]
    InvalidSetting {
        /// The URL given, without its password.
        url: String,
        /// The setting, `key=value`.
        setting: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL database {location}: {source}")]
    Connect {
        /// Host, port and database.
        location: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate PostgreSQL database {location}: {source}")]
    Migrate {
        /// Host, port and database.
        location: String,
        /// The underlying error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// Whether SQLSTATE `code` says trying again may succeed: a serialization
/// failure or deadlock (class 40), a connection exception (class 08), the
/// server shutting down or starting (57P01-57P03), too many connections
/// (53300) or a lock timeout (55P03).
fn is_retryable_state(code: &str) -> bool {
    code.starts_with("40")
        || code.starts_with("08")
        || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "55P03")
}

/// Whether trying again later may succeed.
fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database.code().is_some_and(|c| is_retryable_state(&c)),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// A database failure while doing `what`.
pub(crate) fn backend(what: impl Into<String>, error: sqlx::Error) -> PersistenceError {
    let retryable = is_retryable(&error);
    let what = what.into();
    tracing::debug!(%error, retryable, "{what} failed");
    PersistenceError::backend(what, retryable, error)
}

/// Whether `error` is a violated unique or primary key constraint.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_retryable_and_bad_rows_are_not() {
        for code in ["40001", "40P01", "08006", "57P01", "53300"] {
            assert!(is_retryable_state(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02"] {
            assert!(!is_retryable_state(code), "{code}");
        }
        assert!(is_retryable(&sqlx::Error::PoolTimedOut));
        assert!(!is_retryable(&sqlx::Error::RowNotFound));
        let error = backend("loading x", sqlx::Error::PoolTimedOut);
        assert!(matches!(
            error,
            PersistenceError::Backend {
                retryable: true,
                ..
            }
        ));
    }
}
