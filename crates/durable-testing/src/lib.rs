//! Testing support for durable workflows: an in-memory [`CheckpointStore`]
//! built on the service rules, a [`LocalRunner`] with a virtual clock, and
//! the requirements harness that runs the language-neutral conformance suite.
//!
//! [`CheckpointStore`]: durable_core::CheckpointStore

pub mod memory;
pub mod requirements;
pub mod runner;

pub use memory::{Clock, MemoryStore, SystemClock, VirtualClock};
pub use runner::{ExecutionSnapshot, LocalRunner, RunnerError};
