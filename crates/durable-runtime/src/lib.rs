//! The self-hosted durable execution service.
//!
//! On AWS Lambda the platform stores checkpoints and decides when to invoke
//! a handler again. Everywhere else this crate does, once for every backend:
//!
//! - [`Persistence`] is the small seam a backend (memory, `SQLite`, Postgres,
//!   `DynamoDB`) implements: create an execution, load it, commit the delta
//!   of one transition atomically if its version still matches (fencing),
//!   claim due executions with a lease, find an execution by callback id,
//!   list executions and page through a history.
//! - [`Service`] puts the service rules of [`durable_core::service`] on top:
//!   it implements [`CheckpointStore`](durable_core::CheckpointStore) for
//!   handlers and the management API (start, invocations, callbacks, stop,
//!   describe, list, history, timers).
//! - [`Worker`] claims due executions and runs their handlers through
//!   the invocation path of [`driver`], with leases, takeover of lost
//!   invocations, chained invokes and graceful shutdown.
//! - [`MemoryPersistence`] is the reference backend, for tests.
//!
//! With the `kit` feature, [`kit`] holds the conformance tests every
//! backend runs against itself.

mod clock;
pub mod codec;
mod delta;
pub mod driver;
mod error;
pub mod memory;
mod persistence;
pub mod service;
pub mod worker;

#[cfg(any(test, feature = "kit"))]
pub mod kit;

pub use clock::{Clock, SystemClock};
pub use delta::{
    Created, Creation, Delta, ExecutionSummary, ListFilter, Page, StoredExecution, due_at,
};
pub use error::{PersistenceError, RuntimeError};
pub use memory::MemoryPersistence;
pub use persistence::{Persistence, WakeUps};
pub use service::{ExecutionDescription, Schedule, Service, StartExecution};
pub use worker::Worker;
