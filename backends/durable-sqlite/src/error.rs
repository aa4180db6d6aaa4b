//! Errors: opening a database, and database failures as
//! [`PersistenceError`]s.

use durable_runtime::PersistenceError;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The location is neither a path nor a valid `sqlite:` URL.
    #[error("invalid SQLite database location {location:?}: {source}")]
    InvalidLocation {
        /// The location given.
        location: String,
        /// Why it is invalid.
        #[source]
        source: sqlx::Error,
    },
    /// The database file could not be opened or created.
    #[error("cannot open SQLite database {location:?}: {source}")]
    Connect {
        /// The location given.
        location: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate SQLite database {location:?}: {source}")]
    Migrate {
        /// The location given.
        location: String,
        /// The underlying error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// `SQLITE_BUSY` and `SQLITE_LOCKED`, the primary result codes of a database
/// another connection holds.
const BUSY: i32 = 5;
const LOCKED: i32 = 6;

/// Whether trying again later may succeed: the database was busy or locked,
/// the pool had no free connection in time, or I/O failed.
fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, BUSY | LOCKED)),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// A database failure while doing `what`.
pub(crate) fn backend(what: impl Into<String>, error: sqlx::Error) -> PersistenceError {
    let retryable = is_retryable(&error);
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
    fn pool_timeouts_are_retryable_and_bad_rows_are_not() {
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
