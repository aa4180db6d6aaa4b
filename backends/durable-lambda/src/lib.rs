//! Durable handlers on AWS Lambda's durable execution API.
//!
//! [`run`] serves a [`DurableFunction`](durable_core::DurableFunction) on the
//! Lambda runtime: each invocation reads the durable envelope
//! ([`parse_envelope`]), replays and runs the handler, checkpoints through
//! [`LambdaStore`] (`CheckpointDurableExecution`, `GetDurableExecutionState`)
//! and answers SUCCEEDED, FAILED or PENDING.
//!
//! With the `testing` feature, [`testing`] runs handlers end to end against
//! `dex-local-runner`, AWS's local emulator of the durable API.

mod classify;
mod convert;
mod envelope;
mod error;
mod handler;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use convert::ConversionError;
pub use envelope::parse_envelope;
pub use error::LambdaError;
pub use handler::{handle_event, run};
pub use store::{CallCounter, LambdaStore, MAX_OPERATION_PAYLOAD_BYTES};
