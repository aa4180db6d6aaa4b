//! Durable workflows in plain async Rust.
//!
//! A workflow is an ordinary `async fn(input, DurableContext) -> Result<T, DurableError>`.
//! Each durable operation it performs through the [`DurableContext`] is
//! checkpointed; when the execution resumes after a crash, a timer or a
//! callback, the handler runs again and recorded results are replayed instead
//! of redoing the work.
//!
//! This crate holds the SDK and the semantics. Backends implement
//! [`CheckpointStore`]; the self-hosted ones build on [`service`], the
//! service-side rules as pure functions.

pub mod batch;
pub mod condition;
pub mod context;
mod engine;
pub mod error;
mod function;
pub mod invocation;
pub mod logger;
pub mod model;
pub mod plugin;
pub mod retry;
pub mod serdes;
pub mod service;
pub mod store;

pub use condition::{WaitDecision, WaitPolicy, WaitStrategy};
pub use context::{DurableContext, StepContext};
pub use error::{DurableError, ErrorKind, InvocationError};
pub use function::DurableFunction;
pub use logger::{LogLevel, Logger, LoggerConfig};
pub use retry::{Jitter, RetryDecision, RetryPolicy, RetryStrategy, StepSemantics};
pub use serdes::{JsonSerdes, Serdes, SerdesContext};
pub use store::{CheckpointResponse, CheckpointStore, StoreError};
