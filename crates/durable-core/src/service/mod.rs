//! The service-side rules as pure functions.
//!
//! An [`ExecutionRecord`] is everything a self-hosted service knows about one
//! execution: its operations, its history, its checkpoint token, its timers.
//! The rules change it in place and never read a clock or do I/O: the time is
//! always a `now` parameter. Every self-hosted backend (memory, `SQLite`,
//! Postgres, `DynamoDB`) loads a record, applies a rule and stores the record,
//! so they all share one set of semantics:
//!
//! - [`ExecutionRecord::start`]: a new execution and its `ExecutionStarted` event.
//! - [`ExecutionRecord::begin_invocation`] / [`ExecutionRecord::complete_invocation`]:
//!   the invocation envelope and a fresh token; `InvocationCompleted` and how
//!   the execution goes on.
//! - [`ExecutionRecord::checkpoint`] / [`ExecutionRecord::state`]: the
//!   running invocation's batches (validated whole, applied atomically) and
//!   state pages.
//! - [`ExecutionRecord::fire_due`], [`ExecutionRecord::next_wake_up`],
//!   [`ExecutionRecord::needs_invocation`]: timers and scheduling.
//! - [`ExecutionRecord::callback_succeeded`], [`ExecutionRecord::callback_failed`],
//!   [`ExecutionRecord::callback_heartbeat`], [`ExecutionRecord::complete_chained_invoke`],
//!   [`ExecutionRecord::stop`]: changes from outside.
//!
//! Each rule either applies completely or returns a [`ServiceError`] and
//! leaves the record as it was (apart from timers that were due anyway).
//!
//! A backend that stores operations and events as rows writes back only what
//! a rule changed: [`ExecutionRecord::take_changes`] lists it in O(changes),
//! and [`ExecutionRecord::from_parts`] rebuilds a record from an
//! [`ExecutionIdentity`], an [`ExecutionHeader`] and the operations, without
//! reading the history.

mod apply;
mod checkpoint;
mod config;
mod error;
mod events;
mod external;
mod ids;
mod invocation;
mod oplog;
mod parts;
mod record;
mod timers;
mod validate;
mod visibility;

pub use config::ServiceConfig;
pub use error::ServiceError;
pub use external::ChainedInvokeResult;
pub use ids::{
    CallbackRef, execution_arn, execution_operation_id, new_execution_id, parse_callback_id,
};
pub use invocation::{
    InvocationOutcome, NOTHING_PENDING_ERROR, RESULT_TOO_LARGE_ERROR, UNKNOWN_FAILURE_ERROR,
};
pub use parts::{
    ChangedOperation, ExecutionHeader, ExecutionIdentity, InconsistentRecord, RecordChanges,
};
pub use record::{ActiveInvocation, ChainedInvokeRequest, ExecutionRecord, NewExecution};
pub use timers::{
    CALLBACK_HEARTBEAT_ERROR, CALLBACK_TIMEOUT_ERROR, EXECUTION_TIMEOUT_ERROR, ScheduledTimer,
    TimerKind,
};
pub use validate::{
    EXECUTION_RESULT_ID_PREFIX, MAX_DELAY_SECONDS, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_SUB_TYPE_CHARS,
};

#[cfg(test)]
mod tests;
