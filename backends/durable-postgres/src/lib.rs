//! The `PostgreSQL` backend of the self-hosted durable execution service:
//! many workers sharing one database.
//!
//! [`PostgresPersistence`] implements [`durable_runtime::Persistence`] on a
//! `PostgreSQL` database through a connection pool. Its schema comes from
//! the versioned migrations in `migrations/` (plain tables mirroring the
//! `SQLite` backend), applied on [`connect`](PostgresPersistence::connect).
//!
//! - Every commit is one statement, so one round trip in autocommit: a
//!   fenced `UPDATE executions … WHERE arn = $1 AND version = $n …
//!   RETURNING` CTE that the batched operation upsert, event insert and
//!   callback index (`UNNEST` arrays) depend on through `WHERE EXISTS`.
//!   When the fence matches no row nothing is written (a conflict); when a
//!   part does not fit, the whole statement is undone.
//! - Wake-ups: writes that make an execution due from outside (a start,
//!   a completed callback) `NOTIFY` [`WAKE_CHANNEL`] in the same
//!   statement, and workers `LISTEN` on it
//!   ([`Persistence::wake_ups`](durable_runtime::Persistence::wake_ups))
//!   to claim at once instead of at their next poll. Checkpoints never
//!   notify; polling stays the fallback.
//! - Claims lease due executions in one statement, the earliest due first,
//!   skipping rows another claim holds (`FOR UPDATE SKIP LOCKED`).
//! - Serialization failures, deadlocks and lost connections are retryable
//!   [`PersistenceError::Backend`](durable_runtime::PersistenceError)s;
//!   unreadable rows are `Corrupt`, naming the execution and the part.
//!
//! ```no_run
//! # async fn example() -> Result<(), durable_postgres::ConnectError> {
//! use durable_postgres::PostgresPersistence;
//! use durable_runtime::Service;
//!
//! let store = PostgresPersistence::connect("postgres://postgres@127.0.0.1/durable").await?;
//! let service = Service::new(store);
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
mod wake;
mod write;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_LIFETIME,
    PostgresConfig,
};
pub use error::ConnectError;
pub use store::{MIGRATOR, PostgresPersistence};
pub use wake::WAKE_CHANNEL;

/// Another name for [`PostgresPersistence`].
pub type PostgresStore = PostgresPersistence;

#[cfg(test)]
mod tests;
