//! The `SQLite` backend of the self-hosted durable execution service: the
//! embedded default.
//!
//! [`SqlitePersistence`] implements [`durable_runtime::Persistence`] on one
//! database file (by default [`DEFAULT_PATH`], `durable.db`), in WAL mode
//! with a busy timeout and foreign keys on. Its schema comes from the
//! versioned migrations in `migrations/`, applied when the file is opened.
//!
//! - Every commit is one transaction, fenced by the execution's version:
//!   `UPDATE executions … WHERE arn = ? AND version = ?`, then the changed
//!   operations, the new events and the callback ids of the delta. On a
//!   conflict nothing is written.
//! - Claims lease due executions in one statement, by the `due_at` index.
//! - Callback ids are a table of their own, keyed by id.
//!
//! ```no_run
//! # async fn example() -> Result<(), durable_sqlite::OpenError> {
//! use durable_runtime::Service;
//! use durable_sqlite::SqlitePersistence;
//!
//! let service = Service::new(SqlitePersistence::open("durable.db").await?);
//! # drop(service);
//! # Ok(())
//! # }
//! ```

mod codec;
mod config;
mod error;
mod lease;
mod persistence;
mod read;
mod store;
mod write;

pub use config::{DEFAULT_BUSY_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_PATH, SqliteConfig};
pub use error::OpenError;
pub use store::{MIGRATOR, SqlitePersistence};

/// Another name for [`SqlitePersistence`].
pub type SqliteStore = SqlitePersistence;

#[cfg(test)]
mod tests;
