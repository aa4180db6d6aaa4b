//! One invocation of a handler, the way a Lambda runtime would run it.

use std::any::Any;
use std::sync::Arc;

use durable_core::invocation::InvocationMeta;
use durable_core::model::ErrorObject;
use durable_core::service::InvocationOutcome;
use durable_core::{CheckpointStore, DurableFunction};
use tokio::task::JoinError;

use super::error::RunnerError;
use crate::memory::MemoryStore;

/// `ErrorType` recorded when the handler panicked (the process would have died).
pub const PANIC_ERROR_TYPE: &str = "Runtime.ExitError";
/// `ErrorType` recorded when the invocation returned an error.
pub const INVOCATION_ERROR_TYPE: &str = "Runtime.InvocationError";

/// Runs one invocation of `function` for `arn` in its own task and records
/// how it ended. A panic or an invocation error is a failed invocation.
pub(crate) async fn invoke_once(
    store: &Arc<MemoryStore>,
    function: DurableFunction,
    arn: &str,
) -> Result<(), RunnerError> {
    let request_id = new_request_id();
    let envelope = store.begin_invocation(arn, &request_id)?;
    let checkpoints: Arc<dyn CheckpointStore> = store.clone();
    let meta = InvocationMeta::with_request_id(request_id);
    let task = tokio::spawn(async move {
        durable_core::invocation::run_with(&function, envelope, checkpoints, &meta).await
    });
    let outcome = match task.await {
        Ok(Ok(output)) => InvocationOutcome::Returned(output),
        Ok(Err(error)) => {
            InvocationOutcome::Failed(ErrorObject::new(INVOCATION_ERROR_TYPE, error.to_string()))
        }
        Err(error) => {
            InvocationOutcome::Failed(ErrorObject::new(PANIC_ERROR_TYPE, join_message(error)))
        }
    };
    store.complete_invocation(arn, outcome)?;
    Ok(())
}

fn join_message(error: JoinError) -> String {
    if error.is_panic() {
        format!(
            "the handler panicked: {}",
            panic_message(&*error.into_panic())
        )
    } else {
        "the invocation was cancelled".to_owned()
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// A random request id shaped like a UUID.
pub(crate) fn new_request_id() -> String {
    let high: u64 = rand::random();
    let low: u64 = rand::random();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}
